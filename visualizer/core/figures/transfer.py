"""The transfer matrix of ``visualizer evaluate``: one panel per transfer attack, rows the
source (surrogate) models the examples were crafted on, columns the target models they were
scored on; each cell the attack success rate on the target (share of its clean-correct
examples broken) with its 95% Wilson interval and n. The diagonal is the white-box attack,
outlined. Built from evaluation.json's ``transfer`` list alone.

Axes labels for tests: ``transfer<i>``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from visualizer.core.figures.evaluation import display_names, eps_label
from visualizer.core.figures.style import FIG_WIDTH, SMALL_PT, TITLE_PT, figure_style, finalize
from visualizer.core.figures.text import wrap_id


def _shade(rate: float | None) -> tuple:
    """White at 0% success, a warm orange at 100% (more red: the attack transfers)."""
    if rate is None:
        return (0.93, 0.93, 0.93)
    top = np.array([0.94, 0.55, 0.30])
    return tuple(1 - (1 - top) * float(rate))


def _cell_text(cell: dict | None) -> str:
    if cell is None or cell["success_rate"] is None:
        return "n/a"
    low, high = cell["success_ci95"]
    return (f"{100 * cell['success_rate']:.1f}%\n[{100 * low:.0f}, {100 * high:.0f}]\n"
            f"n = {cell['clean_correct']}")


def _panel(ax, matrix: dict, names: dict, first: bool, column_chars: int) -> None:
    sources, targets = matrix["sources"], matrix["targets"]
    for i, row in enumerate(matrix["cells"]):
        for j, cell in enumerate(row):
            rate = cell["success_rate"] if cell else None
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=_shade(rate), edgecolor="white", linewidth=1.0))
            ax.text(j + 0.5, i + 0.5, _cell_text(cell), ha="center", va="center", fontsize=SMALL_PT, linespacing=1.15)
            if sources[i] == targets[j]:
                ax.add_patch(Rectangle((j + 0.03, i + 0.03), 0.94, 0.94, fill=False, edgecolor="#333333",
                                       linewidth=1.0, linestyle=(0, (3, 2))))
    ax.set_xlim(0, len(targets))
    ax.set_ylim(len(sources), 0)
    ax.set_xticks(np.arange(len(targets)) + 0.5, [wrap_id(names[t], column_chars, 3) for t in targets])
    ax.set_yticks(np.arange(len(sources)) + 0.5, [wrap_id(names[s], 18) for s in sources])
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("target (scored on)")
    if first:
        ax.set_ylabel("source (crafted on)")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    eps = f", \u03b5 = {eps_label(matrix)}" if matrix.get("eps") is not None else ""
    ax.set_title(f"{matrix['label'].replace('Transfer ', '')}{eps}", pad=4)


def transfer_figure(record: dict) -> Figure | None:
    """The matrices of ``record['transfer']`` side by side (None when there are none)."""
    matrices = record.get("transfer") or []
    if not matrices:
        return None
    ids = [m["id"] for m in record["models"]]
    names = dict(zip(ids, display_names(ids)))
    size = max(len(m["targets"]) for m in matrices)
    side = 0.8 * size + 1.0
    width = min(FIG_WIDTH, side * len(matrices) + 0.3)
    # Characters a column label may use: the panel's width less the row labels, per column
    # (about 17 characters of 7 pt text to the inch).
    column_chars = max(6, int(17 * (max(width, 3.6) / len(matrices) - 1.3) / size) - 1)
    with figure_style():
        fig = Figure(figsize=(max(width, 3.6), side + 1.0), layout="constrained")
        axes = fig.subplots(1, len(matrices), squeeze=False)[0]
        for k, (ax, matrix) in enumerate(zip(axes, matrices)):
            ax.set_label(f"transfer{k}")
            _panel(ax, matrix, names, k == 0, column_chars)
        fig.suptitle("Transfer: attack success rate on the target\n(95% Wilson interval; dashed: white-box)",
                     fontsize=TITLE_PT)
    return finalize(fig)
