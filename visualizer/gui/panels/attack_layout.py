"""Where an attack column puts its images: the arrangement that makes them largest in the
space the column has, so the images, not the plot, dominate.

Two arrangements:

* ``row``: Original | Adversarial | Perturbation (+ colour bar) in one row, the two top-5
  charts side by side below. Best for wide columns (one model, a wide window).
* ``grid``: Original | Adversarial on top, the Perturbation (+ colour bar) below with the two
  top-5 charts stacked beside it. Best for the narrow, tall columns of two or three models
  side by side (at 1600 x 1000 with three models: about 110 px images in a row, about 140 px
  this way; with two, 170 against 230).

Pure arithmetic on pixel sizes (no widgets), so it can be checked on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Arrangement", "choose_arrangement"]

GAP = 6                  # pixels between neighbouring panels
GRID_GAIN = 1.15         # the grid must make images this much larger to be chosen over the row


@dataclass(frozen=True)
class Arrangement:
    mode: str            # "row" or "grid"
    cell: int            # width of the Original and Adversarial images (pixels)
    upper_h: int         # height of the Original | Adversarial block (titles and captions included)
    lower_h: int         # row: the top-5 charts; grid: the perturbation and charts beside it
    pert_w: int          # width of the perturbation block (image + colour bar)


def _fit(limit_w: float, limit_h: float, aspect: float) -> float:
    """The largest image width within ``limit_w`` x ``limit_h`` at height/width ``aspect``."""
    return max(0.0, min(limit_w, limit_h / aspect))


def choose_arrangement(width: int, height: int, aspect: float, text_h: int, bar_w: int,
                       bars_side_by_side_h: int, bars_stacked_h: int, bars_min_w: int = 130,
                       min_cell: int = 24) -> Arrangement:
    """``width`` x ``height``: the pixels the images and top-5 charts may use; ``aspect``:
    image height / width; ``text_h``: a title or caption line; ``bar_w``: the colour bar with
    its ticks; ``bars_*_h``: the top-5 charts side by side / one above the other;
    ``bars_min_w``: the narrowest the stacked charts may be."""
    aspect = max(aspect, 1e-3)
    text = 2 * text_h                                   # title above, caption below every image

    # Row: three equal images and the bar across the width, the charts below.
    row_cell = _fit((width - bar_w - 3 * GAP) / 3, height - bars_side_by_side_h - text - GAP, aspect)
    row = Arrangement("row", int(row_cell), int(row_cell * aspect + text), bars_side_by_side_h,
                      int(row_cell + bar_w + GAP))

    # Grid: two images across the top; below, the perturbation (+ bar) beside the stacked
    # charts, which take the rest of the width. All three images the same size: linked views
    # share one zoom (screen pixels per image pixel), so a larger view would only add margins.
    # The largest size that fits.
    most = _fit(min((width - GAP) / 2, width - bar_w - GAP - bars_min_w), height, aspect)

    def total(cell: float) -> float:
        return 2 * (cell * aspect + text) + GAP if cell * aspect + text >= bars_stacked_h else \
            cell * aspect + text + GAP + bars_stacked_h

    lo, hi = 0.0, most
    for _ in range(30):                                  # bisection: the height grows with the cell
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) <= height else (lo, mid)
    upper = lo * aspect + text
    grid = Arrangement("grid", int(lo), int(upper), int(max(upper, bars_stacked_h)), int(lo + bar_w))

    if grid.cell >= max(min_cell, row.cell * GRID_GAIN):
        return grid
    return row
