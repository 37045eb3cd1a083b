"""Where the GUI thread's time goes while an attack, then an export, runs on the worker:
a measure that survives a loaded machine (unlike the wall-clock gaps of gui_responsiveness.py).

Every top-level event the GUI thread dispatches (QApplication.notify: queued signals, timers,
paint and layout requests) is timed three ways from the thread's own scheduler counters
(/proc/self/task/<tid>/schedstat, Linux): on-CPU time (the thread's own work), run-queue
time (ready but another process had the core: the machine's load) and blocked time (the
rest: waiting for a lock, in practice Python's GIL held by the worker). On-CPU and blocked
time per event are what the window can be made to do less of; run-queue time is not ours.
Prints one JSON object: per phase, the worst events by on-CPU and by blocked time, with the
receiver's class and the event type, and percentiles. ``--profile`` adds, for the slowest
events, a cProfile of what the GUI thread's Python did in them (slows everything: use it
to find causes, the plain run for numbers); ``--worker-calls`` lists the C functions the
jobs' threads called that ran over 3 ms (candidates for holding the GIL that long).
``--gaps`` explains each wall-clock gap over 15 ms between the 5 ms timer's ticks: the GUI
thread's on-CPU, run-queue and blocked time over the gap, and how much of it the events
dispatched in it cover (the rest is Qt's own work between events, or the measuring loop
waiting for the GIL).

    python bench/gui_thread_profile.py [--seconds 6] [--steps 200] [--dpi 300] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gui_responsiveness import measure_gaps, wait  # noqa: E402


def _schedstat(path: str) -> tuple[float, float]:
    """(on-CPU s, run-queue wait s) of one thread."""
    with open(path) as f:
        cpu, queued, _ = f.read().split()
    return int(cpu) / 1e9, int(queued) / 1e9


class EventLog:
    """Per top-level event: (on-CPU ms, run-queue ms, blocked ms, event type, receiver class)."""

    def __init__(self):
        self.events: list[tuple[float, float, float, str, str]] = []
        self.spans: list[tuple[float, float, str]] = []   # (wall start, wall end, event) for --gaps
        self.path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self.profiling = False
        self.collections: list[tuple[float, int]] = []   # (on-CPU ms, generation)
        self.gc_start: float | None = None
        self.calls: list[tuple[float, str]] = []      # the jobs' long C calls: (on-CPU ms, what @ where)
        self.profiles: list[tuple[float, str, list[str]]] = []   # (cpu + blocked ms, event, top functions)

    def take(self) -> list:
        events, self.events = self.events, []
        return events


def make_app(log: EventLog):
    from visualizer.gui.qt import QtCore, QtWidgets

    class TimedApplication(QtWidgets.QApplication):
        depth = 0

        def notify(self, receiver, event):  # noqa: N802 (Qt name)
            if TimedApplication.depth:
                return super().notify(receiver, event)
            TimedApplication.depth += 1
            kind = event.type()
            wall0 = time.perf_counter()
            cpu0, q0 = _schedstat(log.path)
            name = type(receiver).__name__
            prof = cProfile.Profile() if log.profiling else None
            try:
                if prof is not None:
                    prof.enable()
                return super().notify(receiver, event)
            finally:
                if prof is not None:
                    prof.disable()
                cpu1, q1 = _schedstat(log.path)
                wall = time.perf_counter() - wall0
                TimedApplication.depth -= 1
                cpu, queued = cpu1 - cpu0, q1 - q0
                blocked = max(wall - cpu - queued, 0.0)
                kind_name = getattr(kind, "name", str(kind))
                log.events.append((1000 * cpu, 1000 * queued, 1000 * blocked, kind_name, name))
                log.spans.append((wall0, wall0 + wall, f"{kind_name} -> {name} {1000 * cpu:.1f}c/{1000 * blocked:.1f}b"))
                if prof is not None and cpu + blocked > 0.004:
                    log.profiles.append((1000 * (cpu + blocked), f"{kind_name} -> {name}", profile_text(prof, 12)))

    return TimedApplication(sys.argv), QtCore


# C calls seen (tested) to release the GIL while they work: not what stalls the window.
RELEASE_GIL = {"QImage.save", "ImagingEncoder.encode", "_EngineBase.run_backward", "sleep", "Event.wait",
               "Condition.wait", "lock.acquire", "Connection.poll", "_wait_for_tstate_lock"}


def trace_worker_calls(log: EventLog) -> None:
    """Time every C function the jobs' threads call from Python (on-CPU ms): the long ones
    that hold the GIL (most Qt painting, numpy copies, matplotlib's Agg) stall the window."""
    from visualizer.gui import worker

    original = worker._throttled

    def traced(make_generator, token):
        starts: list[list] = []      # [start, ran Python code inside (then it is not one C call)]

        def profiler(frame, event, arg):
            if event == "c_call":
                starts.append([time.thread_time(), False])
            elif event == "call" and starts:
                starts[-1][1] = True
            elif event in ("c_return", "c_exception") and starts:
                start, ran_python = starts.pop()
                if ran_python and starts:
                    starts[-1][1] = True
                ms = 1000 * (time.thread_time() - start)
                if ms > 3 and not ran_python:
                    name = getattr(arg, "__qualname__", None) or getattr(arg, "__name__", repr(arg))
                    if name in RELEASE_GIL:
                        return
                    where = f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno}"
                    log.calls.append((ms, f"{name} @ {where}"))

        sys.setprofile(profiler)
        try:
            return (yield from original(make_generator, token))
        finally:
            sys.setprofile(None)

    worker._throttled = traced


