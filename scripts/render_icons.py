"""Render the application icon (resources/icons/visualizer.svg) into the PNG sizes of the
freedesktop hicolor theme, so desktop menus and small window icons stay crisp:

    QT_QPA_PLATFORM=offscreen python scripts/render_icons.py

writes resources/icons/hicolor/<N>x<N>/apps/adversarial-visualizer.png for every N in
SIZES. tests/test_icons.py re-renders the SVG and fails if a committed PNG drifts from it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "visualizer.svg"
HICOLOR = ROOT / "resources" / "icons" / "hicolor"
ICON_NAME = "adversarial-visualizer"          # Icon= in packaging/adversarial-visualizer.desktop
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def png_path(size: int, hicolor: Path = HICOLOR) -> Path:
    return hicolor / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"


def render(size: int, svg: Path = SVG):
    """The SVG drawn into a transparent size x size ARGB32 QImage (needs a QGuiApplication)."""
    from PySide6 import QtCore, QtGui, QtSvg

    renderer = QtSvg.QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"cannot read {svg}")
    image = QtGui.QImage(size, size, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(image)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QtCore.QRectF(0, 0, size, size))
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtGui

    app = QtGui.QGuiApplication.instance() or QtGui.QGuiApplication(sys.argv[:1])
    for size in SIZES:
        out = png_path(size)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not render(size).save(str(out), "PNG"):
            print(f"could not write {out}", file=sys.stderr)
            return 1
        print(f"{out.relative_to(ROOT)}  {out.stat().st_size} bytes")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
