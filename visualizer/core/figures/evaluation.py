"""The evaluation's figures, built from evaluation.json's record (so they can be rebuilt from
the file alone): the table of accuracies (rows models, columns threats, laid out like the
talk's table of robust accuracies) and accuracy against epsilon, one panel per curve, one
line per model with its 95% Wilson band. The gallery of failures is in gallery.py.

Axes labels for tests: ``table``; ``curve<i>``.
"""

from __future__ import annotations

import math
from pathlib import Path
import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath
from matplotlib.ticker import FixedFormatter, FixedLocator, MultipleLocator

from visualizer.core.evaluation.presentation import (MODEL_COLOURS, NORM_SYMBOL, budget_text, curve_families,
                                                     display_names, eps_label)
from visualizer.core.figures.style import FIG_WIDTH, TITLE_PT, figure_style
from visualizer.core.figures.style import finalize
from visualizer.core.figures.text import wrap_id

RULE = "#333333"
MIN_TABLE_WIDTH = 5.6   # inches: room for the title and the footnote
CI_GREY = "#666666"
HEADER_PT, GROUP_PT, BUDGET_PT = 7.5, 8, 6.8
_TEXT_PATHS = TextToPath()


def _cell_colour(accuracy: float) -> tuple:
    """White at 0%, a light blue at 100%: shade enough to see the pattern, light enough to read."""
    top = np.array([0.62, 0.79, 0.90])
    rgb = 1 - (1 - top) * float(accuracy)
    return tuple(rgb)


def _results_by_cell(record: dict) -> dict[tuple[str, str], dict]:
    return {(r["model"], r["threat"]): r for r in record["results"]}


def _input_side(record: dict) -> int | None:
    models = record.get("models") or []
    return models[0]["preprocessing"]["input_size"] if models else None


def _data_title(record: dict) -> str:
    data = record.get("data") or {}
    name = data.get("kind") or "data"
    if name in ("folder", "csv") and data.get("spec"):   # which folder or file: its name
        name = f"{name} {Path(str(data['spec']).partition(':')[2]).name}"
    split = f" {data['split']}" if data.get("split") else ""
    n = record.get("examples", {}).get("done")
    total = data.get("split_size")      # records before it was kept: unknown, so "first n"
    if n is None:
        return f"{name}{split}"
    if n == total:
        count = f"all {n:,} examples"
    elif total is None:
        count = f"first {n:,} examples"
    else:   # a --limit or an unfinished run: the data set's first n, in its order
        count = f"first {n:,} of {total:,} examples"
    return f"{name}{split}, {count}"


GROUPS = (("clean", "No attack"), ("linf", "L\u221e norm"), ("l2", "L2 norm"), ("spatial", "Rotation + translation"),
          ("mixed", "Combined"))


def _group(threat: dict) -> str:
    kinds = {a["kind"] for a in threat["attacks"]}
    if kinds == {"clean"}:
        return "clean"
    if all(k.startswith("spatial") for k in kinds):
        return "spatial"
    return threat["norm"] if threat.get("norm") in ("linf", "l2") else "mixed"


def _group_spans(threats: list[dict]) -> list[tuple[str, int, int]]:
    """(group, first column, end column) of each run of neighbouring columns in one group."""
    spans: list[tuple[str, int, int]] = []
    for j, threat in enumerate(threats):
        key = _group(threat)
        if spans and spans[-1][0] == key:
            spans[-1] = (key, spans[-1][1], j + 1)
        else:
            spans.append((key, j, j + 1))
    return spans


def _column_name(threat: dict, group: str) -> str:
    """The threat's label without what its group title already says (the norm, 'Rot+Trans')."""
    label = threat["label"]
    if group in ("linf", "l2"):
        return label.replace(f" {NORM_SYMBOL[group]}", "")
    if group == "spatial":
        return label.replace("Rot+Trans ", "").replace(" + ", " +\n").capitalize()
    return label


def _text_width(text: str, size: float, weight: str = "normal") -> float:
    """Inches the longest line of ``text`` takes at ``size`` pt in the figure style's font."""
    prop = FontProperties(size=size, weight=weight)
    return max(_TEXT_PATHS.get_text_width_height_descent(line, prop, ismath=False)[0]
               for line in text.split("\n")) / 72


