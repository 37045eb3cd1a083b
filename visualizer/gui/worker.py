"""Running core generators off the GUI thread.

A core operation is a generator: each ``yield`` is a progress event, its return value is
the result, and it checks a CancelToken between steps. ``GeneratorWorker`` runs one in a
QThread and reports back through signals (queued to the GUI thread):

* ``progress(event)``: throttled to about 20 per second, always the latest event, and the
  last one before the result is always delivered;
* ``finished(result)``: the return value (possibly a partial result marked cancelled);
* ``failed(error, details)``: the exception (a VisualizerError carries a message for the
  user; anything else is a bug) and its traceback.

``WorkerPool`` keeps at most one worker per slot ("latest request wins": starting a new
job on a slot cancels the old one, whose late results are dropped), and can stop them all
when the window closes. Workers never touch widgets.
"""

from __future__ import annotations

import time
import traceback
import weakref
from typing import Callable, Generator

from visualizer.core.allocator import release_free_memory
from visualizer.core.cancel import CancelToken
from visualizer.gui.qt import QtCore, Signal

PROGRESS_INTERVAL_S = 0.05
_LIVE: "weakref.WeakSet[GeneratorWorker]" = weakref.WeakSet()


def running_workers() -> list["GeneratorWorker"]:
    """Workers whose thread is still running (tests fail if any outlives a test)."""
    return [w for w in list(_LIVE) if w.is_running()]


def call_in_worker(fn: Callable[[], object]) -> Callable[[CancelToken], Generator]:
    """Wrap a plain call (model loading, image decoding) as a generator job with no progress."""

    def job(token: CancelToken):
        return fn()
        yield  # noqa: unreachable: makes this a generator function

    return job


class _Runner(QtCore.QObject):
    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object, str)

    def __init__(self, make_generator: Callable[[CancelToken], Generator], token: CancelToken):
        super().__init__()
        self._make = make_generator
        self._token = token

    def run(self) -> None:
        last_emit = 0.0
        pending = None
        try:
            # Keep torch from taking every core: the GUI thread needs one to stay responsive.
            _limit_torch_threads()
            gen = self._make(self._token)
            while True:
                try:
                    event = next(gen)
                except StopIteration as stop:
                    if pending is not None:
                        self.progress.emit(pending)
                    self.finished.emit(stop.value)
                    return
                now = time.perf_counter()
                if now - last_emit >= PROGRESS_INTERVAL_S:
                    self.progress.emit(event)
                    last_emit, pending = now, None
                else:
                    pending = event
        except Exception as exc:  # VisualizerError, or a bug: report it, keep the app alive
            self.failed.emit(exc, traceback.format_exc())
        finally:
            # Memory the run freed goes back to the system (kept for reuse while it ran).
            release_free_memory()
            # End the thread from inside: the GUI thread may be blocked waiting for it
            # (window closing) and could not deliver a queued quit.
            QtCore.QThread.currentThread().quit()


def _limit_torch_threads() -> None:
    import os

    import torch

    cores = os.cpu_count() or 1
    wanted = max(1, cores - 1)
    if torch.get_num_threads() > wanted:
        torch.set_num_threads(wanted)


class GeneratorWorker(QtCore.QObject):
    """One job on its own QThread. Connect to the signals before ``start()``."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object, str)
    done = Signal()          # after finished/failed, once the thread has ended

    def __init__(self, make_generator: Callable[[CancelToken], Generator], parent=None):
        super().__init__(parent)
        self.token = CancelToken()
        self._thread = QtCore.QThread()
        self._runner = _Runner(make_generator, self.token)
        self._runner.moveToThread(self._thread)
        self._thread.started.connect(self._runner.run)
        self._runner.progress.connect(self._on_progress)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self._dropped = False
        self._thread.finished.connect(self.done)
        _LIVE.add(self)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop at its next step; it still reports its partial result."""
        self.token.cancel()

    def supersede(self) -> None:
        """Cancel and drop whatever this job reports from now on."""
        self._dropped = True
        self.token.cancel()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, timeout_ms: int = 30000) -> bool:
        return self._thread.wait(timeout_ms)

    def _on_progress(self, event) -> None:
        if not self._dropped:
            self.progress.emit(event)

    def _on_finished(self, result) -> None:
        self._thread.quit()
        if not self._dropped:
            self.finished.emit(result)

    def _on_failed(self, error: BaseException, details: str) -> None:
        self._thread.quit()
        if not self._dropped:
            self.failed.emit(error, details)


class WorkerPool(QtCore.QObject):
    """At most one running job per slot (e.g. one per model column and kind of run)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._active: dict[object, GeneratorWorker] = {}
        self._retired: list[GeneratorWorker] = []

    def start(self, slot, make_generator, on_progress=None, on_finished=None, on_failed=None) -> GeneratorWorker:
        old = self._active.pop(slot, None)
        if old is not None:
            old.supersede()
            self._retire(old)
        worker = GeneratorWorker(make_generator)
        if on_progress:
            worker.progress.connect(on_progress)
        if on_finished:
            worker.finished.connect(on_finished)
        if on_failed:
            worker.failed.connect(on_failed)
        worker.done.connect(lambda s=slot, w=worker: self._forget(s, w))
        self._active[slot] = worker
        worker.start()
        return worker

    def cancel(self, slot=None) -> None:
        for key, worker in list(self._active.items()):
            if slot is None or key == slot:
                worker.cancel()

    def running(self) -> list:
        return [slot for slot, w in self._active.items() if w.is_running()]

    def busy(self) -> bool:
        return bool(self.running()) or any(w.is_running() for w in self._retired)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything and wait for the threads to end (window closing, tests)."""
        workers = list(self._active.values()) + self._retired
        for w in workers:
            w.supersede()
        ok = all(w.wait(timeout_ms) for w in workers)
        self._active.clear()
        self._retired = [w for w in self._retired if w.is_running()]
        return ok

    def _retire(self, worker: GeneratorWorker) -> None:
        self._retired.append(worker)
        worker.done.connect(lambda w=worker: self._retired.remove(w) if w in self._retired else None)

    def _forget(self, slot, worker) -> None:
        if self._active.get(slot) is worker:
            del self._active[slot]
