"""A tab with one panel per model, side by side (Attack, Sweep): panels come and go with the
state's models, their titles follow loading, and each redraws from its model's latest
result of the tab's kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from visualizer.core.artifacts import Artifacts
from visualizer.core.lab_state import LOADING, ModelEntry
from visualizer.gui.qt import Qt, QtWidgets
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext

if TYPE_CHECKING:
    from visualizer.gui.panels.model_view import ModelResultView


class PerModelTab(TabWorkspace):
    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx)
        self.split = QtWidgets.QSplitter(Qt.Horizontal)
        self.views: dict[ModelEntry, ModelResultView] = {}
        self._outcomes: dict[str, str] = {}    # this run's models: how each ended ("" running)
        self.state.model_added.connect(self._model_added)
        self.state.model_changed.connect(self._model_changed)
        self.state.model_removed.connect(self._model_removed)
        self.state.result_changed.connect(self._result_changed)

    # -- for subclasses ---------------------------------------------------------------------------
    def start_batch(self, entries: list[ModelEntry]) -> None:
        """A run on ``entries`` begins: the status bar will report each of them as it ends."""
        self._outcomes = {e.title: "" for e in entries}

    def make_view(self, entry: ModelEntry) -> ModelResultView:
        raise NotImplementedError

    def show_result(self, view: ModelResultView, artifacts: Artifacts) -> None:
        raise NotImplementedError

    def job_slots(self, entry: ModelEntry) -> list[str]:
        """The job slots this tab runs for ``entry`` (cancelled when it is removed)."""
        return [self.slot(entry)]

    def slot(self, entry: ModelEntry) -> str:
        return f"{self.kind}:{id(entry)}"

    # -- the window's questions -------------------------------------------------------------------
    def view(self, entry: ModelEntry) -> ModelResultView | None:
        return self.views.get(entry)

    # -- following the state ----------------------------------------------------------------------
    def _model_added(self, entry: ModelEntry) -> None:
        view = self.views[entry] = self.make_view(entry)
        view.set_model_title(f"{entry.spec} (loading…)")
        self.split.insertWidget(self.state.index_of(entry), view)     # an undone removal goes back in place

    def _model_changed(self, entry: ModelEntry) -> None:
        self._retitle()            # a new name can make another column's short name ambiguous

    def _retitle(self) -> None:
        for entry, view in self.views.items():
            if entry.ready:
                view.set_model_title(self.state.display_name(entry), entry.model.info.model_id)
            elif entry.status != LOADING:          # a loading column keeps "(loading…)"
                view.set_model_title(f"{entry.spec} (not loaded)")

    def _model_removed(self, entry: ModelEntry, _index: int) -> None:
        for slot in self.job_slots(entry):
            self.ctx.jobs.cancel(slot)
        view = self.views.pop(entry, None)
        if view is not None:
            view.setParent(None)
            view.deleteLater()
        self._retitle()

    def _result_changed(self, entry: ModelEntry | None, kind: str) -> None:
        view = self.views.get(entry) if kind == self.kind else None
        if view is None:
            return
        artifacts = self.state.result(entry, kind)
        if artifacts is None:
            view.clear()
        else:
            self.show_result(view, artifacts)

    def store_result(self, entry: ModelEntry, run, to_artifacts) -> None:
        """A job's run is done: its artifacts become ``entry``'s result (which redraws the
        panel), the status bar says how it ended, and ``runFinished`` goes out."""
        if entry not in self.state.models:
            return                       # removed while it ran
        art = to_artifacts(run)
        self.state.set_result(entry, self.kind, art)
        record = art.record
        state = "cancelled, partial result shown" if record.get("cancelled") else "done"
        # Every model of the run, not only the last to finish ("Attack on a: done · b: done").
        outcomes = self._outcomes if entry.title in self._outcomes else {entry.title: ""}
        outcomes[entry.title] = state
        ended = " · ".join(f"{title}: {how}" for title, how in outcomes.items() if how)
        running = sum(not how for how in outcomes.values())
        self.ctx.status(f"{record['kind'].capitalize()} on {ended}" + (f" · {running} still running" if running else ""),
                        8000)
        for w in record.get("warnings", []):
            self.ctx.status(f"Warning: {w}", 12000)
        self.ctx.refresh()               # e.g. Transfer becomes possible now, not on the next event
        self.runFinished.emit(f"{self.kind}:{self.state.index_of(entry)}")
