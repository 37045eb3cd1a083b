"""Result panels: widgets that display run records (attack, spatial sweep, saliency). They hold
no computation and start no threads; the main window feeds them records and arrays."""

from visualizer.gui.panels.attack_view import AttackView
from visualizer.gui.panels.saliency_view import SaliencyView
from visualizer.gui.panels.sweep_view import SweepView
from visualizer.gui.panels.theme import apply_plot_theme, plot_colours

__all__ = ["AttackView", "SaliencyView", "SweepView", "apply_plot_theme", "plot_colours"]
