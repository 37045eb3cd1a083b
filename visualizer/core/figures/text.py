"""Text as the figures print it: ellipsized and wrapped names, probabilities, budgets as k/255."""

from __future__ import annotations

import math
from collections.abc import Sequence

from visualizer.core.figures.style import BASE_PT
from visualizer.core.formatting import num

def ellipsize(text, limit: int, middle: bool = False) -> str:
    """At most ``limit`` characters; ``middle`` keeps both ends (model ids differ at the end)."""
    text = str(text)
    if len(text) <= limit:
        return text
    if middle and limit >= 9:
        head = (limit - 1) // 2
        tail = limit - 1 - head
        return text[:head].rstrip() + "\u2026" + text[len(text) - tail:].lstrip()
    return text[: max(1, limit - 1)].rstrip() + "\u2026"


def wrap_id(text, limit: int, max_lines: int = 2) -> str:
    """Break a long identifier after '/', '_', '-' or '.' into at most ``max_lines`` lines of
    ``limit`` characters; what still does not fit loses its middle."""
    text = str(text)
    lines = []
    while len(text) > limit and len(lines) < max_lines - 1:
        cut = max((i + 1 for i, ch in enumerate(text[:limit]) if ch in "/_-."), default=0)
        if cut < limit // 3:
            cut = limit
        lines.append(text[:cut])
        text = text[cut:]
    lines.append(ellipsize(text, limit, middle=True))
    return "\n".join(lines)


def chars_for(width_in: float, size_pt: float = BASE_PT) -> int:
    """Roughly how many characters of DejaVu Sans at ``size_pt`` fit in ``width_in`` inches."""
    return max(8, int(width_in * 72.0 / (0.56 * size_pt)))


def wrap_parts(parts: Sequence[str], limit: int, sep: str = " \u00b7 ") -> str:
    """Join ``parts`` with ``sep`` into as few lines of at most ``limit`` characters as it can."""
    lines: list[str] = []
    for part in (p for p in parts if p):
        if lines and len(lines[-1]) + len(sep) + len(part) <= limit:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return "\n".join(lines)


def prob_is(p) -> str:
    """'= 0.123' or '< 0.001', to follow a name such as P(true)."""
    text = prob_text(p)
    return text.replace("<", "< ") if text.startswith("<") else "= " + text


def prob_text(p) -> str:
    p = float(p)
    if not math.isfinite(p):
        return "n/a"
    if p >= 0.9995:
        return "1.000"
    return f"{p:.3f}" if p >= 0.001 else "<0.001"


def short_prob(p) -> str:
    p = float(p)
    return f"{p:.2f}" if p >= 0.005 else "<0.01"


def over_255(value) -> int | None:
    """k when ``value`` is (very nearly) k/255 for an integer k >= 1."""
    if value is None:
        return None
    scaled = float(value) * 255.0
    k = round(scaled)
    return int(k) if k >= 1 and abs(scaled - k) < 0.02 else None


def eps_text(value, norm: str | None) -> str:
    if value is None:
        return "?"
    k = over_255(value) if norm == "linf" else None
    return f"{num(value)} ({k}/255)" if k is not None else num(value)


def class_text(entry: dict | None, limit: int = 26) -> str:
    if not entry:
        return "?"
    return ellipsize(entry.get("label", entry.get("class", "?")), limit)


def top1(block: dict | None, key: str = "top5") -> dict | None:
    if not block:
        return None
    entries = block.get(key) or []
    return entries[0] if entries else None