def _wrap_to_width(text: str, width: float, size: float, weight: str = "normal") -> str:
    """Lines that fit ``width`` inches at ``size`` pt, measured with the font (not counted in
    characters): broken at spaces, and after the hyphens of a name too long for one line
    ("HopSkipJump-" / "300q"), so neighbouring headers never touch."""
    pieces: list[tuple[str, str]] = []          # (text, what joins it to the next piece)
    for word in text.split(" "):
        parts = word.split("-") if _text_width(word, size, weight) > width else [word]
        pieces += [(part + "-", "") for part in parts[:-1]] + [(parts[-1], " ")]
    lines: list[str] = []
    glue = " "
    for piece, after in pieces:
        if lines and _text_width(lines[-1] + glue + piece, size, weight) <= width:
            lines[-1] += glue + piece
        else:
            lines.append(piece)
        glue = after
    return "\n".join(lines)


def table_figure(record: dict) -> Figure:
    """Rows: models; columns: threats, grouped like the talk's table (L-inf, L2, rotation +
    translation); cells: accuracy (%) and its 95% Wilson interval."""
    models = [m["id"] for m in record["models"]]
    names = display_names(models)
    order = {key: i for i, (key, _) in enumerate(GROUPS)}
    threats = sorted(record["threats"], key=lambda t: order[_group(t)])   # stable: user order within a group
    cells = _results_by_cell(record)
    side = _input_side(record)
    label_w = 1.5
    col_w = max(0.8, min(1.2, (FIG_WIDTH - label_w) / max(1, len(threats))))
    col_w = max(col_w, (MIN_TABLE_WIDTH - label_w - 0.1) / max(1, len(threats)))   # room for title and footnote
    spans = _group_spans(threats)
    inner = col_w - 0.1                           # a column's text width, inches
    with figure_style():                          # measured in the font the figure is drawn in
        group_titles = {start: _wrap_to_width(dict(GROUPS)[key], inner * (stop - start), GROUP_PT, "bold")
                        for key, start, stop in spans}
        headers = [_wrap_to_width(_column_name(t, _group(t)), inner, HEADER_PT) for t in threats]
        budgets = [_wrap_to_width(budget_text(t, side), inner, BUDGET_PT) for t in threats]
    lines = lambda texts: max((t.count("\n") + 1 for t in texts), default=1)     # noqa: E731
    name_h, budget_h = lines(headers) * HEADER_PT * 1.3 / 72, lines(budgets) * BUDGET_PT * 1.3 / 72
    title_h, group_h, row_h, foot_h = 0.34, 0.1 + 0.14 * lines(group_titles.values()), 0.42, 0.4
    header_h = 0.12 + name_h + budget_h + 0.08
    width = label_w + col_w * len(threats) + 0.1
    height = title_h + group_h + header_h + row_h * len(models) + foot_h
    with figure_style():
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_label("table")
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.set_axis_off()
        left, right = 0.05, width - 0.05
        top = title_h
        ax.text(left, title_h / 2, f"Accuracy (%) under each threat \u2014 {_data_title(record)}",
                ha="left", va="center", fontsize=TITLE_PT, fontweight="bold")
        ax.plot([left, right], [top, top], color=RULE, lw=1.0)
        head = top + group_h
        body = head + header_h
        ax.text(left + 0.03, top + (group_h + header_h) / 2, "Model", ha="left", va="center", fontweight="bold")
        for key, start, stop in spans:   # one spanning title per group, with a short rule under it
            x0, x1 = label_w + col_w * start, label_w + col_w * stop
            ax.text((x0 + x1) / 2, top + group_h * 0.5, group_titles[start], ha="center", va="center",
                    fontsize=GROUP_PT, fontweight="bold", linespacing=1.05)
            ax.plot([x0 + 0.06, x1 - 0.06], [head, head], color=RULE, lw=0.5)
        names_end = head + 0.12 + name_h         # names sit on this line, budgets hang under it
        for j, threat in enumerate(threats):
            x = label_w + col_w * (j + 0.5)
            ax.text(x, names_end, headers[j], ha="center", va="bottom", fontsize=HEADER_PT, linespacing=1.05)
            ax.text(x, names_end + 0.03, budgets[j], ha="center", va="top", fontsize=BUDGET_PT, color=CI_GREY,
                    linespacing=1.05)
        ax.plot([left, right], [body, body], color=RULE, lw=0.6)
        for i, model in enumerate(models):
            y0 = body + row_h * i
            ax.text(left + 0.03, y0 + row_h / 2, wrap_id(names[i], int(label_w * 72 / (0.56 * 7.5)) - 1), ha="left",
                    va="center", fontsize=7.5, linespacing=1.05)
            for j, threat in enumerate(threats):
                cell = cells.get((model, threat["id"]))
                x0 = label_w + col_w * j
                if not cell or cell.get("accuracy") is None:
                    ax.text(x0 + col_w / 2, y0 + row_h / 2, "\u2013", ha="center", va="center", color=CI_GREY)
                    continue
                ax.add_patch(Rectangle((x0 + 0.03, y0 + 0.03), col_w - 0.06, row_h - 0.06, lw=0,
                                       facecolor=_cell_colour(cell["accuracy"])))
                ax.text(x0 + col_w / 2, y0 + row_h * 0.4, f"{100 * cell['accuracy']:.1f}", ha="center", va="center",
                        fontsize=9.5)
                low, high = cell["ci95"]
                ax.text(x0 + col_w / 2, y0 + row_h * 0.77, f"[{100 * low:.1f}, {100 * high:.1f}]", ha="center",
                        va="center", fontsize=6.2, color=CI_GREY)
        bottom = body + row_h * len(models)
        ax.plot([left, right], [bottom, bottom], color=RULE, lw=1.0)
        n = record.get("examples", {}).get("done")
        ax.text(left, bottom + 0.08, f"n = {n} examples per cell; in brackets: 95% Wilson interval.\nAn example "
                "counts as robust only if every attack of the threat fails; \u03b5 in [0, 1] pixel units.", ha="left",
                va="top", fontsize=6.5, color=CI_GREY, linespacing=1.3)
    return fig


