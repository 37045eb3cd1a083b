"""The hicolor PNGs of the application icon exist in every size, are transparent around the
rounded square, and are what the SVG renders to (scripts/render_icons.py made them; they
cannot drift from the SVG unnoticed)."""

import importlib.util
import re

import numpy as np
import pytest
from PIL import Image

from support import ROOT

spec = importlib.util.spec_from_file_location("render_icons", ROOT / "scripts" / "render_icons.py")
render_icons = importlib.util.module_from_spec(spec)
spec.loader.exec_module(render_icons)


@pytest.mark.parametrize("size", render_icons.SIZES)
def test_png_has_its_size_and_transparent_corners(size):
    path = render_icons.png_path(size)
    assert path.is_file(), f"{path} missing: run scripts/render_icons.py"
    image = Image.open(path)
    assert image.size == (size, size)
    assert image.mode == "RGBA"
    alpha = np.asarray(image)[..., 3]
    for corner in (alpha[0, 0], alpha[0, -1], alpha[-1, 0], alpha[-1, -1]):
        assert corner == 0
    assert (alpha == 255).mean() > 0.5                      # the square itself is opaque
    rgb = np.asarray(image)[..., :3][alpha == 255].reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) >= 5                 # sky, sun, hills, noise, border


def premultiplied(image) -> np.ndarray:
    """A QImage as a float (h, w, 4) premultiplied RGBA array: colour under alpha 0 is
    arbitrary in a PNG, so images compare premultiplied."""
    from PySide6 import QtGui

    image = image.convertToFormat(QtGui.QImage.Format.Format_RGBA8888_Premultiplied)
    w, h = image.width(), image.height()
    return np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine() // 4, 4)[:, :w].astype(float)


@pytest.mark.parametrize("size", render_icons.SIZES)
def test_png_matches_the_svg(qapp, size):
    from PySide6 import QtGui

    committed = QtGui.QImage(str(render_icons.png_path(size)))
    diff = np.abs(premultiplied(render_icons.render(size)) - premultiplied(committed))
    # Tolerates antialiasing that differs slightly between Qt versions; a shape moved by
    # a pixel at the rounded corners (0.4 mean, 2 px at 16 px) already fails.
    changed = int((diff.max(axis=-1) > 32).sum())
    assert diff.mean() < 0.2 and changed <= max(1, size * size // 1000), \
        f"{size}px PNG drifted from the SVG (mean abs diff {diff.mean():.2f}, {changed} px): rerun scripts/render_icons.py"


def test_packaging_files_name_the_hicolor_icon():
    name = render_icons.ICON_NAME
    desktop = (ROOT / "packaging" / "adversarial-visualizer.desktop").read_text()
    assert re.search(rf"^Icon={re.escape(name)}$", desktop, re.M)
    assert f'<icon name="{name}"/>' in (ROOT / "packaging" / "adversarial-visualizer-session.xml").read_text()
    metainfo = (ROOT / "packaging" / "io.github.adversarial_visualizer.metainfo.xml").read_text()
    assert f"<launchable type=\"desktop-id\">{name}.desktop</launchable>" in metainfo


def test_window_icon_has_the_small_sizes(qapp):
    from visualizer.gui.app import app_icon

    icon = app_icon()
    assert not icon.isNull()
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert {(n, n) for n in render_icons.SIZES} <= sizes
