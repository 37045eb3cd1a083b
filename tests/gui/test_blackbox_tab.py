"""The Black box tab on the bundled MNIST models and a real MNIST digit, with tiny budgets:
the query counter is the oracle's count, the plot has one point per query batch, Cancel
returns the window to idle promptly, bad settings give one message, Export writes the CLI's
files, and a tiny label-only steal adds the stolen copy as a model column."""

import json
import time
from pathlib import Path

import pytest
from support import shared_data
from window_support import LONG, add_model, export_and_wait, open_image

from visualizer.gui.dialogs.export_dialog import ExportChoice

ROOT = Path(__file__).resolve().parents[2]
DIGIT = ROOT / "resources" / "samples" / "mnist" / "7_idx0.png"
MNIST = shared_data("mnist")
FASHION = MNIST.parent / "fashion-mnist"


def blackbox(window):
    ws = window.workspace("blackbox")
    window.tabs.setCurrentWidget(ws.page)
    return ws


def set_query(ws, attack="square", oracle="probs", eps="0.3", queries=120, norm="linf"):
    s = ws.setup
    s.attack.setCurrentIndex(s.attack.findData(attack))
    s.norm.setCurrentIndex(s.norm.findData(norm))
    s.eps.setText(eps)
    s.oracle.setText(oracle)
    s.queries.setValue(queries)


def set_steal(ws, queries, query_data, epochs, test_limit, attack_limit, folder):
    """A label-only theft of the selected model, tested on real MNIST; settings checked."""
    s = ws.steal.setup
    s.oracle.setText("label")
    s.queries.setText(queries)
    s.query_data.setText(query_data)
    s.test_data.setText(f"mnist:{MNIST}")
    s.epochs.setValue(epochs)
    s.test_limit.setValue(test_limit)
    s.attack_limit.setValue(attack_limit)
    s.folder.setText(str(folder))
    assert s.problem() is None, s.problem()


def attack_and_wait(qtbot, window, ws):
    finished = []
    ws.runFinished.connect(finished.append)
    window.last_error = None
    ws.attack_button.click()
    qtbot.waitUntil(lambda: bool(finished) and not window.pool.busy(), timeout=LONG)
    assert window.last_error is None, window.last_error
    return window.state.result(window.state.selected, "blackbox").record


@pytest.fixture
def mnist_window(qtbot, window):
    open_image(qtbot, window, DIGIT)
    add_model(qtbot, window, "mnist-standard")
    window.model_list.setCurrentRow(0)
    return window


def test_counter_is_the_oracles_count_and_the_plot_has_a_point_per_query_batch(qtbot, mnist_window):
    ws = blackbox(mnist_window)
    set_query(ws, queries=120)
    record = attack_and_wait(qtbot, mnist_window, ws)
    q = record["queries"]
    assert ws.live.counter.text() == f"Queries: {q['queries']} / 120"      # q["queries"]: the oracle's own count
    assert q["queries"] == q["spent"] and 2 < q["queries"] <= 120
    name = record["model"]["id"]
    assert ws.live.points(name) == record["iterates"] == len(record["history"]["loss"])
    xs, ys = ws.live.curves[name].getData()
    assert list(xs) == record["history"]["queries"] and list(ys) == pytest.approx(record["history"]["loss"])
    assert xs[-1] == q["queries"]
    top5 = ws.live.top5.entries()
    assert [e["class"] for e in top5] == [e["class"] for e in record["adversarial"]["top5_quantized"]][:5]
    assert name in ws.live.outcome.text() and "queries" in ws.live.outcome.text()
    assert ws.attack_button.isEnabled() and not ws.cancel_button.isEnabled()
    # The status bar says how it ended, as for the other tabs' runs (it said nothing once)
    assert mnist_window.statusBar().currentMessage() == f"Black box: {ws.live.outcome.text()}"


def test_an_attack_that_stops_with_budget_left_says_why(qtbot, mnist_window):
    """HopSkipJump with 50 label queries and an eps too small to fool: its next gradient
    estimate does not fit in what is left, and the screen and the record say so."""
    ws = blackbox(mnist_window)
    set_query(ws, attack="hopskipjump", oracle="label", eps="0.004", queries=50)
    record = attack_and_wait(qtbot, mnist_window, ws)
    q = record["queries"]
    assert q["at_success"] is None and q["spent"] < 50
    assert q["stop_reason"] == "too few queries left for another step"
    assert f"not fooled in {q['spent']} queries of 50: too few queries left" in ws.live.outcome.text()