def trace_collections(log: EventLog) -> None:
    """Time the GUI thread's garbage collections (gc_policy: the only ones in the window)."""
    import gc

    def on_gc(phase, info):
        if phase == "start":
            log.gc_start = time.thread_time()
        elif log.gc_start is not None:
            log.collections.append((1000 * (time.thread_time() - log.gc_start), info["generation"]))
            log.gc_start = None

    gc.callbacks.append(on_gc)


def measure_ticks(app, log: EventLog, seconds: float, until=None) -> list[tuple[float, float, float]]:
    """As measure_gaps, but each tick also reads the GUI thread's scheduler counters:
    (wall s, on-CPU s, run-queue s) per tick."""
    return measure_gaps(app, seconds, until, stamp=lambda: (time.perf_counter(), *_schedstat(log.path)))


def explain_gaps(ticks: list, spans: list, over_ms: float = 15.0, top: int = 10) -> list[str]:
    """The longest gaps between ticks: where the GUI thread's time went in each."""
    rows = []
    for (w0, c0, q0), (w1, c1, q1) in zip(ticks, ticks[1:]):
        gap = 1000 * (w1 - w0)
        if gap < over_ms:
            continue
        cpu, queued = 1000 * (c1 - c0), 1000 * (q1 - q0)
        inside = [(a, b, what) for a, b, what in spans if b > w0 and a < w1]
        covered = 1000 * sum(min(b, w1) - max(a, w0) for a, b, _ in inside)
        biggest = sorted(inside, key=lambda s: s[0] - s[1])[:3]
        rows.append((gap, f"gap {gap:.1f} ms: cpu {cpu:.1f} queued {queued:.1f} blocked {gap - cpu - queued:.1f}; "
                          f"{len(inside)} events cover {covered:.1f} ms; largest: "
                          + "; ".join(f"{1000 * (b - a):.1f} ms {what}" for a, b, what in biggest)))
    return [text for _, text in sorted(rows, key=lambda r: -r[0])[:top]]


def summary(events: list, top: int = 8) -> dict:
    if not events:
        return {}
    cpu = sorted(e[0] for e in events)
    blocked = sorted(e[2] for e in events)
    pick = lambda v: round(v[min(int(0.99 * (len(v) - 1)), len(v) - 1)], 1)  # noqa: E731
    fmt = lambda e: f"{e[0]:.1f} cpu / {e[2]:.1f} blocked / {e[1]:.1f} queued ms  {e[3]} -> {e[4]}"  # noqa: E731
    return {
        "events": len(events),
        "cpu_max_ms": round(cpu[-1], 1), "cpu_p99_ms": pick(cpu),
        "blocked_max_ms": round(blocked[-1], 1), "blocked_p99_ms": pick(blocked),
        "busy_max_ms": round(max(e[0] + e[2] for e in events), 1),   # cpu + blocked: the stall without load
        "cpu_total_ms": round(sum(cpu), 1),
        "worst_cpu": [fmt(e) for e in sorted(events, key=lambda e: -e[0])[:top]],
        "worst_blocked": [fmt(e) for e in sorted(events, key=lambda e: -e[2])[:top]],
    }


