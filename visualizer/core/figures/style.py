"""The shared look of every figure: sizes, fonts, the local rc context and the final layout pass.

Styling is applied with ``matplotlib.rc_context`` while a figure is built and again while it
is saved (some settings, such as the SVG and PDF font handling, are read at save time), never
through global rcParams.
"""

from __future__ import annotations

import matplotlib
from matplotlib.figure import Figure

FIG_WIDTH = 7.0              # inches: a full-width figure in a two-column paper


BASE_PT = 8.0
SMALL_PT = 7.0
TITLE_PT = 9.0

STYLE = {
    "font.size": BASE_PT,
    "axes.titlesize": BASE_PT,
    "axes.labelsize": BASE_PT,
    "xtick.labelsize": SMALL_PT,
    "ytick.labelsize": SMALL_PT,
    "legend.fontsize": SMALL_PT,
    "figure.titlesize": TITLE_PT,
    "axes.titlepad": 3.0,
    "axes.labelpad": 2.0,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "xtick.major.pad": 2.0,
    "ytick.major.pad": 2.0,
    "lines.linewidth": 1.2,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "legend.columnspacing": 1.2,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.constrained_layout.h_pad": 0.03,
    "figure.constrained_layout.w_pad": 0.03,
    "figure.constrained_layout.hspace": 0.02,
    "figure.constrained_layout.wspace": 0.02,
    # Text stays text in SVG; TrueType fonts are embedded in PDF/PS.
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    # Deterministic SVG ids, and never merge several images of one axes into one resampled image.
    "svg.hashsalt": "adversarial-visualizer",
    "image.composite_image": False,
}


def figure_style():
    """The local rc context every figure here is built and saved under."""
    return matplotlib.rc_context(STYLE)


def finalize(fig: Figure) -> Figure:
    """Pin tick label sizes on every axes (ticks can be created lazily at draw time), then lay
    the figure out once: constrained layout only settles after a first pass, and without this
    the first format saved would be laid out slightly differently from the next ones."""
    for ax in fig.get_axes():
        ax.tick_params(labelsize=SMALL_PT, which="both")
    with figure_style():
        fig.draw_without_rendering()
    return fig
