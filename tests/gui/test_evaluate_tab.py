"""The Evaluate tab on the bundled digit models (32x32 grayscale) and real MNIST test images:
a small run through the window equals the core's run with the same settings, Cancel keeps
the finished batches and leaves the window idle, a cell's example opens in the Attack and
Sweep views with the evaluation's result, Export writes the CLI's files, and bad threat
text gives one message."""

import json

import pytest
import torch
from torch import nn

from mnist_support import MNIST_DIR, MNIST_SPEC
from window_support import LONG, add_model

from visualizer.gui.qt import Qt

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs the MNIST files in ../shared/data/mnist")

THREATS = "clean fgsm:linf:0.1 pgd:linf:0.05,0.15:3"


@pytest.fixture
def digits_pair(qtbot, window):
    add_model(qtbot, window, "digits-standard")
    add_model(qtbot, window, "digits-robust")
    return window


def _tab(w):
    return w.workspace("evaluate")


def _set_up(w, threats=THREATS, limit=16, batch=8, seed=3):
    tab = _tab(w)
    w.tabs.setCurrentWidget(tab.page)
    tab.setup.data_edit.setText(MNIST_SPEC)
    tab.setup.limit.setValue(limit)
    tab.setup.batch_size.setValue(batch)
    tab.setup.seed.setValue(seed)
    tab.setup.threats_edit.setText(threats)
    assert tab.setup.problem() is None, tab.setup.problem()
    return tab


def _evaluate(qtbot, w, **kw):
    tab = _set_up(w, **kw)
    w.last_error = None
    with qtbot.waitSignal(tab.runFinished, timeout=LONG):
        w.run(all_models=True)
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert w.last_error is None, w.last_error
    return tab


def _core_run(w, threats, limit, batch, seed):
    """The same evaluation straight through the core, as `visualizer evaluate` runs it."""
    from visualizer.cli.common import drive
    from visualizer.core.data import load_dataset
    from visualizer.core.evaluation import evaluate, parse_threats
    from visualizer.gui.panels.evaluate_setup import split_threats

    models = [e.model for e in w.state.ready_models()]
    data = [load_dataset(MNIST_SPEC, "test", preprocessing=m.info.preprocessing, class_names=m.info.class_names,
                         limit=limit) for m in models]
    return drive(evaluate(models, data, parse_threats(split_threats(threats)), batch_size=batch, seed=seed),
                 lambda _e: None)


def test_the_table_and_curves_equal_the_cores_run(qtbot, digits_pair):
    from visualizer.gui.panels.evaluate_results import cell_text

    w = digits_pair
    tab = _evaluate(qtbot, w)
    core = _core_run(w, THREATS, 16, 8, 3)
    ev = tab.evaluation
    assert ev.complete and ev.examples_done == 16 and tab.table.rowCount() == 2 and tab.table.columnCount() == 4
    for cell in core.summaries():
        m, t = ev.model_ids.index(cell["model"]), [x.text for x in ev.threats].index(cell["threat"])
        assert tab.table.text_at(m, t) == cell_text(cell)
        assert ev.cell_rows(m, t) == core.cell_rows(m, t)
    assert tab.curves.isVisible() and tab.curves.point_count() == 2 * 3     # two models x (clean at 0 + two eps)
    assert "Done: 16 examples" in tab.status_label.text()
    # A cell lists its examples as the record has them.
    tab.table.cellClicked.emit(1, 2)
    rows = core.cell_rows(1, 2)
    assert tab.examples.rowCount() == 16
    assert [tab.examples.item(r, 0).text() for r in range(16)] == [str(i) for i in rows["index"]]
    assert [tab.examples.item(r, 3).text() == "yes" for r in range(16)] == rows["success"]


def test_cancel_keeps_the_finished_batches_and_returns_to_idle(qtbot, digits_pair):
    w = digits_pair
    tab = _set_up(w, threats="pgd:linf:0.1:40", limit=64, batch=8)
    w.run(all_models=True)
    qtbot.waitUntil(lambda: tab.table.text_at(0, 0).endswith("]"), timeout=LONG)     # a batch is in
    qtbot.waitUntil(lambda: "img/s" in w.jobs.progress_label.text() and "ETA" in w.jobs.progress_label.text(),
                    timeout=LONG)
    w.cancel()
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    ev = tab.evaluation
    assert ev is not None and ev.cancelled and not ev.complete
    assert 0 < ev.examples_done < 64 and ev.examples_done % 8 == 0
    assert tab.status_label.text().startswith("Partial (cancelled)")
    assert w.jobs.progress_label.text() == "Cancelled" and not w.jobs.cancel_button.isEnabled()
    assert tab.evaluate_button.isEnabled() and tab.export_button.isEnabled()
    summary = ev.summary(0, 0)
    assert summary["n"] == ev.examples_done and tab.table.text_at(0, 0).startswith(f"{100 * summary['accuracy']:.1f} %")