def curves_figure(record: dict) -> Figure | None:
    """Accuracy (%) against epsilon: a panel per curve, a line per model, 95% bands; the
    clean accuracy, when evaluated, is each curve's point at epsilon 0. None when no threat
    was given with two or more epsilons."""
    families = curve_families(record)
    if not families:
        return None
    cells = _results_by_cell(record)
    models = [m["id"] for m in record["models"]]
    names = display_names(models)
    per_row = min(3, len(families))
    rows = math.ceil(len(families) / per_row)
    with figure_style():
        width = FIG_WIDTH if per_row > 1 else FIG_WIDTH / 2 + 0.4
        fig = Figure(figsize=(width, 2.15 * rows + 0.55 + 0.15 * (per_row == 1)), layout="constrained")
        axes = fig.subplots(rows, per_row, squeeze=False)
        for k, family in enumerate(families):
            ax = axes[k // per_row][k % per_row]
            ax.set_label(f"curve{k}")
            norm = family[0]["norm"]
            xs_all = [0.0] + [t["eps"] for t in family]
            for m, model in enumerate(models):
                points = []
                clean = cells.get((model, "clean"))
                if clean and clean.get("accuracy") is not None:
                    points.append((0.0, clean))
                points += [(t["eps"], cells[(model, t["id"])]) for t in family
                           if (model, t["id"]) in cells and cells[(model, t["id"])].get("accuracy") is not None]
                if not points:
                    continue
                xs = np.array([p[0] for p in points])
                acc = np.array([100 * p[1]["accuracy"] for p in points])
                low = np.array([100 * p[1]["ci95"][0] for p in points])
                high = np.array([100 * p[1]["ci95"][1] for p in points])
                colour = MODEL_COLOURS[m % len(MODEL_COLOURS)]
                ax.fill_between(xs, low, high, color=colour, alpha=0.18, lw=0)
                ax.plot(xs, acc, color=colour, marker="o", ms=3.2, label=names[m])
            ax.set_title(family[0]["label"])
            ax.set_xlabel(f"\u03b5 ({NORM_SYMBOL.get(norm, norm)}, pixels in [0, 1])")
            ax.set_ylim(-2, 102)
            ax.yaxis.set_major_locator(MultipleLocator(20))
            ax.set_xlim(-0.04 * max(xs_all), 1.04 * max(xs_all))
            if len(xs_all) <= 7:   # ticks at the budgets evaluated, written as they were given
                ax.xaxis.set_major_locator(FixedLocator(xs_all))
                ax.xaxis.set_major_formatter(FixedFormatter(["0"] + [eps_label(t["attacks"][0]) for t in family]))
            ax.grid(True, color="#e6e6e6", lw=0.5)
            ax.set_axisbelow(True)
            ax.spines["top"].set_visible(False)
            ax.spines["right"].set_visible(False)
            if k % per_row == 0:
                ax.set_ylabel("accuracy (%)")
        for k in range(len(families), rows * per_row):
            axes[k // per_row][k % per_row].set_visible(False)
        handles, labels = axes[0][0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(handles)), frameon=False)
        sep = " \u2014 " if per_row > 1 else "\n"
        fig.suptitle(f"Accuracy against budget{sep}{_data_title(record)} (bands: 95% Wilson)", fontsize=TITLE_PT)
    return finalize(fig)
