"""Colour maps and class colours for the panels, taken from the same matplotlib maps and hex
values the exported figures use, so a PNG from the CLI and the window on screen agree."""

from __future__ import annotations

from functools import lru_cache

import matplotlib
import numpy as np

from visualizer.core.figures import C_REF, C_TGT, C_WORST, DIVERGING, MAGNITUDE, SEQUENTIAL
from visualizer.gui.qt import pg

__all__ = ["C_REF", "C_TGT", "C_WORST", "diverging_cmap", "magnitude_cmap", "overlay_lut", "sequential_cmap"]

N_COLOURS = 256


@lru_cache(maxsize=None)
def _samples(name: str) -> np.ndarray:
    """N x 4 uint8 RGBA samples of a matplotlib colour map (read-only: shared by the cache)."""
    rgba = matplotlib.colormaps[name](np.linspace(0.0, 1.0, N_COLOURS))
    out = np.round(rgba * 255).astype(np.ubyte)
    out.setflags(write=False)
    return out


def _colormap(name: str) -> pg.ColorMap:
    # A fresh ColorMap each call: callers may reverse or edit theirs without touching others.
    return pg.ColorMap(np.linspace(0.0, 1.0, N_COLOURS), _samples(name).copy(), name=name)


def diverging_cmap() -> pg.ColorMap:
    """Signed maps (perturbation, signed saliency): blue negative, white zero, red positive."""
    return _colormap(DIVERGING)


def sequential_cmap() -> pg.ColorMap:
    """Probabilities in [0, 1] (sweep heatmaps)."""
    return _colormap(SEQUENTIAL)


def magnitude_cmap() -> pg.ColorMap:
    """Unsigned magnitudes (absolute saliency)."""
    return _colormap(MAGNITUDE)


def overlay_lut(cmap: pg.ColorMap, signed: bool, max_alpha: float = 0.85) -> np.ndarray:
    """The map's 256-entry RGBA lookup table with opacity growing with |value| (from the middle
    for signed maps, from the bottom otherwise), so an overlay hides the image only where the
    map is strong. Same rule as the exported overlay figure."""
    lut = cmap.getLookupTable(nPts=N_COLOURS, alpha=True).copy()
    t = np.linspace(0.0, 1.0, N_COLOURS)
    strength = np.abs(2.0 * t - 1.0) if signed else t
    lut[:, 3] = np.round(255 * max_alpha * strength).astype(np.ubyte)
    return lut