def start_an_endless_attack(qtbot, ws, points):
    """HopSkipJump from labels with a tiny L2 budget (it would spend all 100,000 queries),
    once ``points`` query batches are on the plot."""
    set_query(ws, attack="hopskipjump", oracle="label", norm="l2", eps="0.01", queries=100_000)
    ws.attack_button.click()
    qtbot.waitUntil(lambda: ws.live.points(ws._names[0]) >= points, timeout=LONG)


def test_cancel_returns_the_window_to_idle_promptly(qtbot, mnist_window):
    ws = blackbox(mnist_window)
    start_an_endless_attack(qtbot, ws, 3)
    started = time.perf_counter()
    ws.cancel_button.click()
    qtbot.waitUntil(lambda: not mnist_window.pool.busy(), timeout=LONG)
    assert time.perf_counter() - started < 3.0
    record = mnist_window.state.result(mnist_window.state.selected, "blackbox").record
    assert record["cancelled"] and record["queries"]["spent"] < 100_000
    assert ws.attack_button.isEnabled() and not ws.cancel_button.isEnabled()
    assert not mnist_window.act_cancel.isEnabled() and "cancelled" in ws.live.outcome.text()


def test_removing_the_model_stops_its_attack_and_the_window_goes_idle(qtbot, mnist_window):
    # The attack went on for minutes with the window busy, its result then dropped.
    ws = blackbox(mnist_window)
    start_an_endless_attack(qtbot, ws, 2)
    started = time.perf_counter()
    mnist_window.model_list.setCurrentRow(0)
    mnist_window.remove_selected_model()
    qtbot.waitUntil(lambda: not mnist_window.pool.busy(), timeout=LONG)
    assert time.perf_counter() - started < 5.0 and mnist_window.last_error is None
    assert not ws.cancel_button.isEnabled() and not mnist_window.act_cancel.isEnabled()
    assert "cancelled" in ws.live.outcome.text()


@pytest.mark.parametrize("field,text,message", [
    ("eps", "abc", "Epsilon"),
    ("oracle", "label", "needs scores"),
    ("oracle", "topk:0", "K >= 1"),
    ("defence", "reverse-cosine", "Unknown defence"),
])
def test_bad_query_settings_give_one_message_and_start_nothing(qtbot, mnist_window, field, text, message):
    ws = blackbox(mnist_window)
    getattr(ws.setup, field).setText(text)
    assert message in ws.setup.message.text() and not ws.setup.message.isHidden()
    assert not ws.attack_button.isEnabled()
    mnist_window.run()                                   # Ctrl+R on the tab: one message, no job
    assert message in mnist_window.last_error and not mnist_window.pool.busy()


def test_export_writes_the_files_of_the_cli(qtbot, mnist_window, tmp_path):
    from visualizer.cli import main

    ws = blackbox(mnist_window)
    set_query(ws, queries=60)
    record = attack_and_wait(qtbot, mnist_window, ws)
    gui_dir, cli_dir = tmp_path / "gui", tmp_path / "cli"
    written = export_and_wait(qtbot, mnist_window, ExportChoice(folder=str(gui_dir), png=True, svg=True, pdf=True,
                                                                current_view=False, figure=True, raw=True))
    assert written is not None
    assert main(["attack", "--model", "mnist-standard", "--image", str(DIGIT), "--attack", "square", "--eps", "0.3",
                 "--queries", "60", "--out", str(cli_dir), "--device", "cpu"]) == 0
    assert sorted(p.name for p in gui_dir.iterdir()) == sorted(p.name for p in cli_dir.iterdir())
    cli = json.loads((cli_dir / "result.json").read_text())
    gui = json.loads((gui_dir / "result.json").read_text())
    assert gui["queries"] == cli["queries"] == record["queries"]
    assert gui["history"]["queries"] == cli["history"]["queries"]
    # The current view is the results panel, not the tab with its settings and local paths.
    view_dir = tmp_path / "view"
    assert export_and_wait(qtbot, mnist_window, ExportChoice(folder=str(view_dir), png=True, dpi=96,
                                                             current_view=True, figure=False, raw=False))
    from PIL import Image

    size = Image.open(view_dir / "view.png").size
    assert size == (ws.live.width(), ws.live.height()) and size != (ws.page.width(), ws.page.height())


