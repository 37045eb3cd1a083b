"""The window's workspaces: the image, the models, and one controller per tab.

``TABS`` is the tab registry, in tab order: a new tab is its own module with a
``TabWorkspace`` subclass (see ``base.py``) and one line here; no other tab changes. A tab
most sessions never open is registered as a ``LazySpec`` (lazy.py): it is imported and
built the first time it is shown, not while the window starts."""

from visualizer.gui.workspaces.attack import AttackWorkspace
from visualizer.gui.workspaces.lazy import LazySpec
from visualizer.gui.workspaces.sweep import SweepWorkspace

TABS = (
    AttackWorkspace,
    SweepWorkspace,
    LazySpec("visualizer.gui.workspaces.saliency", "SaliencyWorkspace", "saliency", "Saliency",
             needs_image=True, needs_model=True, uses_form=True),
    LazySpec("visualizer.gui.workspaces.evaluate", "EvaluateWorkspace", "evaluate", "Evaluate",
             needs_image=False, needs_model=True, uses_form=False),
    LazySpec("visualizer.gui.workspaces.train", "TrainWorkspace", "train", "Train",
             needs_image=False, needs_model=False, uses_form=False),
    LazySpec("visualizer.gui.workspaces.blackbox", "BlackBoxWorkspace", "blackbox", "Black box",
             needs_image=True, needs_model=True, uses_form=False),
)

__all__ = ["TABS"]
