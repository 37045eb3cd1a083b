"""The most confident failures of one model: a row per threat, the inputs that fooled it
(most confident first), each titled with its example index and true -> predicted class and
captioned with the probability of the wrong answer. Pixels stay crisp in every format.

Axes labels for tests: ``failure<row>_<col>``.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from visualizer.core.evaluation.figures import budget_text
from visualizer.core.figures import FIG_WIDTH, TITLE_PT, _ellipsize, _finalize, _show_image, figure_style

IMAGE_IN = 0.78      # inches per image
LABEL_IN = 1.25      # the threat names on the left


def gallery_figure(model_id: str, class_names: list[str], threats: list[dict], rows: list[list],
                   input_side: int | None = None) -> Figure | None:
    """``rows[i]``: the Candidates (gallery.py) of ``threats[i]`` (threat dicts as in
    evaluation.json); threats without failures are left out. None when none has any."""
    shown = [(t, r) for t, r in zip(threats, rows) if r]
    if not shown:
        return None
    columns = max(len(r) for _, r in shown)
    width = max(FIG_WIDTH * 0.6, LABEL_IN + IMAGE_IN * 1.06 * columns)
    height = 0.45 + len(shown) * (IMAGE_IN + 0.42)
    with figure_style():
        fig = Figure(figsize=(width, height), layout="constrained")
        grid = fig.add_gridspec(len(shown), columns + 1, width_ratios=[LABEL_IN / IMAGE_IN] + [1] * columns)
        for i, (threat, cands) in enumerate(shown):
            label_ax = fig.add_subplot(grid[i, 0])
            label_ax.set_axis_off()
            label_ax.text(0.0, 0.5, f"{threat['label']}\n{budget_text(threat, input_side)}", ha="left", va="center",
                          fontsize=7.5, transform=label_ax.transAxes, linespacing=1.3)
            for j in range(columns):
                ax = fig.add_subplot(grid[i, j + 1])
                if j >= len(cands):
                    ax.set_axis_off()
                    continue
                c = cands[j]
                _show_image(ax, c.image.astype(float) / 255.0, f"failure{i}_{j}")
                true, pred = (_ellipsize(class_names[k], 9) if 0 <= k < len(class_names) else str(k)
                              for k in (c.label, c.prediction))
                ax.set_title(f"#{c.index}: {true}\u2192{pred}", fontsize=6.5, pad=2)
                ax.set_xlabel(f"p = {c.confidence:.2f}", fontsize=6.5, labelpad=1.5)
        fig.suptitle(f"Most confident failures of {_ellipsize(model_id, 60)} (true\u2192predicted, "
                     "probability of the wrong class)", fontsize=TITLE_PT)
    return _finalize(fig)
