"""How much a small image is enlarged, by whole pixels, before it goes into a PDF or SVG:
readers smooth an embedded image they scale up, which blurs an 8 px digit and turns a 3 x 7
heat map into a gradient that looks like data. Shared by the matplotlib figures
(figures/drawing.py) and the window's view export (gui/image_piece.py)."""

from __future__ import annotations

import math

CRISP_MIN_SIDE = 512      # enlarge until the longer side has about this many pixels
CRISP_MAX_FACTOR = 64     # but by at most this factor


def upsample_factor(h: int, w: int) -> int:
    """The whole-pixel factor for an h x w image (1: leave it as it is)."""
    side = max(int(h), int(w), 1)
    return int(min(CRISP_MAX_FACTOR, max(1, math.ceil(CRISP_MIN_SIDE / side))))
