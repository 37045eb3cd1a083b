"""The spatial-sweep figure: true-class probability over rotation x translation (grid: one
heatmap per ty; random: a scatter of the draws), with the clean image and the worst transform.
Axes labels: ``clean``, ``worst``, ``heatmap_ty<i>`` (grid) or ``scatter_tx``, ``scatter_ty``."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from visualizer.core.figures.drawing import as_chw, crisp_imshow, floats, halo, plain_axes, show_image
from visualizer.core.figures.style import BASE_PT, FIG_WIDTH, SMALL_PT, TITLE_PT, figure_style, finalize
from visualizer.core.figures.sweep_axes import apply_axis_labels, draw_misclassified, grid_axis
from visualizer.core.figures.text import class_text, ellipsize, prob_is
from visualizer.core.formatting import num, signed
from visualizer.core.palette import C_BAD, C_WORST, SEQUENTIAL

def _worst_title(worst: dict) -> str:
    return "(b) Worst transform\n" + ellipsize(worst.get("pred_label", worst.get("pred", "?")), 22)


def _worst_caption(worst: dict) -> str:
    deg = "\u00b0"
    verdict = "misclassified" if worst.get("fooled") else "still correct"
    angle, tx, ty = (worst.get(k) or 0.0 for k in ("angle", "tx", "ty"))
    p_true = worst.get("true_prob")
    return (f"rot {signed(angle, deg)}, tx {signed(tx)}, ty {signed(ty)} px\n"
            f"{verdict}, P(true) {prob_is(float('nan') if p_true is None else p_true)}")


class _Grid:
    """A grid sweep's axes and values, checked against each other before anything is drawn."""

    def __init__(self, sweep: dict):
        self.rot_c, self.rot_e, self.rot_l = grid_axis(sweep["rotations"])
        self.tx_c, self.tx_e, self.tx_l = grid_axis(sweep["translations_x"])
        ty_values = floats(sweep.get("translations_y")).ravel()
        self.ty_values = ty_values if ty_values.size else np.zeros(1)
        self.prob = np.asarray(sweep["grid_true_prob"], dtype=float)
        self.pred = np.asarray(sweep.get("grid_pred"), dtype=float) if sweep.get("grid_pred") is not None else None
        expected = (self.rot_c.size, self.tx_c.size, self.ty_values.size)
        if self.prob.shape != expected:
            raise ValueError(f"grid_true_prob has shape {self.prob.shape}, expected {expected}")
        self.n_panels = self.ty_values.size
        self.ncols = min(self.n_panels, 5)
        self.nrows = math.ceil(self.n_panels / self.ncols)

    def worst_index(self, sweep: dict, worst_info: dict) -> tuple[int, int, int] | None:
        """(rotation, tx, ty) indices of the grid cell nearest the worst transform."""
        wa, wx, wy = (worst_info.get("angle"), worst_info.get("tx"), worst_info.get("ty"))
        if wa is None or wx is None or wy is None:
            return None
        ri = int(np.argmin(np.abs(np.asarray(sweep["rotations"], float) - float(wa))))
        xi = int(np.argmin(np.abs(np.asarray(sweep["translations_x"], float) - float(wx))))
        yi = int(np.argmin(np.abs(self.ty_values - float(wy))))
        return ri, xi, yi


