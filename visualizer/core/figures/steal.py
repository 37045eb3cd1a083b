"""The curves of ``visualizer steal``, built from steal.json alone: left, the substitute's
agreement with the victim (solid) and its test accuracy (dashed) against oracle queries, one
colour per victim-side defence, with 95% Wilson bands on agreement; right, the success rate
on the victim of PGD crafted on the substitute (transfer), with the white-box rate (PGD on
the victim itself) as a grey line and band.

Axes labels for tests: ``agreement``, ``transfer``.
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from visualizer.core.figures.evaluation import CI_GREY, MODEL_COLOURS, display_names
from visualizer.core.figures.style import FIG_WIDTH, TITLE_PT, figure_style, finalize
from visualizer.core.formatting import num


def _defence_label(run: dict) -> str:
    name = "no defence" if run["defence"] == "none" else f"defence {run['defence']}"
    return f"{name} (answers: {run['oracle']})"


def _x_axis(ax, counts: list[int]) -> None:
    if len(counts) > 1 and counts[-1] / counts[0] >= 8:
        ax.set_xscale("log")
    ax.set_xticks(counts, [f"{c:,}" for c in counts])
    ax.minorticks_off()
    ax.set_xlabel("oracle queries")


def steal_figure(record: dict) -> Figure | None:
    """Two panels (agreement / accuracy, transfer) or None when no substitute finished."""
    runs = [r for r in record["runs"] if r["points"]]
    if not runs:
        return None
    counts = sorted({p["queries"] for r in runs for p in r["points"]})
    with figure_style():
        fig = Figure(figsize=(FIG_WIDTH, 3.6), layout="constrained")
        left, right = fig.subplots(1, 2)
        left.set_label("agreement")
        right.set_label("transfer")
        for k, run in enumerate(runs):
            colour = MODEL_COLOURS[k % len(MODEL_COLOURS)]
            xs = [p["queries"] for p in run["points"]]
            low = [p["agreement_ci95"][0] for p in run["points"]]
            high = [p["agreement_ci95"][1] for p in run["points"]]
            left.fill_between(xs, low, high, color=colour, alpha=0.15, linewidth=0)
            left.plot(xs, [p["agreement"] for p in run["points"]], "o-", color=colour, ms=3,
                      label=_defence_label(run))
            left.plot(xs, [p["test_accuracy"] for p in run["points"]], "s--", color=colour, ms=2.5, lw=0.9)
            transfer = [p["transfer"] for p in run["points"]]
            right.fill_between(xs, [t["ci95"][0] for t in transfer], [t["ci95"][1] for t in transfer], color=colour,
                               alpha=0.15, linewidth=0)
            right.plot(xs, [t["success_rate"] for t in transfer], "o-", color=colour, ms=3)
        white = record["white_box"]
        if white["success_rate"] is not None:
            right.axhline(white["success_rate"], color=CI_GREY, lw=1.0, label="white-box PGD on the victim")
            right.axhspan(*white["ci95"], color=CI_GREY, alpha=0.12, linewidth=0)
        left.plot([], [], "k-", lw=1.0, label="agreement with the victim")
        left.plot([], [], "k--", lw=0.9, label="test accuracy")
        handles, labels = left.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        # One legend under both panels: it never squeezes either axes.
        fig.legend(handles + more[0], labels + more[1], loc="outside lower center", ncol=2)
        left.set_ylabel("share of test images")
        for ax in (left, right):
            _x_axis(ax, counts)
            ax.set_ylim(0, 1.02)
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.grid(True, lw=0.3, alpha=0.5)
        left.set_title("Stolen copy: agreement and accuracy")
        attack = record["attack"]
        right.set_title(f"PGD-{attack['steps']} L\u221e, \u03b5 = {num(attack['eps'])}, crafted on the copy,\n"
                        f"scored on the victim (n = {record['white_box']['n']})")
        right.set_ylabel("attack success rate on the victim")
        victim_id = str(record["victim"].get("id") or "victim")
        if victim_id.endswith("/model.safetensors"):        # a trainer folder: its name says more
            victim_id = victim_id[:-len("/model.safetensors")]
        victim = display_names([victim_id])[0]
        source = record["settings"]["query_data"]
        source = source.split(":", 1)[0] + " images" if ":" in source else source
        chosen = ", chosen by uncertainty" if record["settings"].get("query_select") == "uncertainty" else ""
        fig.suptitle(f"Stealing {victim} through its predictions ({source} as queries{chosen})", fontsize=TITLE_PT)
    return finalize(fig)
