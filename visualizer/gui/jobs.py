"""Every job the window runs, in one place: the worker pool (one job per slot, latest request
wins), the progress bar and its label, the Cancel button, and the busy state.

The window is idle again exactly when the pool says its last job has ended (its ``done``
came back, after its thread was through): never earlier, so a status reset cannot race a
worker that is still finishing, and always, whichever way the job ended (result, error,
cancel, superseded). Errors a job's owner does not handle itself are explained here."""

from __future__ import annotations

import time
from typing import Callable

from visualizer.core.device import is_out_of_memory, out_of_memory_message
from visualizer.core.errors import VisualizerError
from superqt import QElidingLabel

from visualizer.gui.qt import QtCore, QtWidgets, Signal
from visualizer.gui.worker import WorkerPool

ErrorReporter = Callable[[str, str, "str | None"], None]


class ElidingLabel(QElidingLabel):
    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self.setToolTip(text)


class Jobs(QtCore.QObject):
    busyChanged = Signal(bool)
    jobEnded = Signal(object)            # slot

    def __init__(self, report_error: ErrorReporter, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._report_error = report_error
        self._started: dict[object, float] = {}
        self.pool = WorkerPool(self)
        self.pool.busyChanged.connect(self._on_busy_changed)
        self.pool.jobEnded.connect(self._on_job_ended)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(True)
        # Elided, the whole text in the tooltip: "Loading ckpt:/a/long/path…" must not widen the dock.
        self.progress_label = ElidingLabel("")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running jobs; their partial results are kept (Esc)")
        self.cancel_button.setEnabled(False)

    def add_to(self, layout: QtWidgets.QBoxLayout) -> None:
        """Progress bar and Cancel on one row, the progress text under them."""
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addWidget(self.progress_label)

    # -- starting and reporting -------------------------------------------------------------------
    def start(self, slot, make_generator, on_progress=None, on_finished=None, on_failed=None,
              label: str | None = "") -> None:
        """Run ``make_generator(token)`` in a worker under ``slot`` (superseding the slot's
        previous job). ``label``: shown with a busy bar until the first progress event;
        None leaves the progress display alone (quiet background jobs)."""
        self._started[slot] = time.perf_counter()

        def failed(exc, details):
            if on_failed:
                on_failed(exc, details)
            else:
                self.explain_failure(exc, details)

        if label:
            self.progress.setRange(0, 0)
            self.progress_label.setText(label + "…")
        self.pool.start(slot, make_generator, on_progress=on_progress, on_finished=on_finished, on_failed=failed)

    def explain_failure(self, exc: BaseException, details: str) -> None:
        if isinstance(exc, VisualizerError):
            self._report_error("The operation failed", str(exc), details)
        elif is_out_of_memory(exc):     # not a bug: the model, image or sweep is too big here
            self._report_error("Out of memory", out_of_memory_message(exc), details)
        else:
            self._report_error("Unexpected error (a bug: please report it with the details)",
                               f"{type(exc).__name__}: {exc}", details)

    def report_progress(self, done: int, total: int, slot) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        started = self._started.get(slot)
        if started and done:
            elapsed = time.perf_counter() - started
            eta = elapsed * (total - done) / done
            self.progress_label.setText(f"{done}/{total}  ·  {elapsed:.1f} s  ·  ETA {eta:.1f} s")

    # -- state ------------------------------------------------------------------------------------
    def busy(self) -> bool:
        return self.pool.busy()

    def running(self, slot) -> bool:
        return slot in self.pool.running()

    def cancel(self, slot=None) -> None:
        self.pool.cancel(slot)

    def shutdown(self) -> bool:
        return self.pool.shutdown()

    def _on_job_ended(self, slot) -> None:
        if slot not in self.pool.running():     # not a superseded job whose slot runs again
            self._started.pop(slot, None)
        self.jobEnded.emit(slot)

    def _on_busy_changed(self, busy: bool) -> None:
        if not busy:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress_label.setText("Done")
        self.cancel_button.setEnabled(busy)
        self.busyChanged.emit(busy)