def _grid_heatmaps(right, grid: _Grid, sweep: dict, worst_info: dict, true_cls, cmap, norm):
    """One heatmap per ty on ``right``; returns (colour bar, legend handles, legend labels, subtitle)."""
    g = grid
    axes = right.subplots(g.nrows, g.ncols, sharex=True, sharey=True, squeeze=False)
    extent = (g.tx_e[0], g.tx_e[-1], g.rot_e[0], g.rot_e[-1])
    wrong_any = nan_any = False
    worst_idx = g.worst_index(sweep, worst_info)
    im = None
    for k in range(g.nrows * g.ncols):
        ax = axes.flat[k]
        if k >= g.n_panels:
            ax.set_visible(False)
            continue
        ax.set_label(f"heatmap_ty{k}")
        panel = g.prob[:, :, k]
        im = crisp_imshow(ax, panel, extent=extent, origin="lower", cmap=cmap, norm=norm, aspect="auto")
        nan_any |= bool(np.isnan(panel).any())
        if g.pred is not None and true_cls is not None:
            pp = g.pred[:, :, k]
            wrong = np.isfinite(pp) & (pp >= 0) & (pp != true_cls)
            if wrong.any():
                wrong_any = True
                draw_misclassified(ax, wrong, panel, g.tx_c, g.rot_c, g.tx_e, g.rot_e, cmap, norm)
        if worst_idx is not None and worst_idx[2] == k:
            ri, xi, _ = worst_idx
            ax.add_patch(Rectangle((g.tx_e[xi], g.rot_e[ri]), g.tx_e[xi + 1] - g.tx_e[xi],
                                   g.rot_e[ri + 1] - g.rot_e[ri], fill=False, edgecolor=C_WORST, linewidth=1.5,
                                   zorder=4, path_effects=halo(2.8)))
        ax.set_title(f"ty = {signed(g.ty_values[k], ' px')}")
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
        apply_axis_labels(ax.xaxis, g.tx_c, g.tx_l)
        apply_axis_labels(ax.yaxis, g.rot_c, g.rot_l)
        if k % g.ncols == 0:
            ax.set_ylabel("rotation (\u00b0)")
        if k // g.ncols == g.nrows - 1 or k + g.ncols >= g.n_panels:     # nothing drawn below it
            ax.set_xlabel("tx (px)")
            ax.xaxis.set_tick_params(labelbottom=True)
    used = [a for a in axes.flat if a.get_visible()]
    cbar = right.colorbar(im, ax=used, fraction=0.05, pad=0.02, aspect=30)
    handles: list = []
    labels: list[str] = []
    if wrong_any:
        handles.append((Line2D([], [], color="black", lw=2.0), Line2D([], [], color="white", lw=0.8),
                        Line2D([], [], ls="none", marker="x", color="black", markersize=3.5, markeredgewidth=0.7)))
        labels.append("misclassified (\u00d7)")
    if worst_idx is not None:
        handles.append(Patch(facecolor="none", edgecolor=C_WORST, linewidth=1.5))
        labels.append("worst transform")
    if nan_any:
        handles.append(Patch(facecolor=C_BAD, edgecolor="none"))
        labels.append("not evaluated")
    sub = (f"(c) grid {g.rot_c.size} rotations \u00d7 {g.tx_c.size} tx \u00d7 {g.ty_values.size} ty; "
           "one panel per vertical shift ty")
    return cbar, handles, labels, sub


def _random_scatter(right, sweep: dict, worst_info: dict, true_cls, cmap, norm):
    """Rotation against tx and against ty for each random draw; returns what ``_grid_heatmaps`` does."""
    samples = floats(sweep.get("samples")).reshape(-1, 3)
    sp = floats(sweep.get("sample_true_prob")).ravel()
    if sp.size != len(samples):
        sp = np.full(len(samples), np.nan)
    spred = floats(sweep.get("sample_pred")).ravel()
    wrong = None
    if spred.size == len(samples) and spred.size and true_cls is not None:
        wrong = np.isfinite(spred) & (spred >= 0) & (spred != true_cls)
    axes = right.subplots(1, 2, sharey=True, squeeze=False)
    im = None
    for k, (col, name) in enumerate(((1, "tx"), (2, "ty"))):
        ax = axes[0, k]
        ax.set_label(f"scatter_{name}")
        ok = np.ones(len(samples), bool) if wrong is None else ~wrong
        im = ax.scatter(samples[ok, col], samples[ok, 0], c=sp[ok], cmap=cmap, norm=norm, s=10,
                        linewidths=0, zorder=2, plotnonfinite=True)
        if wrong is not None and wrong.any():
            ax.scatter(samples[wrong, col], samples[wrong, 0], c=sp[wrong], cmap=cmap, norm=norm, s=22,
                       marker="X", edgecolors="white", linewidths=0.4, zorder=3, plotnonfinite=True)
        if worst_info.get("angle") is not None:
            ax.scatter([worst_info.get(name, 0)], [worst_info["angle"]], s=90, marker="o",
                       facecolors="none", edgecolors=C_WORST, linewidths=1.5, zorder=4, path_effects=halo(2.8))
        ax.set_xlabel(f"{name} (px)")
        ax.set_title(f"rotation vs {name}")
        plain_axes(ax)
        ax.grid(True, lw=0.3, color="0.85")
        ax.set_axisbelow(True)
    axes[0, 0].set_ylabel("rotation (\u00b0)")
    cbar = right.colorbar(im, ax=list(axes.flat), fraction=0.05, pad=0.02, aspect=30)
    handles: list = []
    labels: list[str] = []
    if wrong is not None and wrong.any():
        handles.append(Line2D([], [], ls="none", marker="X", color="0.4", markeredgecolor="white", markersize=6))
        labels.append("misclassified")
    handles.append(Line2D([], [], ls="none", marker="o", markerfacecolor="none",
                          markeredgecolor=C_WORST, markeredgewidth=1.5, markersize=8))
    labels.append("worst transform")
    return cbar, handles, labels, f"(c) {len(samples)} random transforms"


