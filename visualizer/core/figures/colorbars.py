"""The perturbation colour scale shared by the attack and comparison figures: its limit
(eps for L-inf, so the colours span the threat ball) and its ticks in eps units."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter

from visualizer.core.figures.text import over_255
from visualizer.core.formatting import signed
from visualizer.core.perturbation_scale import amplification, perturbation_scale

__all__ = ["amplification", "perturbation_limit", "perturbation_ticks"]


def perturbation_limit(delta: np.ndarray, params: dict) -> tuple[float, int | None, str]:
    """(colour limit L, k if L = k/255, what L is): see core/perturbation_scale.py, the rule
    the window's panels follow too."""
    scale = perturbation_scale(delta, params)
    return scale.limit, (over_255(scale.limit) if scale.spans_eps else None), scale.name


def perturbation_ticks(cbar, limit: float, k255: int | None, fractions) -> None:
    """Ticks of a perturbation colour bar: k/255 labels when the limit is a whole number of
    grey levels (at ``fractions`` of it), else -limit, 0, +limit as numbers."""
    if k255 is not None:
        ticks = np.array(fractions, dtype=float) * limit
        cbar.set_ticks(ticks)
        cbar.set_ticklabels(["0" if t == 0 else signed(t * 255) + "/255" for t in ticks])
    else:
        cbar.set_ticks(np.array([-1, 0, 1]) * limit)
        cbar.formatter = FuncFormatter(lambda v, _pos: signed(v) if v else "0")
        cbar.update_ticks()
    cbar.outline.set_linewidth(0.5)
    cbar.ax.tick_params(length=2)
