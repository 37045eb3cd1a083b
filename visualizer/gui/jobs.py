"""Every job the window runs, in one place: the worker pool (one job per slot, latest request
wins), the progress bar and its label, the Cancel button, and the busy state.

The window is idle again exactly when the pool says its last job has ended (its ``done``
came back, after its thread was through): never earlier, so a status reset cannot race a
worker that is still finishing, and always, whichever way the job ended (result, error,
cancel, superseded). Errors a job's owner does not handle itself are explained here.

Idle, the bar says only what is true: empty and "Ready" until a job with progress (a run,
an export) has finished, full with what finished and how long it took after one, empty
with "Cancelled" after Cancel. Quiet jobs (a preview) and model loading leave it empty."""

from __future__ import annotations

import time
from typing import Callable

from visualizer.core.device import is_out_of_memory, out_of_memory_message
from visualizer.core.errors import VisualizerError
from visualizer.core.formatting import duration_text
from visualizer.gui import gc_policy
from visualizer.gui.dock_parts import ElidingLabel
from visualizer.gui.qt import QtCore, QtWidgets, Signal
from visualizer.gui.worker import WorkerPool

ErrorReporter = Callable[[str, str, "str | None"], None]


class Jobs(QtCore.QObject):
    busyChanged = Signal(bool)
    jobEnded = Signal(object)            # slot

    def __init__(self, report_error: ErrorReporter, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._report_error = report_error
        self._started: dict[object, float] = {}
        self._labels: dict[object, str] = {}
        self._progressed: dict[object, str] = {}    # jobs of this busy spell that reported progress: label
        self._busy_since = 0.0
        self._cancelled = False
        self._cancelled_slots: set = set()           # jobs of this busy spell cancelled one by one (a tab's Cancel)
        self.pool = WorkerPool(self)
        self.pool.busyChanged.connect(self._on_busy_changed)
        self.pool.jobEnded.connect(self._on_job_ended)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.reset()              # empty, no "0%": nothing has run
        # Elided, the whole text in the tooltip: "Loading ckpt:/a/long/path…" must not widen the dock.
        self.progress_label = ElidingLabel("Ready")
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
            self._labels[slot] = label
            self.show_status(label)
        self.pool.start(slot, make_generator, on_progress=on_progress, on_finished=on_finished, on_failed=failed)

    def explain_failure(self, exc: BaseException, details: str) -> None:
        if isinstance(exc, VisualizerError):
            self._report_error("The operation failed", str(exc), details)
        elif is_out_of_memory(exc):     # not a bug: the model, image or sweep is too big here
            self._report_error("Out of memory", out_of_memory_message(exc), details)
        else:
            self._report_error("Unexpected error (a bug: please report it with the details)",
                               f"{type(exc).__name__}: {exc}", details)

    def show_status(self, text: str) -> None:
        """A busy bar and ``text…`` until the first progress event."""
        self.progress.setRange(0, 0)
        self.progress_label.setText(text + "…")

    def report_progress(self, done: int, total: int, slot, detail: str = "") -> None:
        """``done`` of ``total`` steps of ``slot``'s job; ``detail``: what is being done now."""
        self.set_bar(done, max(total, 1))
        started = self._started.get(slot)
        elapsed = time.perf_counter() - started if started else 0.0
        if slot in self._labels:
            self._progressed[slot] = self._labels[slot]
        head = f"{detail}  ·  " if detail else ""
        if started and done:
            eta = elapsed * (total - done) / done
            self.progress_label.setText(f"{head}{done}/{total}  ·  {duration_text(elapsed, spaced=True)}  ·  "
                                        f"ETA {duration_text(eta, spaced=True)}")
        elif detail:
            self.progress_label.setText(f"{head}{done}/{total}")

    def set_bar(self, value: int, maximum: int) -> None:
        """The bar at ``value`` of ``maximum``, repainted with the window's next paint.
        QProgressBar.setValue repaints at once: inside the progress slot, that synchronous
        repaint painted every widget waiting for one (the attack's images and plot too), about
        20 times a second. With its updates off for the moment, the bar only records the value,
        and turning them back on asks for an ordinary repaint, merged with the others."""
        self.progress.setUpdatesEnabled(False)
        try:
            self.progress.setRange(0, maximum)
            self.progress.setValue(value)
        finally:
            self.progress.setUpdatesEnabled(True)

    # -- state ------------------------------------------------------------------------------------
    def busy(self) -> bool:
        return self.pool.busy()

    def running(self, slot) -> bool:
        return slot in self.pool.running()

    def cancel(self, slot=None) -> None:
        """Cancel every job (None: the window's Cancel) or one slot's (a tab's own Cancel)."""
        if slot is None and self.busy():
            self._cancelled = True
        elif slot is not None and self.running(slot):
            self._cancelled_slots.add(slot)
        self.pool.cancel(slot)

    def _spell_cancelled(self) -> bool:
        """The busy spell ended by a cancel: the window's, or a tab's for every job that ran."""
        if self._cancelled:
            return True
        return bool(self._cancelled_slots) and all(slot in self._cancelled_slots for slot in self._progressed)

    def shutdown(self) -> bool:
        return self.pool.shutdown()

    def _on_job_ended(self, slot) -> None:
        if slot not in self.pool.running():     # not a superseded job whose slot runs again
            self._started.pop(slot, None)
            self._labels.pop(slot, None)
        self.jobEnded.emit(slot)

    def _finished_text(self) -> str:
        """What this busy spell ran: "PGD on lite0 finished in 2.1 s", "Sweep on 3 models …"."""
        labels = list(self._progressed.values())
        elapsed = time.perf_counter() - self._busy_since
        if len(labels) == 1:
            return f"{labels[0]} finished in {elapsed:.1f} s"
        kinds = {label.partition(" on ")[0] for label in labels}
        what = f"{kinds.pop()} on {len(labels)} models" if len(kinds) == 1 else f"{len(labels)} runs"
        return f"{what} finished in {elapsed:.1f} s"

    def _on_busy_changed(self, busy: bool) -> None:
        if busy:
            self._cancelled = False
            self._cancelled_slots = set()
            self._progressed = {}
            self._busy_since = time.perf_counter()
        elif self._spell_cancelled() or not self._progressed:
            self.progress.setRange(0, 1)
            self.progress.reset()
            self.progress_label.setText("Cancelled" if self._spell_cancelled() else "Ready")
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress_label.setText(self._finished_text())
        self.cancel_button.setEnabled(busy)
        if not busy:
            gc_policy.settle()     # what the jobs left is kept: later collections skip it
        self.busyChanged.emit(busy)
