"""The most confident failures of one model: a row per threat, the inputs that fooled it
(most confident first), each titled true -> predicted class and captioned with its example
index and the probability of the wrong answer. Pixels stay crisp in every format.

The grid is placed by hand (fixed inches per image) rather than by a layout engine: a
gallery has dozens of axes, and constrained layout took most of its drawing time.

Axes labels for tests: ``failure<row>_<col>``.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from visualizer.core.figures.evaluation import budget_text
from visualizer.core.figures.drawing import show_image
from visualizer.core.figures.style import TITLE_PT, figure_style
from visualizer.core.figures.text import ellipsize

IMAGE_IN = 0.76      # inches per image
GAP_IN = 0.14        # between images: room for titles a little wider than the image
ROW_IN = IMAGE_IN + 0.36   # an image with its title above and caption below
LABEL_IN = 1.3       # the threat names on the left
TOP_IN = 0.42        # the figure title
MARGIN_IN = 0.08
MIN_WIDTH_IN = 4.6   # the title's width


def gallery_figure(model_id: str, class_names: list[str], threats: list[dict], rows: list[list],
                   input_side: int | None = None) -> Figure | None:
    """``rows[i]``: the Candidates (gallery.py) of ``threats[i]`` (threat dicts as in
    evaluation.json); threats without failures are left out. None when none has any."""
    shown = [(t, r) for t, r in zip(threats, rows) if r]
    if not shown:
        return None
    columns = max(len(r) for _, r in shown)
    width = max(MIN_WIDTH_IN, MARGIN_IN * 2 + LABEL_IN + columns * IMAGE_IN + (columns - 1) * GAP_IN)
    height = TOP_IN + len(shown) * ROW_IN + MARGIN_IN
    with figure_style():
        fig = Figure(figsize=(width, height))
        for i, (threat, cands) in enumerate(shown):
            row_top = TOP_IN + i * ROW_IN + 0.16          # room for the image titles
            y = 1 - (row_top + IMAGE_IN) / height
            fig.text(MARGIN_IN / width, 1 - (row_top + IMAGE_IN / 2) / height,
                     f"{threat['label']}\n{budget_text(threat, input_side)}", ha="left", va="center", fontsize=7.5,
                     linespacing=1.3)
            for j, c in enumerate(cands):
                x = (MARGIN_IN + LABEL_IN + j * (IMAGE_IN + GAP_IN)) / width
                ax = fig.add_axes((x, y, IMAGE_IN / width, IMAGE_IN / height))
                show_image(ax, c.image.astype(float) / 255.0, f"failure{i}_{j}")
                true, pred = (ellipsize(class_names[k], 8) if 0 <= k < len(class_names) else str(k)
                              for k in (c.label, c.prediction))
                ax.set_title(f"{true}\u2192{pred}", fontsize=6.3, pad=2)
                ax.set_xlabel(f"#{c.index}, p = {c.confidence:.2f}", fontsize=6.3, labelpad=1.5)
        fig.text(0.5, 1 - 0.14 / height, f"Most confident failures of {ellipsize(model_id, 50)}", ha="center",
                 va="center", fontsize=TITLE_PT)
        fig.text(0.5, 1 - 0.3 / height, "true\u2192predicted class; example index, probability of the wrong class",
                 ha="center", va="center", fontsize=7)
    return fig
