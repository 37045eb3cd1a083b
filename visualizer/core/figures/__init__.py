"""Publication figures for attacks, spatial sweeps, saliency and model comparisons, shared by
the CLI and the GUI.

Everything here uses matplotlib's object-oriented API on a bare ``matplotlib.figure.Figure``:
no pyplot, no GUI backend, no global state (see ``style``). Image pixels stay crisp in every
format (see ``drawing``).

One module per figure kind, plus shared helpers:

- ``attack``: :func:`attack_figure`;  ``sweep``: :func:`sweep_figure`;
  ``saliency``: :func:`saliency_figure`;  ``comparison``: :func:`attack_comparison_figure`;
  ``evaluation`` (the robust-accuracy table and accuracy-vs-eps curves) and ``gallery`` (most
  confident failures) for ``visualizer evaluate``;
- ``style`` (sizes, fonts, rc context, layout pass), ``text`` (names, probabilities, k/255),
  ``drawing`` (arrays to crisp images), ``colorbars`` (the perturbation scale),
  ``attack_panels`` (top-5 bars, history), ``sweep_axes``, ``save`` (:func:`save_figure`).

Axes that tests and the GUI may want to find carry a label (``ax.get_label()``); each figure
module lists its own.
"""

from visualizer.core.figures.attack import attack_figure
from visualizer.core.figures.colorbars import perturbation_ticks
from visualizer.core.figures.comparison import attack_comparison_figure
from visualizer.core.figures.saliency import saliency_figure
from visualizer.core.figures.save import FORMATS, save_figure
from visualizer.core.figures.style import FIG_WIDTH, STYLE, figure_style
from visualizer.core.figures.sweep import sweep_figure
from visualizer.core.palette import DIVERGING, MAGNITUDE, SEQUENTIAL  # re-exported: the figures' colour maps

__all__ = [
    "DIVERGING",
    "FIG_WIDTH",
    "FORMATS",
    "MAGNITUDE",
    "SEQUENTIAL",
    "STYLE",
    "attack_comparison_figure",
    "attack_figure",
    "figure_style",
    "perturbation_ticks",
    "saliency_figure",
    "save_figure",
    "sweep_figure",
]