def test_results_and_settings_survive_a_session(qtbot, mnist_window, tmp_path):
    ws = blackbox(mnist_window)
    set_query(ws, queries=40)
    record = attack_and_wait(qtbot, mnist_window, ws)
    name = record["model"]["id"]
    set_query(ws, attack="nes", eps="8/255", queries=300)
    ws.steal.setup.queries.setText("100,200")
    path = tmp_path / "s.session"
    assert mnist_window.save_session(path)
    set_query(ws, attack="square", eps="0.1", queries=50)
    ws.steal.setup.queries.setText("7")
    ws.live.clear()                     # as in a window just started, where the session is opened
    assert mnist_window.open_session(path)
    qtbot.waitUntil(lambda: not mnist_window.pool.busy(), timeout=LONG)
    ws = blackbox(mnist_window)
    assert ws.setup.attack.currentData() == "nes" and ws.setup.eps.text() == "8/255" and ws.setup.queries.value() == 300
    assert ws.steal.setup.queries.text() == "100,200"
    restored = mnist_window.state.result(mnist_window.state.models[0], "blackbox").record
    assert restored["queries"] == record["queries"] and ws.live.points(name) == record["iterates"]
    # The counter, outcome and top-5 come back with the curve (they read "Queries: –" and
    # "Open an image…" beside a restored curve).
    assert ws.live.counter.text() == f"Queries: {record['queries']['queries']} / 40"
    assert name in ws.live.outcome.text() and "queries" in ws.live.outcome.text()
    assert ws.live.top5.entries()


@pytest.mark.skipif(not (MNIST.is_dir() and FASHION.is_dir()), reason="needs ../shared/data/{mnist,fashion-mnist}")
def test_a_tiny_label_only_steal_fills_the_curve_and_adds_the_copy_as_a_column(qtbot, mnist_window, tmp_path):
    ws = blackbox(mnist_window)
    set_steal(ws, "100,200", f"fashion-mnist:{FASHION}", epochs=1, test_limit=100, attack_limit=10,
              folder=tmp_path / "runs")
    ws.steal.setup.select.setCurrentIndex(ws.steal.setup.select.findData("uncertainty"))
    columns = len(mnist_window.state.models)
    said = []
    mnist_window.statusBar().messageChanged.connect(said.append)
    with qtbot.waitSignal(mnist_window.modelLoaded, timeout=LONG):
        ws.steal.steal_button.click()
    qtbot.waitUntil(lambda: not mnist_window.pool.busy(), timeout=LONG)
    assert mnist_window.last_error is None, mnist_window.last_error
    record = ws.steal.record
    out = Path(record["settings"]["out"])
    on_disk = json.loads((out / "steal.json").read_text())
    assert [p["queries"] for p in on_disk["runs"][0]["points"]] == [100, 200]
    assert on_disk["settings"]["query_select"] == "uncertainty"        # the 100 after the first chosen by the copy
    assert ws.steal.curve.points("none") == [(p["queries"], p["agreement"]) for p in on_disk["runs"][0]["points"]]
    assert len(mnist_window.state.models) == columns + 1
    copy = mnist_window.state.models[-1]
    folder = out / on_disk["runs"][0]["points"][-1]["substitute"]
    assert copy.ready and copy.spec == f"ckpt:{folder / 'model.safetensors'}" and folder.name == "substitute-200"
    assert "white-box" in ws.steal.summary.text() and "fools the victim" in ws.steal.summary.text()
    assert any(m.startswith("Steal: ") and "white-box" in m for m in said), said   # the status bar said how it ended
    export = tmp_path / "export"
    ws.steal.export_to(str(export))
    qtbot.waitUntil(lambda: not mnist_window.pool.busy() and (export / "steal.json").exists(), timeout=LONG)
    assert sorted(p.name for p in export.iterdir()) == sorted(
        ["steal.json", "steal_curve.png", "steal_curve.pdf", "steal_curve.svg"])
    assert json.loads((export / "steal.json").read_text())["runs"] == on_disk["runs"]
    # Export follows every export's rule: the run's own folder (its copies) is named and refused, not written into
    before = sorted(p.name for p in out.iterdir())
    mnist_window.last_error = None
    ws.steal.export_to(str(out), overwrite=True)
    qtbot.waitUntil(lambda: not mnist_window.pool.busy() and mnist_window.last_error is not None, timeout=LONG)
    assert "no earlier run of this tool wrote" in mnist_window.last_error and "would delete it" in mnist_window.last_error
    assert any(f" holds {p.name}" in mnist_window.last_error for p in out.iterdir() if p.is_dir())    # the copies' folder
    assert sorted(p.name for p in out.iterdir()) == before


