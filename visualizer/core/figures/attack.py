"""The attack figure: original, adversarial, amplified perturbation, top-5 before/after and
attack progress. Axes labels: ``clean``, ``adversarial``, ``perturbation``, ``top5_clean``,
``top5_adversarial``, ``history`` and its twin ``history_prob`` (when the history holds probabilities)."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from visualizer.core.figures.attack_panels import attack_description, history_panel, top5_panel
from visualizer.core.figures.colorbars import amplification, perturbation_limit, perturbation_ticks
from visualizer.core.figures.drawing import as_chw, crisp_imshow, image_axes, show_image
from visualizer.core.figures.style import FIG_WIDTH, SMALL_PT, TITLE_PT, figure_style, finalize
from visualizer.core.figures.text import chars_for, class_text, ellipsize, eps_text, prob_text, top1, wrap_parts
from visualizer.core.formatting import num
from visualizer.core.palette import C_REF, C_TGT, DIVERGING
from visualizer.core.results import saved_outcome

def _attack_title(record: dict, params: dict) -> str:
    """Model, outcome, attack, eps (float and k/255), then the norms: all of the saved 8-bit
    adversarial image (see results.saved_outcome)."""
    saved = saved_outcome(record)
    model_id = ellipsize((record.get("model") or {}).get("id", "?"), 48, middle=True)
    outcome = "attack succeeded" if saved["success"] else "attack failed"
    if record.get("cancelled"):
        outcome += " (cancelled early)"
    parts = [model_id, outcome, *attack_description(params)]
    if saved["linf"] is not None:
        parts.append(f"\u2016\u03b4\u2016\u221e = {eps_text(saved['linf'], 'linf')}")
    if saved["l2"] is not None:
        parts.append(f"\u2016\u03b4\u2016\u2082 = {num(saved['l2'])}")
    if record.get("success") is not None and bool(record["success"]) != bool(saved["success"]):
        parts.append(f"the float result {'succeeded' if record['success'] else 'failed'} before 8-bit rounding")
    return wrap_parts(parts, chars_for(FIG_WIDTH - 0.2, TITLE_PT))


def attack_figure(record: dict, clean: np.ndarray, adversarial: np.ndarray) -> Figure:
    """Original, adversarial, amplified perturbation, top-5 before/after and attack progress.

    ``clean`` and ``adversarial`` are C x H x W floats in [0, 1] (C = 1 or 3) at model-input size.
    """
    clean = as_chw(clean)
    adversarial = as_chw(adversarial)
    if clean.shape != adversarial.shape:
        raise ValueError(f"clean {clean.shape} and adversarial {adversarial.shape} differ in shape")
    params = record.get("parameters") or {}
    label = record.get("label") or {}
    target = record.get("target")
    targeted = bool(params.get("targeted")) and target is not None
    ref_cls = label.get("class")
    tgt_cls = target.get("class") if targeted else None
    c, h, w = clean.shape

    with figure_style():
        image_side = 1.9                         # inches: the three image panels are height-bound
        top_h = image_side * min(1.0, max(h / w, 0.5)) + 0.42
        bottom_h = 1.95
        title = _attack_title(record, params)
        title_h = 0.06 + 0.17 * (title.count("\n") + 1)
        fig = Figure(figsize=(FIG_WIDTH, round(top_h + bottom_h + title_h, 2)), layout="constrained")
        top, bottom = fig.subfigures(2, 1, height_ratios=[top_h, bottom_h])
        ax_a, ax_b, ax_c = top.subplots(1, 3)

        # (a), (b): images with top-1.
        clean_top = top1(record.get("clean"))
        adv_top5 = saved_outcome(record)["top5"]      # of the saved 8-bit image shown in (b)
        adv_top = adv_top5[0] if adv_top5 else None
        show_image(ax_a, clean, "clean")
        show_image(ax_b, adversarial, "adversarial")
        ax_a.set_title("(a) Original\n" + (f"{class_text(clean_top)} ({prob_text(clean_top.get('prob'))})"
                                           if clean_top else "?"))
        ax_b.set_title("(b) Adversarial\n" + (f"{class_text(adv_top)} ({prob_text(adv_top.get('prob'))})"
                                              if adv_top else "?"))

        # (c): signed perturbation on a diverging map, symmetric limits.
        delta = (adversarial - clean).mean(axis=0)
        limit, k255, limit_name = perturbation_limit(delta, params)
        cmap = matplotlib.colormaps[DIVERGING]
        im = crisp_imshow(ax_c, delta, cmap=cmap, vmin=-limit, vmax=limit)
        image_axes(ax_c, "perturbation")
        ax_c.set_title(f"(c) Perturbation {amplification(limit)}\ncolour range {limit_name}")
        ax_c.set_xlabel("mean over RGB channels (signed)" if c == 3 else "single channel (signed)",
                        fontsize=SMALL_PT)
        cbar = top.colorbar(im, ax=ax_c, fraction=0.08, pad=0.03, aspect=22)
        perturbation_ticks(cbar, limit, k255, [-1, -0.5, 0, 0.5, 1])
        cbar.set_label("\u03b4 = adversarial \u2212 clean")

        # (d): top-5 before and after; (e): loss and probabilities per iterate.
        bars_sf, hist_sf = bottom.subfigures(1, 2, width_ratios=[2.05, 1.0], wspace=0.0)
        d_clean, d_adv = bars_sf.subplots(1, 2)
        top5_panel(d_clean, (record.get("clean") or {}).get("top5"), "(d) Top-5 clean", ref_cls, tgt_cls,
                    "top5_clean")
        top5_panel(d_adv, adv_top5, "Top-5 adversarial", ref_cls,
                    tgt_cls, "top5_adversarial")
        source = {"given": "true", "predicted": "clean prediction"}.get(label.get("source"), label.get("source"))
        bar_handles = [Patch(color=C_REF, label=f"reference: {class_text(label, 24)} ({source})")]
        if targeted:
            bar_handles.append(Patch(color=C_TGT, label=f"target: {class_text(target, 24)}"))
        bars_sf.legend(handles=bar_handles, loc="outside lower center", ncols=len(bar_handles),
                       handlelength=1.0, handleheight=0.8)

        ax_e = hist_sf.subplots()
        line_handles = history_panel(ax_e, record.get("history"), targeted, params.get("restarts"))
        if line_handles:
            hist_sf.legend(handles=line_handles, loc="outside lower center", ncols=len(line_handles),
                           handlelength=1.4, columnspacing=0.8)

        fig.suptitle(title, fontsize=TITLE_PT)
    return finalize(fig)