def profile_text(prof: cProfile.Profile, lines: int = 25) -> list[str]:
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(lines)
    text = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(text) if "ncalls" in ln), 0)
    return [" ".join(ln.split()[3:]) for ln in text[start + 1:]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--profile", action="store_true", help="cProfile the GUI thread's Python per phase")
    ap.add_argument("--switch-ms", type=float, default=None, help="sys.setswitchinterval for this run (ms)")
    ap.add_argument("--gaps", action="store_true", help="explain the wall-clock gaps over 15 ms per phase")
    ap.add_argument("--worker-calls", action="store_true", help="list the jobs' C calls over 3 ms per phase")
    args = ap.parse_args()

    from visualizer.core.allocator import tune_allocator

    tune_allocator()
    log = EventLog()
    app, QtCore = make_app(log)
    if args.worker_calls:
        trace_worker_calls(log)
    trace_collections(log)
    from visualizer.gui.main_window import MainWindow

    settings = QtCore.QSettings(os.path.join(os.environ.get("TMPDIR", "/tmp"), "bench-gui-profile.ini"),
                                QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    try:
        from visualizer.gui.app import tune_for_responsiveness
    except ImportError:                 # a tree from before it (before/after comparisons)
        from visualizer.gui import gc_policy

        tune_for_responsiveness = lambda _w: gc_policy.enable()  # noqa: E731
    tune_for_responsiveness(w)          # as the app's entry point does
    if args.switch_ms is not None:
        sys.setswitchinterval(args.switch_ms / 1000)
    w.resize(1400, 900)
    w.show()
    if not wait(app, lambda: w.columns and w.columns[0].ready and w.image is not None and not w.pool.busy()):
        print(json.dumps({"error": "model did not load"}))
        return 1
    result: dict = {"benchmark": "gui_thread_profile",
                    "startup_gc_ms": sorted(round(ms, 1) for ms, _ in log.collections)[-3:]}   # the worst 3

    def gaps_of(seconds, until=None):
        if not args.gaps:
            return measure_gaps(app, seconds, until)
        ticks = measure_ticks(app, log, seconds, until)
        result.setdefault("_explained", []).append(explain_gaps(ticks, log.spans))
        return [b[0] - a[0] for a, b in zip(ticks, ticks[1:])] or [0.0]

    def phase(name: str, run) -> None:
        log.take()
        log.profiles, log.calls, log.collections, log.spans = [], [], [], []
        log.profiling = args.profile
        gaps = run()
        log.profiling = False
        result[name] = {**summary(log.take()), "longest_gap_ms_wall": round(1000 * max(gaps), 1)}
        if args.gaps:
            result[name]["gaps_explained"] = result.pop("_explained")[-1]
        if log.collections:
            result[name]["gc_ms_by_generation"] = {g: round(max(ms for ms, gen in log.collections if gen == g), 1)
                                                   for g in sorted({gen for _, gen in log.collections})}
        if args.worker_calls:
            result[name]["worker_long_calls"] = [f"{ms:.1f} ms {what}" for ms, what in sorted(log.calls)[::-1][:15]]
        if args.profile:
            worst = sorted(log.profiles, key=lambda p: -p[0])[:6]
            result[name]["worst_profiled"] = [{"ms": round(ms, 1), "event": ev, "top": top} for ms, ev, top in worst]

    phase("idle", lambda: gaps_of(1.5))
    w.form.attack.setCurrentIndex(w.form.attack.findData("pgd-linf"))
    w.form.fields["steps"].edit.setText(str(args.steps))
    w.run()
    phase("attack", lambda: gaps_of(args.seconds))
    w.cancel()
    wait(app, lambda: not w.pool.busy() and "attack" in w.columns[0].results)

    from visualizer.gui.dialogs.export_dialog import ExportChoice

    written = []
    w.exportFinished.connect(lambda rec: written.append(rec))
    folder = tempfile.mkdtemp(prefix="bench-export-")
    choice = ExportChoice(folder=os.path.join(folder, "run"), png=True, svg=True, pdf=True, dpi=args.dpi,
                          current_view=True, figure=True, raw=True)

    def export():
        w.export_to(choice)
        return gaps_of(600, until=lambda: bool(written))

    phase("export", export)
    result["export"]["written"] = bool(written and written[0])
    log.collections = []
    wait(app, lambda: not w.pool.busy())
    for _ in range(5):
        app.processEvents()
    result["after_export_gc_ms"] = [round(ms, 1) for ms, _ in log.collections]
    shutil.rmtree(folder, ignore_errors=True)
    w.close()
    result["loadavg"] = [round(v, 2) for v in os.getloadavg()]
    result["switch_interval_ms"] = 1000 * sys.getswitchinterval()
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
