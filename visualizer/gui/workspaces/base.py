"""What every workspace is given (``WorkspaceContext``) and what every tab offers the window
(``TabWorkspace``).

A tab is registered in ``workspaces/__init__.py`` (one line) and needs nothing from the other
tabs: it observes the lab state (image, models, results), starts its jobs through the shared
``Jobs``, writes its results into the state, and redraws its page from the state. The
window asks each tab for its page, its extra controls and menu actions, runs it on the
chosen models, and asks it what to export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from visualizer.core.artifacts import Artifacts
from visualizer.core.lab_state import LabState, ModelEntry
from visualizer.gui.jobs import Jobs
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Signal


@dataclass
class WorkspaceContext:
    """The shared services: the state, the jobs, the run parameters, and the window as parent
    for dialogs and owner of the status bar."""

    state: LabState
    jobs: Jobs
    form: object                                   # ParamsForm: the current run parameters
    window: QtWidgets.QMainWindow
    settings: QtCore.QSettings
    report_error: Callable[..., None]              # (title, message, details=None)
    show_page: Callable[[QtWidgets.QWidget], None]   # bring a tab's page to the front
    refresh: Callable[[], None]                    # re-check which buttons are enabled

    def status(self, text: str, ms: int = 0) -> None:
        self.window.statusBar().showMessage(text, ms)

    def action(self, text: str, slot, shortcut=None, tip: str | None = None) -> QtGui.QAction:
        """A window action (the window's children make the shortcut list)."""
        a = QtGui.QAction(text, self.window)
        if shortcut:
            a.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        a.triggered.connect(slot)
        return a


class TabWorkspace(QtCore.QObject):
    """One tab of the window. Subclasses set ``kind`` and ``title``, build ``page`` and
    subscribe to the state in ``__init__``, and implement ``run``."""

    kind: str = ""                 # the form's kind of run this tab shows ("attack"); results are stored under it
    title: str = ""                # the tab's label
    needs_image: bool = True       # Run is offered only once an image is open
    needs_model: bool = True       # Run is offered only once a model has loaded (Train makes its own)
    uses_form: bool = True         # its parameters are the shared form's (chosen there by ``kind``); a tab
                                   # with its own controls sets False, and Run runs it while it is shown

    runFinished = Signal(str)      # slot, e.g. "attack:0" or "saliency"

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx.window)
        self.ctx = ctx
        self.state = ctx.state
        self.page: QtWidgets.QWidget = QtWidgets.QWidget()

    # -- what the window assembles ----------------------------------------------------------------
    def controls(self) -> list[QtWidgets.QWidget]:
        """Widgets for the controls dock, under the Run buttons (e.g. Transfer)."""
        return []

    def actions(self) -> list[QtGui.QAction]:
        """Entries for the Run menu, after Run and Run on all."""
        return []

    # -- running ----------------------------------------------------------------------------------
    def can_run(self) -> bool:
        """Beyond a valid form, ready models and (if ``needs_image``) an image."""
        return True

    def run(self, entries: list[ModelEntry]) -> None:
        """Start this tab's run on ``entries`` (ready models). Raises VisualizerError for
        parameters the form could not check."""
        raise NotImplementedError

    def update_enabled(self) -> None:
        """Enable or disable this tab's own controls (the window calls it on every change)."""

    def catch_up(self) -> None:
        """Built after the window started (workspaces/lazy.py): take in the state as it is now
        (the models loaded, the selection), which the state's signals told the others."""

    # -- results ----------------------------------------------------------------------------------
    def current_artifacts(self) -> Artifacts | None:
        """What Export writes while this tab is shown."""
        entry = self.state.selected
        return None if entry is None else self.state.result(entry, self.kind)

    def export_own_files(self) -> bool:
        """File > Export while this tab is shown: a tab that writes its own files (Evaluate)
        asks for them here and returns True; False leaves it to the export dialog, which
        writes ``current_artifacts``."""
        return False

    def comparison_artifacts(self) -> list[Artifacts]:
        """Results Export can compare across models (empty: no comparison offered)."""
        return []

    def view(self, entry: ModelEntry) -> QtWidgets.QWidget | None:
        """The panel showing ``entry`` in this tab, if the tab has one per model."""
        return None

    # -- sessions ---------------------------------------------------------------------------------
    def session_data(self) -> dict:
        """What this tab keeps in a session beyond the state's results (JSON values)."""
        return {}

    def restore_session_data(self, data: dict) -> None:
        """Take back what ``session_data`` gave (tolerant of missing keys)."""
