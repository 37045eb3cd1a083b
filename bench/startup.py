"""Startup: wall time from process start to the main window shown, relative to a bare
``python -c "import torch, PySide6.QtWidgets"`` (the two libraries the app cannot start
without). Both are fresh subprocesses timed by this parent, interleaved, median of 5.

The app child imports the GUI, creates ``MainWindow(load_defaults=False)`` offscreen,
shows it and processes events once. Both children leave with ``os._exit(0)`` so
interpreter teardown, which no user waits for, is counted in neither.

    python bench/startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import common  # noqa: F401  (puts the checkout on sys.path)
from common import ROOT, bench_device, emit, environment, median, paired_ratio

BARE = "import os, torch, PySide6.QtWidgets; os._exit(0)"
APP = """
import os, sys
from visualizer.gui.qt import QtCore, QtWidgets
app = QtWidgets.QApplication(sys.argv)
from visualizer.gui.main_window import MainWindow
settings = QtCore.QSettings(os.environ["BENCH_SETTINGS"], QtCore.QSettings.Format.IniFormat)
w = MainWindow(settings=settings, load_defaults=False)
w.show()
app.processEvents()
assert w.isVisible()
sys.stdout.flush()
os._exit(0)
"""


def run_child(code: str, env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"startup child failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", BENCH_SETTINGS=os.path.join(tmp, "bench.ini"),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        run_child(BARE, env)   # warm the file cache for both
        run_child(APP, env)
        bare, app = [], []
        for r in range(args.repeats):
            pair = [(bare, BARE), (app, APP)]
            for samples, code in (pair if r % 2 == 0 else pair[::-1]):
                samples.append(run_child(code, env))
    emit({
        "benchmark": "startup",
        "target": "ratio <= 1.5",
        "repeats": args.repeats,
        "bare_import_s": round(median(bare), 3),
        "app_window_shown_s": round(median(app), 3),
        "ratio": round(paired_ratio(app, bare), 3),
        "samples": {"bare": [round(v, 3) for v in bare], "app": [round(v, 3) for v in app]},
        "env": environment(bench_device()),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
