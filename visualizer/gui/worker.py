"""Running core generators off the GUI thread, on superqt's generator workers.

A core operation is a generator: each ``yield`` is a progress event, its return value is
the result, and it checks a CancelToken between steps. ``GeneratorWorker`` runs one on a
thread of a private QThreadPool through superqt's ``GeneratorWorker`` (which steps the
generator, emits each yield and honours an abort request between yields) and reports back
through signals, queued to the GUI thread:

* ``progress(event)``: throttled to about 20 per second, always the latest event, and the
  last one before the result is always delivered;
* ``finished(result)``: the return value (possibly a partial result marked cancelled);
* ``failed(error, details)``: the exception (a VisualizerError carries a message for the
  user; anything else is a bug) and its traceback;
* ``done()``: last, once the job's thread has finished with it (after the memory it freed
  was handed back to the system).

``cancel()`` asks the job to stop at its next step and still delivers its partial result;
``supersede()`` also aborts it and drops whatever it reports from then on.

``WorkerPool`` keeps at most one job per slot ("latest request wins": starting a new job on
a slot supersedes the old one), says when it becomes busy or idle (``busyChanged``, sent
when the last job's ``done`` arrives, never before its thread is through), and can stop
everything when the window closes. Workers never touch widgets.
"""

from __future__ import annotations

import threading
import time
from collections import deque
import traceback
import warnings
import weakref
from typing import Callable, Generator

from visualizer.core.allocator import release_free_memory
from visualizer.core.cancel import CancelToken
from visualizer.gui.qt import QtCore, Signal

PROGRESS_INTERVAL_S = 0.05
KEEP_ENDED = 32                  # ended workers kept referenced (see WorkerPool)
_LIVE: "weakref.WeakSet[GeneratorWorker]" = weakref.WeakSet()
_STARTED: "set[GeneratorWorker]" = set()   # kept alive until done: the pool runs their QRunnable
_NOTHING = object()
_thread_pool: QtCore.QThreadPool | None = None


def running_workers() -> list["GeneratorWorker"]:
    """Workers whose job has not ended on its thread (tests fail if any outlives a test)."""
    return [w for w in list(_LIVE) if w.is_running()]


def call_in_worker(fn: Callable[[], object]) -> Callable[[CancelToken], Generator]:
    """Wrap a plain call (model loading, image decoding) as a generator job with no progress."""

    def job(token: CancelToken):
        return fn()
        yield  # noqa: unreachable: makes this a generator function

    return job


def _threads() -> QtCore.QThreadPool:
    """Jobs of different slots run side by side (every model's attack at once): no cap at the
    core count, as QThreadPool.globalInstance() would have."""
    global _thread_pool
    if _thread_pool is None:
        _thread_pool = QtCore.QThreadPool()
        _thread_pool.setMaxThreadCount(256)
    return _thread_pool


def _throttled(make_generator: Callable[[CancelToken], Generator], token: CancelToken):
    """The job's generator, built on the worker thread, yielding at most every
    PROGRESS_INTERVAL_S; the last event before the result is always yielded."""
    _limit_torch_threads()
    _yield_to_the_window()
    gen = make_generator(token)
    last_emit, pending = 0.0, _NOTHING
    try:
        while True:
            try:
                event = next(gen)
            except StopIteration as stop:
                if pending is not _NOTHING:
                    yield pending
                return stop.value
            now = time.perf_counter()
            if now - last_emit >= PROGRESS_INTERVAL_S:
                last_emit, pending = now, _NOTHING
                yield event
            else:
                pending = event
    finally:
        gen.close()        # on this thread: the job's own clean-up (grad modes are per thread)


WORKER_NICENESS = 10      # added to a job thread's niceness on Linux (see _yield_to_the_window)


