"""Moved to ``visualizer.core.figures.comparison``; this path keeps older imports working."""

from visualizer.core.figures.comparison import attack_comparison_figure

__all__ = ["attack_comparison_figure"]