def _first_row(rows, attack):
    return next(r for r, a in enumerate(rows["attack"]) if a == attack)


def test_an_example_opens_in_the_attack_view_with_the_same_result(qtbot, digits_pair):
    w = digits_pair
    tab = _evaluate(qtbot, w, threats="clean fgsm:linf:0.15", limit=16)
    ev = tab.evaluation
    m = next(m for m in range(2) if "fgsm" in ev.cell_rows(m, 1)["attack"])
    tab.table.cellClicked.emit(m, 1)
    rows = ev.cell_rows(m, 1)
    row = _first_row(rows, "fgsm")
    finished = []
    w.runFinished.connect(finished.append)
    tab.examples.cellClicked.emit(row, 0)
    qtbot.waitUntil(lambda: bool(finished) and not w.pool.busy(), timeout=LONG)
    entry = w.state.ready_models()[m]
    assert w.state.selected is entry and w.tabs.currentWidget() is w.workspace("attack").page
    assert w.state.image.name == f"mnist-test #{rows['index'][row]}"
    record = entry.results["attack"].record
    assert record["parameters"]["method"] == "fgsm" and record["parameters"]["eps"] == pytest.approx(0.15)
    assert record["label"]["class"] == rows["label"][row]
    # FGSM is deterministic: the single image gets the evaluation's outcome.
    assert record["success"] is True
    assert record["adversarial"]["top5"][0]["class"] == rows["prediction"][row]


def test_a_spatial_example_opens_in_the_sweep_view(qtbot, digits_pair):
    w = digits_pair
    tab = _evaluate(qtbot, w, threats="spatial:grid:20:5:2:3", limit=8, batch=8)
    ev = tab.evaluation
    tab.table.cellClicked.emit(0, 0)
    rows = ev.cell_rows(0, 0)
    row = next(r for r, a in enumerate(rows["attack"]) if a != "clean")
    finished = []
    w.runFinished.connect(finished.append)
    tab.examples.cellClicked.emit(row, 0)
    qtbot.waitUntil(lambda: bool(finished) and not w.pool.busy(), timeout=LONG)
    assert w.tabs.currentWidget() is w.workspace("sweep").page
    record = w.state.ready_models()[0].results["sweep"].record
    params = record["parameters"]
    assert (params["rotations"], params["translations"], params["max_rotation"]) == (5, 3, 20)
    # The grid is deterministic: the same verdict as in the evaluation.
    assert record["success"] == rows["success"][row]


def test_export_writes_the_clis_files(qtbot, digits_pair, tmp_path):
    import jsonschema

    from visualizer.core.evaluation.output import per_example_csv
    from visualizer.core.schema import evaluation_schema

    w = digits_pair
    tab = _evaluate(qtbot, w, threats="clean pgd:linf:0.05,0.15:2", limit=8)
    out = tmp_path / "evaluation"
    with qtbot.waitSignal(tab.exported, timeout=LONG) as blocker:
        tab.export_to(out, dpi=60)
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert blocker.args[0] is not None
    record = json.loads((out / "evaluation.json").read_text())
    jsonschema.validate(record, evaluation_schema())
    assert record["complete"] and record["examples"]["done"] == 8 and len(record["results"]) == 2 * 3
    assert (out / "per_example.csv").read_bytes() == per_example_csv(tab.evaluation)
    for stem in ("table", "curves"):
        assert sorted(p.suffix for p in out.glob(f"{stem}.*")) == [".pdf", ".png", ".svg"]
    assert list(out.glob("gallery*.png"))
    assert not [p for p in tmp_path.iterdir() if p.name != "evaluation"]    # no staging folder left
    # A folder that holds files is refused unless replacing was chosen, and is left as it was.
    with qtbot.waitSignal(tab.exported, timeout=LONG) as blocker:
        tab.export_to(out, dpi=60)
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert blocker.args[0] is None and "already holds files" in w.last_error
    assert json.loads((out / "evaluation.json").read_text()) == record


@pytest.mark.parametrize("text, says", [("clean pgd:linf", "pgd:NORM:EPS"), ("fgsm:l3:0.1", "linf or l2"),
                                        ("clean pgd:linf:0.1:zero", "whole number"), ("", "No threat given")])
def test_bad_threat_text_gives_one_message_and_blocks_the_run(qtbot, digits_pair, text, says):
    w = digits_pair
    tab = _set_up(w)
    tab.setup.threats_edit.setText(text)
    problem = tab.setup.problem()
    assert problem and says in problem and "\n" not in problem
    assert tab.setup.message.text() == problem and tab.setup.message.isVisible()
    assert not tab.evaluate_button.isEnabled() and not w.run_all_button.isEnabled()
    tab.setup.threats_edit.setText("clean  pgd:linf:0.1, 0.2:5")       # spaces around the commas are fine
    assert tab.setup.problem() is None and not tab.setup.message.isVisible() and tab.evaluate_button.isEnabled()