def _yield_to_the_window() -> None:
    """Run this job thread below the window's priority: when the GUI thread (or the threads Qt
    hands part of its painting to) becomes runnable on a machine whose cores the job keeps
    busy, the scheduler then gives it a core at once instead of leaving it in the run queue
    for a time slice (issue 16: the attack's longest GUI stall on 2 cores went from 56-63 ms
    to 19-27 ms). A job alone on the machine runs as fast as before. On Linux niceness is
    per thread; elsewhere Qt's thread priority says the same. Only ever lowered: a pool
    thread that runs later jobs keeps it, as every job thread should."""
    import os
    import sys

    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            wanted = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + WORKER_NICENESS)
            if os.getpriority(os.PRIO_PROCESS, tid) < wanted:
                os.setpriority(os.PRIO_PROCESS, tid, wanted)
        except OSError:            # not allowed here: run at the window's priority
            pass
    else:
        QtCore.QThread.currentThread().setPriority(QtCore.QThread.Priority.LowPriority)


def _limit_torch_threads() -> None:
    import os

    import torch

    # Keep torch from taking every core: the GUI thread needs one to stay responsive.
    wanted = max(1, (os.cpu_count() or 1) - 1)
    if torch.get_num_threads() > wanted:
        torch.set_num_threads(wanted)


_job_class = None


def _make_job(make_generator, token: CancelToken):
    """A ``_Job``: its class is made on the first job, so superqt (0.2 s of imports, see
    dock_parts.py) is imported when something first runs, not while the window starts."""
    global _job_class
    if _job_class is None:
        from superqt.utils import GeneratorWorker as SuperqtGeneratorWorker

        class _Job(SuperqtGeneratorWorker):
            """superqt's generator worker, run by our pool. ``run`` is replaced because superqt's
            redirects ``warnings.showwarning`` process-wide for each job, which concurrent jobs
            restore in the wrong order; and the end of the job must be known on its own thread."""

            def __init__(self, make_generator, token: CancelToken):
                super().__init__(_throttled, make_generator, token)
                self.setAutoDelete(False)          # the GeneratorWorker below keeps it
                self.ended = threading.Event()

            def run(self) -> None:
                try:
                    try:
                        result = self.work()
                        if isinstance(result, BaseException):
                            raise result
                        if not self.abort_requested:
                            _tell(self.returned, result)
                    except Exception as exc:  # VisualizerError, or a bug: report it, keep the app alive
                        _tell(self.errored, exc)
                    finally:
                        self._gen.close()
                        # Memory the run freed goes back to the system (kept for reuse while it ran).
                        release_free_memory()
                finally:
                    self.ended.set()
                    _tell(self.finished)

        _job_class = _Job
    return _job_class(make_generator, token)


def _tell(signal, *args) -> None:
    """Emit a job's end signal; when the window closed first, the signals' owner is gone and
    Qt raises RuntimeError on this thread: there is no one left to tell, so say nothing."""
    try:
        signal.emit(*args)
    except RuntimeError as exc:        # "Signal source has been deleted"
        if "deleted" not in str(exc):
            raise