def _sweep_title(record: dict, params: dict, sweep: dict, worst_info: dict, grid_mode: bool) -> str:
    """Model, sweep mode and ranges; then how often the model was fooled, and whether cancelled."""
    model_id = ellipsize((record.get("model") or {}).get("id", "?"), 48)
    frac = sweep.get("fooled_fraction")
    frac_text = f"misclassified on {100 * float(frac):.1f}% of transforms" if frac is not None else ""
    rng = []
    if params.get("max_rotation") is not None:
        rng.append(f"rotation \u00b1{num(params['max_rotation'])}\u00b0")
    if params.get("max_translation") is not None:
        rng.append(f"translation \u00b1{num(params['max_translation'])} px")
    mode = "grid" if grid_mode else "random"
    line1 = f"{model_id} \u00b7 spatial sweep ({mode}" + (", " + ", ".join(rng) if rng else "") + ")"
    if not frac_text and worst_info:
        frac_text = "fooled" if worst_info.get("fooled") else "not fooled"
    line2 = " \u00b7 ".join(t for t in (frac_text, "cancelled" if record.get("cancelled") else "") if t)
    return line1 + "\n" + line2


def sweep_figure(record: dict, clean: np.ndarray, worst: np.ndarray) -> Figure:
    """True-class probability over rotation x translation (grid: one heatmap per ty; random:
    scatter of the draws), with the clean image and the worst transform.

    ``clean`` and ``worst`` are C x H x W floats in [0, 1]. Raises ValueError when the grid's
    probabilities do not match its axes."""
    clean = as_chw(clean)
    worst_img = as_chw(worst)
    sweep = record.get("sweep") or {}
    params = record.get("parameters") or {}
    label = record.get("label") or {}
    worst_info = sweep.get("worst") or {}
    true_cls = label.get("class")
    grid_mode = sweep.get("rotations") is not None and sweep.get("grid_true_prob") is not None

    with figure_style():
        cmap = matplotlib.colormaps[SEQUENTIAL].with_extremes(bad=C_BAD)
        norm = mcolors.Normalize(0.0, 1.0)
        grid = _Grid(sweep) if grid_mode else None
        if grid is not None:
            panel_h = 2.35 if grid.nrows == 1 else 1.75
            height = 0.45 + grid.nrows * panel_h + 0.35
        else:
            height = 0.45 + 2.45 + 0.35
        height = max(height, 3.3)
        fig = Figure(figsize=(FIG_WIDTH, round(height, 2)), layout="constrained")
        left_w = 1.8
        left, right = fig.subfigures(1, 2, width_ratios=[left_w, FIG_WIDTH - left_w], wspace=0.0)

        ax_clean, ax_worst = left.subplots(2, 1)
        show_image(ax_clean, clean, "clean")
        ax_clean.set_title(f"(a) Clean\n{class_text(label, 22)}")
        ax_clean.set_xlabel("true class" if label.get("source") == "given" else "predicted class (reference)",
                            fontsize=SMALL_PT)
        show_image(ax_worst, worst_img, "worst")
        ax_worst.set_title(_worst_title(worst_info))
        ax_worst.set_xlabel(_worst_caption(worst_info), fontsize=SMALL_PT)

        if grid is not None:
            cbar, handles, labels, sub = _grid_heatmaps(right, grid, sweep, worst_info, true_cls, cmap, norm)
        else:
            cbar, handles, labels, sub = _random_scatter(right, sweep, worst_info, true_cls, cmap, norm)
        cbar.set_label(f"P(true class: {class_text(label, 22)})")
        cbar.outline.set_linewidth(0.5)
        cbar.ax.tick_params(length=2)
        right.suptitle(sub, fontsize=BASE_PT, x=0.02, ha="left")
        if handles:
            right.legend(handles, labels, loc="outside lower center", ncols=len(handles),
                         handler_map={tuple: HandlerTuple(ndivide=1)})
        fig.suptitle(_sweep_title(record, params, sweep, worst_info, grid_mode), fontsize=TITLE_PT)
    return finalize(fig)