def test_removing_the_victim_stops_its_theft(qtbot, mnist_window, tmp_path):
    ws = blackbox(mnist_window)
    set_steal(ws, "100,5000", "noise", epochs=3, test_limit=50, attack_limit=5, folder=tmp_path / "runs")
    ws.steal.steal_button.click()
    qtbot.waitUntil(lambda: bool(ws.steal.curve.points("none")), timeout=LONG)     # the 100-query copy is measured
    mnist_window.model_list.setCurrentRow(0)
    mnist_window.remove_selected_model()
    qtbot.waitUntil(lambda: not mnist_window.pool.busy(), timeout=LONG)
    assert mnist_window.last_error is None
    # Stopped: the 5000-query copy was never measured (it used to run to the end).
    record = ws.steal.record
    assert record is not None and record["cancelled"]
    assert [p["queries"] for p in record["runs"][0]["points"]] == [100]
    assert not ws.steal.cancel_button.isEnabled() and not mnist_window.act_cancel.isEnabled()


def test_bad_steal_settings_give_one_message(qtbot, mnist_window):
    ws = blackbox(mnist_window)
    s = ws.steal.setup
    s.select.setCurrentIndex(s.select.findData("uncertainty"))     # chooses among a data set's images
    for edit, text, message in ((s.queries, "500,100", "increasing"), (s.oracle, "probz", "Unknown oracle"),
                                (s.query_data, "", "empty --query-data"), (s.query_data, "noise", "has none")):
        before = edit.text()
        edit.setText(text)
        assert message in s.message.text() and not ws.steal.steal_button.isEnabled()
        assert not ws.steal.start() and message in mnist_window.last_error and not mnist_window.pool.busy()
        edit.setText(before)
    assert s.problem() is None


def test_the_last_settings_come_back_at_the_next_launch(qtbot, mnist_window, settings):
    from visualizer.gui.main_window import MainWindow

    ws = blackbox(mnist_window)
    set_query(ws, eps="0.2", queries=40)
    attack_and_wait(qtbot, mnist_window, ws)
    ws.steal.setup.queries.setText("100,300")
    ws.steal.setup.select.setCurrentIndex(1)
    ws.steal.setup.arch.setCurrentText("no-such-arch")
    assert not ws.steal.start()                   # refused, after its settings were remembered
    again = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(again)
    ws2 = again.workspace("blackbox")
    assert ws2.setup.eps.text() == "0.2" and ws2.setup.queries.value() == 40
    assert ws2.steal.setup.queries.text() == "100,300" and ws2.steal.setup.select.currentData() == "uncertainty"
    again.pool.shutdown()


def test_the_views_svg_draws_the_query_plots_markers_as_shapes(qtbot, mnist_window):
    """pyqtgraph stamps markers from one shared pixmap; Qt's SVG generator ignores the part
    of a pixmap to draw, so every marker showed a slice of the atlas (a hook or a bar)."""
    import re

    from visualizer.gui.view_export import snapshot_now
    from visualizer.gui.view_playback import render_snapshot

    ws = blackbox(mnist_window)
    set_query(ws, queries=60)
    attack_and_wait(qtbot, mnist_window, ws)
    assert ws.live.points(ws._names[0]) >= 3
    svg = render_snapshot(snapshot_now(ws.live), "svg").decode()
    sizes = [(int(w), int(h)) for w, h in re.findall(r'<image [^>]*width="(\d+)" height="(\d+)"', svg)]
    assert sizes and all(max(w, h) > 16 for w, h in sizes), sizes      # panel images only, no marker stamps
