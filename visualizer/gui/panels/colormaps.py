"""Colour maps and class colours for the panels: the same tables and hex values the
exported figures use (core/palette.py), so a PNG from the CLI and the window on screen
agree. No matplotlib here: the tables are stored, which keeps it out of start-up."""

from __future__ import annotations

import numpy as np

from visualizer.core.palette import C_REF, C_TGT, C_WORST, DIVERGING, MAGNITUDE, N_COLOURS, SEQUENTIAL, colour_table
from visualizer.gui.qt import pg

__all__ = ["C_REF", "C_TGT", "C_WORST", "diverging_cmap", "magnitude_cmap", "overlay_lut", "sequential_cmap"]


def _colormap(name: str) -> pg.ColorMap:
    # A fresh ColorMap each call: callers may reverse or edit theirs without touching others.
    return pg.ColorMap(np.linspace(0.0, 1.0, N_COLOURS), colour_table(name).copy(), name=name)


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
