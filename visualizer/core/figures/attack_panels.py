"""Panels of an attack that more than one figure draws: the attack's description, the top-5
bars and the loss/probability history."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.ticker import MaxNLocator

from visualizer.core.attacks.params import objective_name
from visualizer.core.figures.drawing import floats, plain_axes
from visualizer.core.figures.style import SMALL_PT
from visualizer.core.figures.text import ellipsize, eps_text, short_prob
from visualizer.core.palette import C_LOSS, C_OTHER, C_REF, C_TGT

def attack_description(params: dict) -> list[str]:
    """Title parts: method and norm, eps, step size, targeted or not."""
    method = str(params.get("method", "?")).lower()
    norm = params.get("norm")
    norm_text = {"linf": "L\u221e", "l2": "L2"}.get(norm, str(norm))
    steps = params.get("steps")
    query_names = {"square": "Square", "nes": "NES", "hopskipjump": "HopSkipJump"}   # query attacks
    head = (f"PGD-{steps}" if steps else "PGD") if method == "pgd" else query_names.get(method, method.upper())
    parts = [f"{head} {norm_text}", f"\u03b5 = {eps_text(params.get('eps'), norm)}"]
    if method == "pgd" and params.get("step_size") is not None:
        parts.append(f"\u03b1 = {eps_text(params['step_size'], norm)}")
    if params.get("queries"):     # a query (black-box) attack: its budget per image
        parts.append(f"{int(params['queries'])} queries")
    restarts = params.get("restarts")
    if restarts and int(restarts) > 1:
        parts.append(f"{int(restarts)} restarts")
    parts.append("targeted" if params.get("targeted") else "untargeted")
    return parts


def top5_panel(ax, entries: Sequence[dict], title: str, ref_cls, tgt_cls, label: str) -> None:
    ax.set_label(label)
    entries = list(entries or [])[:5]
    names = [ellipsize(e.get("label", e.get("class")), 20) for e in entries]
    probs = [float(e.get("prob", float("nan"))) for e in entries]
    classes = [e.get("class") for e in entries]
    y = np.arange(len(entries))
    colours = [C_TGT if (tgt_cls is not None and c == tgt_cls) else C_REF if c == ref_cls else C_OTHER
               for c in classes]
    ax.barh(y, np.nan_to_num(probs), height=0.68, color=colours)
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    for tick, colour in zip(ax.get_yticklabels(), colours):
        if colour != C_OTHER:
            tick.set_color(colour)
            tick.set_fontweight("bold")
    for yi, p, colour in zip(y, probs, colours):
        text = short_prob(p) if math.isfinite(p) else "n/a"
        if math.isfinite(p) and p > 0.7:
            ax.text(p - 0.02, yi, text, ha="right", va="center", fontsize=SMALL_PT,
                    color="white" if colour != C_OTHER else "black")
        else:
            ax.text((p if math.isfinite(p) else 0) + 0.02, yi, text, ha="left", va="center", fontsize=SMALL_PT)
    ax.set_ylim(max(len(entries), 1) - 0.5, -0.5)     # highest probability on top
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.5, 1])
    ax.set_xticklabels(["0", "0.5", "1"])
    ax.set_xlabel("probability")
    ax.tick_params(axis="y", length=0)
    plain_axes(ax)
    ax.set_title(title, loc="left")
    if not entries:
        ax.text(0.5, 0.5, "no top-5 recorded", ha="center", va="center", transform=ax.transAxes)


def history_panel(ax, history: dict | None, targeted: bool, restarts) -> list:
    ax.set_label("history")
    history = history or {}
    loss = floats(history.get("loss"))
    ref = floats(history.get("reference_prob"))
    tgt = floats(history.get("target_prob")) if targeted else None
    n = max(loss.size, ref.size, tgt.size if tgt is not None else 0)
    marker = "o" if n <= 12 else None
    handles = []
    ax.set_title("(e) Attack progress", loc="left")
    plain_axes(ax)
    if n == 0:
        ax.text(0.5, 0.5, "no history recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return handles
    # A query attack's history is plotted against the queries spent (its x axis), not iterates.
    queries = floats(history.get("queries"))
    x = queries if queries.size == n else np.arange(n)
    # Records written before the name was stored: the gradient loop's objective (one rule).
    loss_name = history.get("loss_name") or objective_name(targeted)
    if loss.size:
        (line,) = ax.plot(x[:loss.size], loss, color=C_LOSS, marker=marker, ms=3,
                          label=loss_name)
        handles.append(line)
    ax.set_ylabel(loss_name)
    ax.set_xlabel("queries" if queries.size == n else
                  "iterate" + (" (all restarts)" if restarts and int(restarts) > 1 else ""))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
    # No probability axis when none was seen (a query attack behind a label-only oracle).
    if ref.size or (tgt is not None and tgt.size):
        prob_ax = ax.twinx()
        prob_ax.set_label("history_prob")
        prob_ax.spines["top"].set_visible(False)
        if ref.size:
            (line,) = prob_ax.plot(x[:ref.size], ref, color=C_REF, marker=marker, ms=3, label="P(ref.)")
            handles.append(line)
        if tgt is not None and tgt.size:
            (line,) = prob_ax.plot(x[:tgt.size], tgt, color=C_TGT, ls="--", marker=marker, ms=3,
                                   label="P(target)")
            handles.append(line)
        prob_ax.set_ylim(-0.03, 1.03)
        prob_ax.set_yticks([0, 0.5, 1])
        prob_ax.set_yticklabels(["0", "0.5", "1"])
        prob_ax.set_ylabel("probability")
    if n == 1:     # one point (a query attack's first batch sits at its query count, not 0)
        ax.set_xlim(float(x[0]) - 0.5, float(x[0]) + 0.5)
        ax.set_xticks([float(x[0])])
    return handles
