"""The colour scale of a perturbation map, shared by the exported figures and the window.

A perturbation delta = adversarial - clean (pixels in [0, 1]) is drawn with a diverging map
over [-L, +L]. For an L-inf attack L is its budget eps, so the colours span exactly the
threat ball; otherwise (L2, or a map exceeding eps) L is the largest |delta| shown. Maps
compared side by side share one L per threat model (``shared_scales``), so equal colours
mean equal changes. Ticks and read-outs are in grey levels (k/255) and, for L-inf, in eps.
No Qt, no matplotlib: both front ends format the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from visualizer.core.formatting import num, signed

__all__ = ["PerturbationScale", "amplification", "delta_text", "perturbation_scale", "scale_ticks",
           "scale_unit", "shared_scales"]

# float32 arithmetic can leave |delta| a few ulps above eps after projection: still the ball.
EPS_REL_TOLERANCE = 1e-4
EPS_ABS_TOLERANCE = 1e-6


@dataclass(frozen=True)
class PerturbationScale:
    """Colours span [-limit, +limit] (pixel units). ``norm`` and ``eps`` are the attack's
    threat model; ``spans_eps`` says the limit is the L-inf budget itself."""

    limit: float
    norm: str | None = None
    eps: float | None = None
    spans_eps: bool = False

    @property
    def name(self) -> str:
        """What the limit is, for captions: '±ε' or '±max|δ|'."""
        return "\u00b1\u03b5" if self.spans_eps else "\u00b1max|\u03b4|"

    @property
    def k255(self) -> int | None:
        """k when the limit is (very nearly) k/255 grey levels, k >= 1."""
        scaled = self.limit * 255.0
        k = round(scaled)
        return int(k) if k >= 1 and abs(scaled - k) < 0.02 else None


def perturbation_scale(delta: np.ndarray, params: dict | None) -> PerturbationScale:
    """The scale of one map ``delta`` (any shape) of an attack with ``params`` (an
    AttackParams dict: ``norm``, ``eps``)."""
    params = params or {}
    values = np.asarray(delta, dtype=np.float64)
    finite = np.abs(values[np.isfinite(values)])
    max_abs = float(finite.max()) if finite.size else 0.0
    norm = params.get("norm")
    eps = float(params["eps"]) if params.get("eps") is not None else None
    if norm == "linf" and eps and eps > 0 and max_abs <= eps * (1 + EPS_REL_TOLERANCE) + EPS_ABS_TOLERANCE:
        return PerturbationScale(eps, norm, eps, spans_eps=True)
    if max_abs > 0:
        return PerturbationScale(max_abs, norm, eps)
    return PerturbationScale(eps if eps and eps > 0 else 1.0, norm, eps, spans_eps=norm == "linf" and bool(eps))


def shared_scales(scales: list[PerturbationScale | None]) -> list[PerturbationScale | None]:
    """One scale per threat model: every scale of the same norm gets the largest limit among
    them (an L-inf map of eps 4/255 beside one of 8/255 is drawn on ±8/255, and keeps its own
    ``eps`` for read-outs); None stays None."""
    widest: dict[str | None, PerturbationScale] = {}
    for s in scales:
        if s is not None and (s.norm not in widest or s.limit > widest[s.norm].limit):
            widest[s.norm] = s
    out = []
    for s in scales:
        if s is None:
            out.append(None)
            continue
        w = widest[s.norm]
        out.append(s if w.limit == s.limit else replace(s, limit=w.limit, spans_eps=w.spans_eps))
    return out


def _nice_step(span: float) -> float:
    """The largest of 1, 2, 5 x 10^k not above ``span``."""
    if span <= 0:
        return 1.0
    base = 10.0 ** math.floor(math.log10(span))
    return max(m * base for m in (1, 2, 5) if m * base <= span * (1 + 1e-9))


def _levels_text(value: float) -> str:
    """A signed change in grey levels: '+4/255', '\u22122.5/255', '0'."""
    k = value * 255.0
    if abs(k) < 1e-9:
        return "0"
    text = f"{k:+.0f}" if abs(k - round(k)) < 0.02 else f"{k:+.1f}"
    return text.replace("-", "\u2212") + "/255"


def scale_ticks(scale: PerturbationScale) -> list[tuple[float, str]]:
    """(value, label) ticks for a colour bar of ``scale``, short enough for a narrow bar, in
    the unit ``scale_unit`` names: for a limit of eps, -ε, -ε/2, 0, +ε/2, +ε;
    otherwise round numbers of grey levels (or plain values when the limit is below about one
    level). Values are in pixel units."""
    limit = scale.limit
    if scale.spans_eps:
        names = ("−ε", "−ε/2", "0", "+ε/2", "+ε")
        return [(f * limit, name) for f, name in zip((-1.0, -0.5, 0.0, 0.5, 1.0), names)]
    if limit * 255 >= 0.95:
        step = _nice_step(limit * 255 / 2)
        n = int(math.floor(limit * 255 / step + 1e-9))
        return [(k * step / 255, f"{k * step:+g}".replace("-", "\u2212") if k else "0") for k in range(-n, n + 1)]
    step = _nice_step(limit / 2)
    n = int(math.floor(limit / step + 1e-9))
    return [(k * step, signed(k * step) if k else "0") for k in range(-n, n + 1)]


def scale_unit(scale: PerturbationScale) -> str:
    """The unit of ``scale_ticks``' labels, for the colour bar's axis title."""
    if scale.spans_eps:
        return f"ε = {limit_text(scale)}"
    return "grey levels (/255)" if scale.limit * 255 >= 0.95 else "pixel value"


def delta_text(value: float, scale: PerturbationScale | None = None) -> str:
    """A change of one pixel as a reader wants it: grey levels, and eps units for an
    L-inf attack ('+3/255 = +0.75 \u03b5')."""
    value = float(value)
    if not math.isfinite(value):
        return "n/a"
    text = _levels_text(value) if abs(value) * 255 >= 0.05 or value == 0 else signed(value)
    if scale is not None and scale.norm == "linf" and scale.eps:
        text += f" = {value / scale.eps:+.2f} \u03b5".replace("-", "\u2212")
    return text


def amplification(limit: float) -> str:
    """How much the map amplifies changes for the eye ('\u00d764' for a limit of 4/255)."""
    factor = 1.0 / limit
    return f"\u00d7{factor:.0f}" if factor >= 10 else f"\u00d7{factor:.2g}"


def limit_text(scale: PerturbationScale) -> str:
    """'4/255' or '0.0123': the limit as captions print it."""
    k = scale.k255
    return f"{k}/255" if k is not None else num(scale.limit)