def test_a_missing_data_set_gives_one_message_and_the_window_stays_usable(qtbot, digits_pair, tmp_path):
    w = digits_pair
    tab = _set_up(w)
    tab.setup.data_edit.setText(f"mnist:{tmp_path / 'nowhere'}")
    w.run(all_models=True)
    qtbot.waitUntil(lambda: w.last_error is not None and not w.pool.busy(), timeout=LONG)
    assert str(tmp_path / "nowhere") in w.last_error and "Traceback" not in w.last_error
    assert tab.evaluation is None and "failed" in tab.status_label.text() and tab.evaluate_button.isEnabled()


def test_a_session_keeps_the_tabs_choice(qtbot, digits_pair, settings, tmp_path):
    from visualizer.gui.main_window import MainWindow

    w = digits_pair
    tab = _set_up(w, threats="clean pgd:linf:8/255:7", limit=40, batch=10, seed=5)
    tab.setup.split.setCurrentText("train")
    path = tmp_path / "lab.advsession"
    assert w.save_session(path)
    w2 = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w2)
    assert w2.open_session(path)
    qtbot.waitUntil(lambda: len(w2.state.ready_models()) == 2 and not w2.pool.busy(), timeout=LONG)
    assert _tab(w2).setup.state() == tab.setup.state()
    assert [e.model.info.model_id for e in _tab(w2).setup.checked_models()] == ["digits-standard", "digits-robust"]
    w2.pool.shutdown()


def test_file_export_on_the_tab_asks_for_the_evaluation(qtbot, window):
    """File > Export while the Evaluate tab is shown is the tab's own export (nothing to
    write before a run), not the attack-result dialog."""
    w = window
    w.tabs.setCurrentWidget(_tab(w).page)
    w.exporter.act_export.trigger()
    assert w.last_error == "Run an evaluation first."


def test_split_threats():
    from visualizer.gui.panels.evaluate_setup import split_threats

    assert split_threats(" clean;pgd:linf:0.1, 0.2 :5\n fgsm : linf:8/255 + pgd:linf:8/255 ") == [
        "clean", "pgd:linf:0.1,0.2:5", "fgsm:linf:8/255+pgd:linf:8/255"]


class _NoisyInput(nn.Module):
    """A randomised defence: Gaussian noise on the input before the network."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x + 0.1 * torch.randn_like(x))


def test_gradient_masking_warnings_are_shown(qtbot, window, tmp_path):
    """A real randomised model (noise on its input): the core's masking check warns that
    identical calls differ, and the tab shows the record's warnings."""
    from mnist_support import save_torchscript, tiny_mnist_net

    torch.manual_seed(0)
    path = save_torchscript(_NoisyInput(tiny_mnist_net()), tmp_path / "noisy.pt")
    add_model(qtbot, window, f"torchscript:{path}", {"device": "cpu", "input_size": 28})
    tab = _evaluate(qtbot, window, threats="clean fgsm:linf:0.1", limit=8)
    warnings = tab.evaluation.warnings()
    assert any("different outputs" in w for w in warnings)
    assert tab.warnings.isVisible() and all(w in tab.warnings.text() for w in warnings)


def test_the_data_field_starts_on_the_mnist_folder_beside_the_checkout(window):
    """As the Train tab and the Poison panel do: a first launch does not start on an empty,
    invalid data field when ../shared/data/mnist is there."""
    setup = _tab(window).setup
    assert setup.data_edit.text() == f"mnist:{MNIST_DIR}"
    assert setup.problem() == "Load a model to evaluate (Models > Add model\u2026)."    # the data is fine


def test_a_model_loaded_twice_and_ticked_twice_blocks_the_run_with_its_name(qtbot, digits_pair):
    """`visualizer evaluate` refuses a --model given twice; the tab said nothing and evaluated
    the model twice, two rows of one name. Unticking the repeat runs again."""
    w = digits_pair
    add_model(qtbot, w, "bundled:DIGITS-standard")          # the first model again, spelt another way
    tab = _tab(w)
    w.tabs.setCurrentWidget(tab.page)
    tab.setup.data_edit.setText(MNIST_SPEC)
    tab.setup.threats_edit.setText("clean")
    problem = tab.setup.problem()
    assert problem == ("Ticked: 'digits-standard' and 'bundled:DIGITS-standard' are the same model loaded twice "
                       "with the same options; untick one."), problem
    assert not tab.evaluate_button.isEnabled() and not w.run_all_button.isEnabled() and tab.setup.message.isVisible()
    tab.setup.models.item(2).setCheckState(Qt.Unchecked)
    assert tab.setup.problem() is None and tab.evaluate_button.isEnabled()
