"""The perturbation colour scale shared by the attack and comparison figures: its limit
(eps for L-inf, so the colours span the threat ball) and its ticks in eps units."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter

from visualizer.core.figures.text import over_255
from visualizer.core.formatting import signed

def perturbation_limit(delta: np.ndarray, params: dict) -> tuple[float, int | None, str]:
    """(colour limit L, k if L = k/255, what L is). L-inf attacks use L = eps so the colour
    range is exactly the threat ball; otherwise L = max |delta| of the shown map."""
    finite = np.abs(delta[np.isfinite(delta)])
    max_abs = float(finite.max()) if finite.size else 0.0
    eps = params.get("eps")
    # float32 projection can leave |delta| a few ulps above eps: still the eps ball.
    if params.get("norm") == "linf" and eps is not None and float(eps) > 0 and max_abs <= float(eps) + 1e-5:
        eps = float(eps)
        return eps, over_255(eps), "\u00b1\u03b5"
    if max_abs > 0:
        return max_abs, None, "\u00b1max|\u03b4|"
    return (float(eps) if eps else 1.0), None, "\u00b1\u03b5"


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


def amplification(limit: float) -> str:
    factor = 1.0 / limit
    return f"\u00d7{factor:.0f}" if factor >= 10 else f"\u00d7{factor:.2g}"
