"""Result panels: widgets that display run records (attack, spatial sweep, saliency). They hold
no computation and start no threads; the main window feeds them records and arrays.

The names below are imported when first asked for (``from visualizer.gui.panels import
AttackView``): importing one panel module must not import every panel, and pyqtgraph with
them, while the window starts."""

import importlib

_WHERE = {"AttackView": "attack_view", "SaliencyView": "saliency_view", "SweepView": "sweep_view",
          "apply_plot_theme": "theme", "plot_colours": "theme"}

__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
