"""Work the GUI thread is spared while jobs run (issue 16's stall target; the stalls
themselves are measured by bench/gui_responsiveness.py and bench/gui_thread_profile.py,
not by timed tests): what these assert is what is done, not how long it takes."""

from visualizer.gui.qt import QtCore


class PaintCounter(QtCore.QObject):
    def __init__(self, widget):
        super().__init__(widget)
        self.paints = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
        if event.type() == QtCore.QEvent.Type.Paint:
            self.paints += 1
        return False


def test_progress_is_painted_with_the_window_not_inside_each_progress_event(qtbot, window):
    """QProgressBar.setValue repaints at once, and that synchronous repaint painted every
    widget waiting for one, inside each of the ~20 progress events a second."""
    w = window
    qtbot.waitExposed(w)
    counter = PaintCounter(w.progress)
    qtbot.wait(50)
    counter.paints = 0
    for done in range(1, 6):
        w.jobs.report_progress(done, 10, "attack")
        assert counter.paints == 0                     # recorded, not painted in the slot
    qtbot.waitUntil(lambda: counter.paints > 0)        # painted with the window's next update
    qtbot.wait(50)
    assert counter.paints <= 2 and w.progress.value() == 5 and w.progress.maximum() == 10


def test_export_libraries_are_imported_in_a_quiet_job_once_idle(qtbot, window):
    """The app imports what an export needs when its window is first idle (in a worker, so
    the first export's worker does not, and what it made is frozen with the rest)."""
    import sys

    from visualizer.gui.exporting import WARM_UP_SLOT

    w = window
    with qtbot.waitSignal(w.jobs.jobEnded, check_params_cb=lambda slot: slot == WARM_UP_SLOT, timeout=120_000):
        w.exporter.warm_up()
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=120_000)
    assert {"matplotlib.backends.backend_pdf", "matplotlib.backends.backend_svg", "visualizer.core.figures",
            "PySide6.QtSvg"} <= set(sys.modules)
    assert w.progress_label.text() == "Ready" and w.progress.value() < 1     # quiet: nothing "finished"
    assert w.last_error is None and not w.cancel_button.isEnabled()
