"""One attack on several models in one figure: a row per model with its clean input, the
adversarial image, the perturbation on ONE colour scale for all rows, and the top-5 after
the attack. The figure a paper puts next to "the robust model resists the same budget".

Rows show each model's own input crop (models may see the image at different sizes).
Axes labels for tests: ``clean<i>``, ``adversarial<i>``, ``perturbation<i>``, ``top5_<i>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from visualizer.core.figures.attack_panels import attack_description, top5_panel
from visualizer.core.figures.colorbars import amplification, perturbation_limit, perturbation_ticks
from visualizer.core.figures.drawing import as_chw, crisp_imshow, image_axes, show_image
from visualizer.core.figures.style import FIG_WIDTH, TITLE_PT, figure_style, finalize
from visualizer.core.figures.text import chars_for, class_text, ellipsize, prob_text, top1, wrap_parts
from visualizer.core.palette import C_REF, C_TGT, DIVERGING
from visualizer.core.results import saved_outcome

ROW_HEIGHT = 1.45   # inches per model


def _outcome(record: dict) -> tuple[str, str]:
    """('fooled' | 'resisted', colour), judged on the saved 8-bit image like the CLI summary."""
    success = saved_outcome(record)["success"]
    targeted = bool((record.get("parameters") or {}).get("targeted"))
    if success:
        return ("reached the target" if targeted else "fooled"), C_TGT
    return "resisted", C_REF


def attack_comparison_figure(records: Sequence[dict], cleans: Sequence[np.ndarray],
                             adversarials: Sequence[np.ndarray]) -> Figure:
    """``records`` are attack records (core/results.attack_record) of the same attack on
    different models; ``cleans`` / ``adversarials`` their C x H x W inputs in [0, 1]."""
    if not records or not (len(records) == len(cleans) == len(adversarials)):
        raise ValueError("one record, clean image and adversarial image per model are needed")
    cleans = [as_chw(c) for c in cleans]
    adversarials = [as_chw(a) for a in adversarials]
    deltas = []
    for i, (c, a) in enumerate(zip(cleans, adversarials)):
        if c.shape != a.shape:
            raise ValueError(f"model {i}: clean {c.shape} and adversarial {a.shape} differ in shape")
        deltas.append((a - c).mean(axis=0))
    params = records[0].get("parameters") or {}
    # One scale for every row: eps for L-inf (the whole threat ball), else the largest |delta|.
    limits = [perturbation_limit(d, params) for d in deltas]
    limit, k255, limit_name = max(limits, key=lambda item: item[0])
    n = len(records)

    with figure_style():
        title = wrap_parts([f"The same attack on {n} models", *attack_description(params)],
                            chars_for(FIG_WIDTH - 0.2, TITLE_PT))
        title_h = 0.1 + 0.17 * (title.count("\n") + 1)
        fig = Figure(figsize=(FIG_WIDTH, round(n * ROW_HEIGHT + 0.55 + title_h, 2)), layout="constrained")
        axes = fig.subplots(n, 4, width_ratios=[1, 1, 1, 1.15], squeeze=False)
        cmap = matplotlib.colormaps[DIVERGING]
        image = None
        for i, (record, clean, adv, delta) in enumerate(zip(records, cleans, adversarials, deltas)):
            ax_c, ax_a, ax_d, ax_t = axes[i]
            model_id = ellipsize((record.get("model") or {}).get("id", "?"), 22, middle=True)
            clean_top = top1(record.get("clean"))
            adv_top5 = saved_outcome(record)["top5"]   # of the saved 8-bit image in this row
            adv_top = adv_top5[0] if adv_top5 else None
            outcome, colour = _outcome(record)

            show_image(ax_c, clean, f"clean{i}")
            ax_c.set_xlabel(f"{class_text(clean_top, 18)} ({prob_text(clean_top.get('prob'))})" if clean_top else "?",
                            fontsize=7)
            ax_c.set_ylabel(model_id, fontsize=8, fontweight="bold")
            show_image(ax_a, adv, f"adversarial{i}")
            adv_text = f"{class_text(adv_top, 18)} ({prob_text(adv_top.get('prob'))})" if adv_top else "?"
            ax_a.set_xlabel(f"{adv_text}: {outcome}", fontsize=7, color=colour, fontweight="bold")
            image = crisp_imshow(ax_d, delta, cmap=cmap, vmin=-limit, vmax=limit)
            image_axes(ax_d, f"perturbation{i}")
            h, w = delta.shape
            ax_d.set_xlabel(f"{w} \u00d7 {h} px input", fontsize=7)

            label = record.get("label") or {}
            target = record.get("target") if params.get("targeted") else None
            top5_panel(ax_t, adv_top5, "", label.get("class"),
                        (target or {}).get("class"), f"top5_{i}")
            if i < n - 1:
                ax_t.set_xlabel("")
                ax_t.set_xticklabels([])

        headers = ("Clean (top-1)", "Adversarial (top-1)",
                   f"\u03b4 = adv. \u2212 clean, one scale\n{limit_name} ({amplification(limit)})", "Top-5 adversarial")
        for ax, head in zip(axes[0], headers):
            ax.set_title(head, fontsize=8, loc="left" if ax is axes[0][3] else "center")

        cbar = fig.colorbar(image, ax=axes[:, 2].tolist(), fraction=0.06, pad=0.02, aspect=12 * n)
        perturbation_ticks(cbar, limit, k255, [-1, 0, 1])
        fig.suptitle(title, fontsize=TITLE_PT)
    return finalize(fig)

