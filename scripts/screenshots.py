"""Screenshots of the main states of the app, taken from a real X server.

Run under Xvfb (the README's screenshots come from this):
    xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshots.py docs/
    xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshots.py docs/ --size 1000x700
With ``--size`` the window gets that size and the files a ``-WxH`` suffix (app_pgd-1000x700.png);
without it the window fills the screen. Each state is captured with ImageMagick's ``import``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description="Screenshots of the app's main states (under Xvfb).")
    ap.add_argument("out", nargs="?", default="docs")
    ap.add_argument("--size", help="window size WxH, e.g. 1000x700 (default: the whole screen)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("DISPLAY"):
        print("needs an X display: run under xvfb-run", file=sys.stderr)
        return 2
    from visualizer.gui.qt import QtCore, QtWidgets

    app = QtWidgets.QApplication(sys.argv[:1])
    from visualizer.core.resources import resource_path
    from visualizer.gui.main_window import MainWindow

    # Fresh settings in a temporary file: the user's remembered layout must not leak in.
    settings_dir = tempfile.TemporaryDirectory()
    settings = QtCore.QSettings(os.path.join(settings_dir.name, "screenshots.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    screen = app.primaryScreen().availableGeometry()
    suffix = ""
    if args.size:
        width, height = (int(v) for v in args.size.lower().split("x"))
        w.setGeometry(screen.x(), screen.y(), width, height)
        suffix = f"-{width}x{height}"
    else:
        w.setGeometry(screen)
    w.show()

    def pump(cond=lambda: True, timeout=600.0):
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.01)
            if cond() and not w.pool.busy():
                break
        for _ in range(30):                  # let repaints land before the capture
            app.processEvents()
            time.sleep(0.01)

    def shot(name):
        path = out / name.replace(".png", f"{suffix}.png")
        # The window alone (no window manager under Xvfb: the window is its client area).
        subprocess.run(["import", "-window", str(int(w.winId())), str(path)], check=True)
        print("wrote", path)

    def choose(key):
        w.form.attack.setCurrentIndex(w.form.attack.findData(key))

    pump(lambda: bool(w.columns) and w.columns[0].ready and w.image is not None)
    shot("app_launch.png")

    w.form.fields["steps"].edit.setText("10")
    choose("pgd-linf")
    w.run()
    pump(lambda: "attack" in w.columns[0].results)
    shot("app_pgd.png")

    choose("spatial-grid")
    w.run()
    pump(lambda: "sweep" in w.columns[0].results)
    shot("app_sweep.png")

    # The README's hero pair: the standard and the L2-robust MNIST model on a test "3".
    digit = resource_path("samples", "mnist", "3_idx18.png")
    while w.columns:
        w.model_list.setCurrentRow(0)
        w.remove_selected_model()
    w.open_image(digit)
    w.load_model("mnist-standard", {})
    w.load_model("mnist-robust-l2", {})
    pump(lambda: len(w.columns) == 2 and all(c.ready for c in w.columns) and w.image is not None
         and w.image.name == digit.name)
    choose("saliency")
    w.form.method.setCurrentIndex(w.form.method.findData("smoothgrad"))
    w.run(all_models=True)
    pump(lambda: w.saliency_result is not None)
    shot("app_saliency.png")

    choose("pgd-l2")
    w.form.fields["eps"].edit.setText("8")
    w.form.fields["steps"].edit.setText("100")
    w.form.targeted.setChecked(True)
    w.form.target_picker.setText("7")
    w.run(all_models=True)
    pump(lambda: all("attack" in c.results for c in w.columns))
    shot("app_targeted_mnist.png")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