class GeneratorWorker(QtCore.QObject):
    """One job. Connect to the signals before ``start()``."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object, str)
    done = Signal()          # after finished/failed, once the job has ended on its thread

    def __init__(self, make_generator: Callable[[CancelToken], Generator], parent=None):
        super().__init__(parent)
        self.token = CancelToken()
        self._job = _make_job(make_generator, self.token)
        self._job.yielded.connect(self._on_progress)
        self._job.returned.connect(self._on_finished)
        self._job.errored.connect(self._on_failed)
        self._job.finished.connect(self.done)
        self._started = False
        self._dropped = False
        _LIVE.add(self)

    def start(self) -> None:
        self._started = True
        _STARTED.add(self)
        self.done.connect(self._forget)
        _threads().start(self._job)

    def _forget(self) -> None:
        _STARTED.discard(self)

    def disconnect_all(self) -> None:
        """Once done: drop every connection. A connection holds its callback, and the job's
        callbacks hold models and results (``lambda run, e=entry: ...``); held by the worker's
        own signals they made cycles through Qt the garbage collector cannot see, so no
        removed model was ever freed."""
        self._forget()
        with warnings.catch_warnings():         # PySide warns about a signal with nothing connected
            warnings.simplefilter("ignore", RuntimeWarning)
            for signal in (self.progress, self.finished, self.failed, self.done, self._job.yielded,
                           self._job.returned, self._job.errored, self._job.finished):
                try:
                    signal.disconnect()
                except (RuntimeError, TypeError):   # nothing connected
                    pass

    def cancel(self) -> None:
        """Ask the job to stop at its next step; it still reports its partial result."""
        self.token.cancel()

    def supersede(self) -> None:
        """Cancel, abort, and drop whatever this job reports from now on."""
        self._dropped = True
        self.token.cancel()
        self._job.quit()

    def is_running(self) -> bool:
        return self._started and not self._job.ended.is_set()

    def wait(self, timeout_ms: int = 30000) -> bool:
        return not self._started or self._job.ended.wait(timeout_ms / 1000)

    def _on_progress(self, event) -> None:
        if not self._dropped:
            self.progress.emit(event)

    def _on_finished(self, result) -> None:
        if not self._dropped:
            self.finished.emit(result)

    def _on_failed(self, error: BaseException) -> None:
        if not self._dropped:
            details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            self.failed.emit(error, details)


class WorkerPool(QtCore.QObject):
    """At most one running job per slot (e.g. one per model and kind of run)."""

    busyChanged = Signal(bool)     # True when the first job starts, False once the last has ended
    jobEnded = Signal(object)      # slot, after its job's done (superseded jobs too, with their slot)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._active: dict[object, GeneratorWorker] = {}
        self._retired: list[GeneratorWorker] = []
        # Ended workers are kept a while: their pool thread may still be returning from the
        # job's run() when its last signal arrives here, and freeing the QRunnable under it
        # crashed the app. Their callbacks are already dropped, so this keeps no model alive.
        self._ended_workers: deque[GeneratorWorker] = deque(maxlen=KEEP_ENDED)
        self._busy = False

    def start(self, slot, make_generator, on_progress=None, on_finished=None, on_failed=None) -> GeneratorWorker:
        old = self._active.pop(slot, None)
        if old is not None:
            old.supersede()
            self._retired.append(old)
        worker = GeneratorWorker(make_generator)
        if on_progress:
            worker.progress.connect(on_progress)
        if on_finished:
            worker.finished.connect(on_finished)
        if on_failed:
            worker.failed.connect(on_failed)
        worker.done.connect(lambda s=slot, w=worker: self._ended(s, w))
        self._active[slot] = worker
        worker.start()
        self._set_busy(True)
        return worker

    def cancel(self, slot=None) -> None:
        for key, worker in list(self._active.items()):
            if slot is None or key == slot:
                worker.cancel()

    def running(self) -> list:
        """Slots whose job has not been seen to end."""
        return list(self._active)

    def busy(self) -> bool:
        """A job has not ended yet: its ``done`` has not reached the GUI thread."""
        return bool(self._active or self._retired)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything and wait for the jobs to end (window closing, tests); nothing
        they report afterwards is delivered."""
        workers = list(self._active.values()) + self._retired
        for w in workers:
            w.supersede()
        ok = all(w.wait(timeout_ms) for w in workers)
        for w in workers:
            if not w.is_running():
                w.disconnect_all()
                self._ended_workers.append(w)
        self._active.clear()
        self._retired = [w for w in self._retired if w.is_running()]
        self._set_busy(self.busy())
        return ok

    def _ended(self, slot, worker: GeneratorWorker) -> None:
        if self._active.get(slot) is worker:
            del self._active[slot]
        elif worker in self._retired:
            self._retired.remove(worker)
        else:
            return                       # already forgotten (shutdown)
        worker.disconnect_all()          # everything it reported has been delivered
        self._ended_workers.append(worker)
        self.jobEnded.emit(slot)
        self._set_busy(self.busy())

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)
