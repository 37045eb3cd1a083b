"""Figures of a backdoor rate sweep (``visualizer poison``): clean accuracy and attack
success rate against the poison rate, and triggered test images with the predictions of the
least and the most poisoned model."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from visualizer.core.figures.drawing import show_image
from visualizer.core.figures.style import FIG_WIDTH, figure_style, finalize
from visualizer.core.formatting import poison_rate_text
from visualizer.core.palette import C_POISON_ASR, C_POISON_CLEAN

CLEAN_COLOUR, ASR_COLOUR = C_POISON_CLEAN, C_POISON_ASR
rate_label = poison_rate_text
GOOD = "#1a7f37"
BAD = "#c62828"


def curves_figure(record: dict) -> Figure:
    """Clean accuracy and ASR (in %) at each rate; with detection, the ASR and clean accuracy
    after retraining without the flagged examples (dashed). Rates sit at even spacing (they
    usually span decades and include 0), labelled with their value and poison count."""
    entries = record["rates"]
    xs = np.arange(len(entries))
    with figure_style():
        fig = Figure(figsize=(FIG_WIDTH * 0.8, 2.6), layout="constrained")
        ax = fig.add_subplot()
        clean = [100 * e["clean_accuracy"] for e in entries]
        asr = [100 * e["attack_success_rate"] for e in entries]
        ax.plot(xs, clean, "o-", color=CLEAN_COLOUR, label="clean test accuracy", markersize=3.5)
        ax.plot(xs, asr, "s-", color=ASR_COLOUR, label="attack success rate", markersize=3.5)
        detected = [(x, e["detection"]["retrained"]) for x, e in zip(xs, entries) if e.get("detection")]
        if detected:
            dx = [x for x, _ in detected]
            ax.plot(dx, [100 * r["attack_success_rate"] for _, r in detected], "s--", color=ASR_COLOUR,
                    markerfacecolor="white", markersize=3.5, label="ASR after spectral-signature removal")
            ax.plot(dx, [100 * r["clean_accuracy"] for _, r in detected], "o--", color=CLEAN_COLOUR,
                    markerfacecolor="white", markersize=3.5, label="clean accuracy after removal")
        ax.set_xticks(xs, [f"{rate_label(e['rate'])}\n({e['poisons']})" for e in entries])
        ax.set_xlabel("poison rate (poisoned training images)")
        ax.set_ylabel("%")
        ax.set_ylim(-3, 103)
        ax.grid(True, axis="y", linewidth=0.4, alpha=0.5)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=6.5)
        attack = {"badnets": "BadNets", "clean-label": "Clean-label"}[record["attack"]]
        t = record["training"]
        ax.set_title(f"{attack} backdoor: {record['trigger']['description']} \u2192 class {record['target_name']}\n"
                     f"{t['arch']}, {t['epochs']} epoch(s), {record['data']['train']['size']:,} training images")
    return finalize(fig)


def examples_figure(record: dict, clean: np.ndarray, triggered: np.ndarray) -> Figure:
    """Two rows of the sweep's example test images (K x C x H x W pixels in [0, 1]): clean,
    then with the trigger. Each is captioned with the prediction of the least poisoned model
    ("before") and of the most poisoned one ("after"); a triggered image classified as the
    target is captioned in red."""
    entries = record["rates"]
    before, after = entries[0], entries[-1]
    names = record["class_names"]
    labels = record["examples"]["labels"]
    k = len(labels)
    target = record["target"]
    with figure_style():
        fig = Figure(figsize=(FIG_WIDTH, 2.35 * 1.0 + 0.25), layout="constrained")
        axes = fig.subplots(2, k, squeeze=False)
        for row, (images, kind) in enumerate(((clean, "clean"), (triggered, "triggered"))):
            for i in range(k):
                ax = axes[row][i]
                show_image(ax, images[i], f"{kind} {i}")
                b = before["example_predictions"][kind][i]
                a = after["example_predictions"][kind][i]
                colour = BAD if (kind == "triggered" and a == target) else (GOOD if a == labels[i] else "black")
                ax.set_title(f"{names[b]} \u2192 {names[a]}", color=colour, fontsize=7)
            axes[row][0].set_ylabel("clean" if row == 0 else "with trigger", fontsize=7)
        fig.suptitle(f"Predictions before ({rate_label(before['rate'])} poisoned) \u2192 after "
                     f"({rate_label(after['rate'])}, {after['poisons']} poisons); true classes "
                     + ", ".join(names[c] for c in labels), fontsize=8)
    return finalize(fig)
