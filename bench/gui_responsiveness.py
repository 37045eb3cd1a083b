"""GUI responsiveness while an attack, then an export, runs on the worker thread.

A 5 ms QTimer on the GUI thread records when it actually fires; the longest gap between
ticks is the longest the window could not react. Measured idle, during a PGD attack on the
bundled ImageNet model, and during File > Export of that attack (the view as seen and the
publication figure in PNG, SVG and PDF at --dpi, result.json and arrays: the view is
recorded on the GUI thread in slices, everything else is the worker's), side by side in one
run (ratios, not bare times, are what compare across machines). The attack is cancelled
after --seconds; its partial result is what is exported. Prints one JSON object.

    python bench/gui_responsiveness.py [--seconds 8] [--steps 200] [--mode both|attack|export] [--dpi 300]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def measure_gaps(app, seconds: float, until=None, stamp=None) -> list:
    """Gaps between 5 ms timer ticks for ``seconds``, or until ``until()`` is true. With
    ``stamp``, what ``stamp()`` returned at each tick instead (gui_thread_profile --gaps)."""
    from visualizer.gui.qt import QtCore

    ticks: list = []
    timer = QtCore.QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter() if stamp is None else stamp()))
    timer.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not (until is not None and until()):
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.001)
    timer.stop()
    if stamp is not None:
        return ticks
    return [b - a for a, b in zip(ticks, ticks[1:])] or [0.0]


def wait(app, cond, seconds: float = 300) -> bool:
    deadline = time.perf_counter() + seconds
    while not cond():
        app.processEvents()
        time.sleep(0.01)
        if time.perf_counter() > deadline:
            return False
    return True


def p99(gaps: list[float]) -> float:
    return round(1000 * sorted(gaps)[int(0.99 * (len(gaps) - 1))], 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--mode", choices=("both", "attack", "export"), default="both",
                    help="attack: stall during the attack only; export: during the export only (of a short attack)")
    ap.add_argument("--dpi", type=int, default=300, help="export resolution")
    args = ap.parse_args()

    from visualizer.core.allocator import tune_allocator
    from visualizer.gui.qt import QtCore, QtWidgets

    tune_allocator()   # as the app's entry point does
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    from visualizer.gui.main_window import MainWindow

    settings = QtCore.QSettings(os.path.join(os.environ.get("TMPDIR", "/tmp"), "bench-gui.ini"),
                                QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    from visualizer.gui.app import tune_for_responsiveness

    tune_for_responsiveness(w)          # as the app's entry point does
    w.resize(1400, 900)
    w.show()
    if not wait(app, lambda: w.columns and w.columns[0].ready and w.image is not None and not w.pool.busy()):
        print(json.dumps({"error": "model did not load"}))
        return 1
    idle = measure_gaps(app, args.seconds / 2)
    result = {"benchmark": "gui_responsiveness", "mode": args.mode, "idle_longest_gap_ms": round(1000 * max(idle), 1)}
    w.form.attack.setCurrentIndex(w.form.attack.findData("pgd-linf"))
    w.form.fields["steps"].edit.setText(str(args.steps if args.mode != "export" else 2))
    w.run()
    if args.mode != "export":
        busy = measure_gaps(app, args.seconds)
        result.update({
            "attack_longest_gap_ms": round(1000 * max(busy), 1),
            "attack_p99_gap_ms": p99(busy),
            "ratio_attack_to_idle": round(max(busy) / max(idle), 2),
            "attack_still_running_at_end": w.pool.busy(),
        })
        w.cancel()               # its partial result is exported below
    wait(app, lambda: not w.pool.busy() and "attack" in w.columns[0].results)
    if args.mode != "attack":
        from visualizer.gui.dialogs.export_dialog import ExportChoice

        written = []
        w.exportFinished.connect(lambda rec: written.append(rec))
        folder = tempfile.mkdtemp(prefix="bench-export-")
        choice = ExportChoice(folder=os.path.join(folder, "run"), png=True, svg=True, pdf=True, dpi=args.dpi,
                              current_view=True, figure=True, raw=True)
        started = time.perf_counter()
        w.export_to(choice)
        gaps = measure_gaps(app, 600, until=lambda: bool(written))
        result.update({
            "export_seconds": round(time.perf_counter() - started, 2),
            "export_written": bool(written and written[0]),
            "export_longest_gap_ms": round(1000 * max(gaps), 1),
            "export_p99_gap_ms": p99(gaps),
            "ratio_export_to_idle": round(max(gaps) / max(idle), 2),
        })
        wait(app, lambda: not w.pool.busy())
        shutil.rmtree(folder, ignore_errors=True)
    w.close()
    result.update({"target_ms": 30, "torch_threads": __import__("torch").get_num_threads(),
                   "cpu_count": os.cpu_count(), "loadavg": [round(v, 2) for v in os.getloadavg()]})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
