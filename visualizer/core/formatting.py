"""Numbers and names as the panels and figures print them: budgets as k/255, signed shifts with a real minus
sign, probabilities to two decimals, long class names shortened."""

from __future__ import annotations

import math

__all__ = ["completeness_text", "ellipsize", "eps_text", "gradient_text", "num", "over_255", "prob_text",
           "rate_text", "signed"]


def prob_text(p) -> str:
    p = float(p)
    if not math.isfinite(p):
        return "n/a"
    return f"{p:.2f}" if p >= 0.005 else "<0.01"


def over_255(value) -> str:
    """'4/255', '3.6/255', '0.5/255', '185.8/255': how people write image-space budgets, to 4
    significant digits, in the grammar the fields accept (core/numbers.py), so a copied
    read-out parses (never '0.0/255' for a budget below a tenth of a level)."""
    return f"{float(value) * 255.0:.4g}/255"


def poison_rate_text(rate: float) -> str:
    """A poison rate as a share of the training set: 0.01 -> '1%', 0.001 -> '0.1%'."""
    return f"{rate * 100:g}%"


def rate_text(per_s: float, unit: str = "img") -> str:
    """'12.3 img/s', or for a slow threat (AutoAttack on a robust model) the seconds per image,
    '25 s/img', instead of a rate rounded to '0.0 img/s'. ``unit``: what is counted ("batch")."""
    rate = float(per_s)
    if rate >= 0.1:
        return f"{rate:.1f} {unit}/s"
    return f"{1 / rate:.3g} s/{unit}" if rate > 0 else "n/a"


def duration_text(seconds, spaced: bool = False) -> str:
    """A duration a reader takes in at a glance: '42.0s', '3m05s', '1h02m', '3d04h', '>99d'
    (a progress line's ETA and elapsed time), or with ``spaced`` '42 s', '3 min 05 s',
    '1 h 02 min', '3 d 04 h' (the window's labels). Unknown (NaN, infinite, negative): '?'.
    A huge run (steps 1e11) read '326587492.1s' before."""
    value = float(seconds)
    if not math.isfinite(value) or value < 0:
        return "?"
    if value < 60:
        return f"{value:.0f} s" if spaced else f"{value:.1f}s"
    whole = int(round(value))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days > 99:
        return "> 99 d" if spaced else ">99d"
    if days:
        return f"{days} d {hours:02d} h" if spaced else f"{days}d{hours:02d}h"
    if hours:
        return f"{hours} h {minutes:02d} min" if spaced else f"{hours}h{minutes:02d}m"
    return f"{minutes} min {secs:02d} s" if spaced else f"{minutes}m{secs:02d}s"


def num(value) -> str:
    value = float(value)
    return f"{value:.3g}" if value != 0 else "0"


def eps_text(value, norm: str | None) -> str:
    """An epsilon as its value, plus k/255 for L-inf budgets."""
    if value is None:
        return "?"
    return f"{over_255(value)} ({num(value)})" if norm == "linf" else num(value)


def signed(value, unit: str = "") -> str:
    value = float(value)
    text = f"{value:+.3g}" if value != 0 else "0"
    return text.replace("-", "\u2212") + unit


def ellipsize(text, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: max(1, limit - 1)].rstrip() + "\u2026"


def completeness_text(entry: dict) -> tuple[str, bool]:
    """('gap 1.0% (256 steps)', flagged) for an Integrated Gradients map entry of a saliency
    record whose gradient is usable; ('', False) otherwise. Flagged: above the tolerance, with a
    warning sign in front."""
    c = entry.get("completeness")
    if not c or entry.get("gradient", "ok") != "ok":
        return "", False
    gap = c.get("gap")
    flagged = gap is None or gap > float(c.get("tolerance", 0.05))
    text = f"gap {'undefined' if gap is None else f'{100 * gap:.1f}%'} ({c.get('steps')} steps)"
    return ("\u26a0 " + text if flagged else text), flagged


def gradient_text(entry: dict) -> str:
    """'no gradient (NaN)' / 'zero gradient everywhere' for a saliency map entry whose gradient
    is unusable, else ''."""
    state = entry.get("gradient")
    if state == "nan":
        count = entry.get("nonfinite_values")
        return "no gradient (NaN)" + (f"\n{count} NaN/inf values" if count else "")
    return "zero gradient\neverywhere" if state == "zero" else ""


POISON_COLLAPSED = 0.5      # clean images of other classes called the target: above this, no backdoor to see


def broken_model_note(entry: dict) -> str | None:
    """A warning for a rate's entry (or its retrained one) whose model calls most clean images
    the target class: its ASR of ~100% is a collapsed model, not a backdoor (a 1000-image,
    10% sweep did this: clean accuracy 8%, ASR 100%)."""
    rate = entry.get("clean_target_rate")
    if rate is None or rate < POISON_COLLAPSED:
        return None
    return (f"the model calls {rate:.0%} of clean images of other classes the target too: its ASR measures a "
            "broken model, not a backdoor (train on more images, or with a lower learning rate)")
