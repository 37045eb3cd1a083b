"""File > Export runs in the worker (issue 16: it stalled the window for about a second, more
on matplotlib's first import): the window keeps reacting, the progress bar names the file
being written, Cancel stops it and leaves the destination as it was."""

from visualizer.gui.dialogs.export_dialog import ExportChoice
from visualizer.gui.qt import QtCore
from window_support import LONG, choose, export_and_wait, run_and_wait, set_field


def quick_attack(qtbot, w):
    choose(w.form, "pgd-l2")
    set_field(w.form, "steps", "3")
    run_and_wait(qtbot, w)


def everything(folder, **more):
    return ExportChoice(folder=str(folder), png=True, svg=True, pdf=True, dpi=300, current_view=True, figure=True,
                        raw=True, **more)


def test_export_is_written_by_the_worker_while_the_window_reacts(qtbot, digits_window, tmp_path):
    w = digits_window
    quick_attack(qtbot, w)
    out = tmp_path / "export"
    ticks, labels = [], []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    w.progress.valueChanged.connect(lambda _: labels.append(w.progress_label.text()))
    with qtbot.waitSignal(w.exportFinished, timeout=LONG) as finished:
        assert w.export_to(everything(out))
        assert not out.exists() and w.cancel_button.isEnabled()    # started, not written yet: it is the worker's
        ticks.clear()
    timer.stop()
    record = finished.args[0]
    assert record is not None and len(ticks) > 3                     # the event loop ran while it was written
    written = sorted(p.name for p in out.iterdir())
    assert {"view.png", "view.svg", "view.pdf", "figure.png", "figure.svg", "figure.pdf", "result.json"} <= set(written)
    assert sorted([*record["files"].values(), "result.json"]) == written
    assert any("figure.pdf" in text for text in labels)              # the progress names the file being written
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert " finished in " in w.progress_label.text() and not w.cancel_button.isEnabled()


def test_cancelled_export_leaves_the_previous_export_untouched(qtbot, digits_window, tmp_path):
    w = digits_window
    quick_attack(qtbot, w)
    out = tmp_path / "export"
    assert export_and_wait(qtbot, w, ExportChoice(folder=str(out), png=True, raw=True)) is not None
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    quick_attack(qtbot, w)
    w.last_error = None
    w.progress.valueChanged.connect(lambda value: value >= 1 and w.cancel())    # Cancel once it writes
    with qtbot.waitSignal(w.exportFinished, timeout=LONG) as finished:
        w.export_to(everything(out, overwrite=True))
    assert finished.args[0] is None
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "settings.ini"]    # no staging folder left
    assert "cancelled" in w.statusBar().currentMessage() and w.last_error is None      # told, not an error box
    assert w.progress_label.text() == "Cancelled"
