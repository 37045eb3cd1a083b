"""Screenshots of the main states of the app, taken from a real X server.

Run under Xvfb (the README's screenshots come from this):
    xvfb-run -s "-screen 0 1600x1000x24" python scripts/screenshots.py docs/
Each state is captured with ImageMagick's ``import -window root``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs")
    out.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("DISPLAY"):
        print("needs an X display: run under xvfb-run", file=sys.stderr)
        return 2
    from visualizer.gui.qt import QtCore, QtWidgets

    app = QtWidgets.QApplication(sys.argv)
    from visualizer.core.resources import sample_images
    from visualizer.gui.main_window import MainWindow

    # Fresh settings in a temporary file: the user's remembered layout must not leak in.
    settings_dir = tempfile.TemporaryDirectory()
    settings = QtCore.QSettings(os.path.join(settings_dir.name, "screenshots.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    screen = app.primaryScreen().availableGeometry()
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
        subprocess.run(["import", "-window", "root", str(out / name)], check=True)
        print("wrote", out / name)

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

    digit = next(p for p in sample_images() if p.name.startswith("digit-"))
    while w.columns:
        w.model_list.setCurrentRow(0)
        w.remove_selected_model()
    w.open_image(digit)
    w.load_model("digits-standard", {})
    w.load_model("digits-robust", {})
    pump(lambda: len(w.columns) == 2 and all(c.ready for c in w.columns) and w.image is not None
         and w.image.name == digit.name)
    choose("saliency")
    w.form.method.setCurrentIndex(w.form.method.findData("smoothgrad"))
    w.run(all_models=True)
    pump(lambda: w.saliency_result is not None)
    shot("app_saliency.png")

    choose("pgd-l2")
    w.form.fields["eps"].edit.setText("4")
    w.form.fields["steps"].edit.setText("60")
    w.form.targeted.setChecked(True)
    w.form.target_picker.setText("8")
    w.run(all_models=True)
    pump(lambda: all("attack" in c.results for c in w.columns))
    shot("app_targeted_digits.png")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
