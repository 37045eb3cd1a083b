"""The window's workspaces: the image, the models, and one controller per tab.

``TABS`` is the tab registry, in tab order: a new tab is its own module with a
``TabWorkspace`` subclass (see ``base.py``) and one line here; no other tab changes."""

from visualizer.gui.workspaces.attack import AttackWorkspace
from visualizer.gui.workspaces.blackbox import BlackBoxWorkspace
from visualizer.gui.workspaces.evaluate import EvaluateWorkspace
from visualizer.gui.workspaces.saliency import SaliencyWorkspace
from visualizer.gui.workspaces.sweep import SweepWorkspace
from visualizer.gui.workspaces.train import TrainWorkspace

TABS = (
    AttackWorkspace,
    SweepWorkspace,
    SaliencyWorkspace,
    EvaluateWorkspace,
    TrainWorkspace,
    BlackBoxWorkspace,
)

__all__ = ["TABS"]
