"""Generator workers: progress, results, errors, cancellation, superseding, shutdown."""

import os
import sys
import threading
import time

import pytest

from visualizer.core.errors import VisualizerError
from visualizer.gui.worker import WORKER_NICENESS, GeneratorWorker, WorkerPool, call_in_worker, running_workers


def counting(n, delay=0.0):
    def job(token):
        done = 0
        for i in range(n):
            if token.cancelled:
                return {"done": done, "cancelled": True}
            time.sleep(delay)
            done += 1
            yield done
        return {"done": done, "cancelled": False}
    return job


def test_result_and_last_progress_event_arrive(qtbot):
    w = GeneratorWorker(counting(500))
    events, results = [], []
    w.progress.connect(events.append)
    w.finished.connect(results.append)
    with qtbot.waitSignal(w.done, timeout=10000):
        w.start()
    qtbot.waitUntil(lambda: bool(results))
    assert results == [{"done": 500, "cancelled": False}]
    assert events[-1] == 500              # throttled, but the final state is always delivered
    assert len(events) < 500              # ... and not one signal per step


def test_cancel_returns_the_partial_result(qtbot):
    w = GeneratorWorker(counting(100000, delay=0.001))
    results = []
    w.finished.connect(results.append)
    w.start()
    time.sleep(0.05)
    w.cancel()
    assert w.wait(10000)
    qtbot.waitUntil(lambda: bool(results))
    assert results[0]["cancelled"] and 0 < results[0]["done"] < 100000


def test_errors_are_reported_not_raised(qtbot):
    def bad():
        raise VisualizerError("the image is broken")

    w = GeneratorWorker(call_in_worker(bad))
    failures = []
    w.failed.connect(lambda exc, details: failures.append((exc, details)))
    with qtbot.waitSignal(w.done, timeout=10000):
        w.start()
    qtbot.waitUntil(lambda: bool(failures))
    exc, details = failures[0]
    assert isinstance(exc, VisualizerError) and "the image is broken" in str(exc) and "Traceback" in details


def test_latest_request_wins_and_shutdown_stops_everything(qtbot):
    pool = WorkerPool()
    results = []
    pool.start("col", counting(100000, delay=0.001), on_finished=lambda r: results.append(("old", r)))
    pool.start("col", counting(3), on_finished=lambda r: results.append(("new", r)))
    qtbot.waitUntil(lambda: any(tag == "new" for tag, _ in results), timeout=10000)
    qtbot.waitUntil(lambda: not pool.busy(), timeout=10000)
    assert [tag for tag, _ in results] == ["new"]      # the superseded job's result is dropped
    pool.start("a", counting(100000, delay=0.001))
    pool.start("b", counting(100000, delay=0.001))
    assert pool.busy()
    assert pool.shutdown(10000)                           # returns promptly even though the jobs were long
    assert not running_workers()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_jobs_run_below_the_windows_priority(qtbot):
    """Issue 16: a job thread is niced, so the GUI thread gets a core first when both want one."""
    def job(token):
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        yield  # noqa: unreachable

    w = GeneratorWorker(job)
    results = []
    w.finished.connect(results.append)
    with qtbot.waitSignal(w.done, timeout=10000):
        w.start()
    qtbot.waitUntil(lambda: bool(results))
    window = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert results[0] == min(19, window + WORKER_NICENESS) > window
