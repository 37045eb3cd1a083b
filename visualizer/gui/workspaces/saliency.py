"""The Saliency tab: the chosen models' saliency maps side by side on one shared scale
(standard vs robust, Tsipras et al. 2018). One result over all the models it ran on."""

from __future__ import annotations

from visualizer.core.artifacts import saliency_artifacts, saliency_maps, saliency_without
from visualizer.core.lab_state import ModelEntry
from visualizer.core.saliency import compare_saliency
from visualizer.gui.panels.saliency_view import SaliencyView
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext
from visualizer.gui.workspaces.partner import with_partner


class SaliencyWorkspace(TabWorkspace):
    kind = "saliency"
    title = "Saliency"

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx)
        self.saliency_view = self.page = SaliencyView()
        self._owners: list[ModelEntry] = []      # the model of each map shown, in map order
        self.state.result_changed.connect(self._result_changed)
        self.state.model_removed.connect(self._model_removed)

    def current_artifacts(self):
        return self.state.result(None, "saliency")

    def catch_up(self) -> None:
        self._result_changed(None, "saliency")      # a result a session brought before the tab was built

    def _result_changed(self, entry: ModelEntry | None, kind: str) -> None:
        if entry is not None or kind != "saliency":
            return
        art = self.state.result(None, "saliency")
        if art is None:
            self._owners = []
            self.saliency_view.clear()
        else:
            self.saliency_view.show_result(art.record, art.arrays["image"].transpose(1, 2, 0),
                                           saliency_maps(art.record, art.arrays))

    def run(self, entries: list[ModelEntry]) -> None:
        entries, partner = with_partner(entries, self.state)
        params = self.ctx.form.saliency_params()
        models = [e.model for e in entries]
        image, label, jobs = self.state.image, self.ctx.form.label(), self.ctx.jobs
        self.saliency_view.clear()
        jobs.start("saliency", lambda token: compare_saliency(models, image, params, label=label, cancel=token),
                   on_progress=lambda e: jobs.report_progress(e.done, e.total, "saliency"),
                   on_finished=lambda comp: self._saliency_done(comp, entries, models, image, partner),
                   label=f"{params.method} saliency")
        if partner is not None:
            self.ctx.status(f"Saliency of {entries[0].title} beside its robust partner {partner.title} "
                            "(Run all compares every model)", 8000)

    def _saliency_done(self, comparison, entries: list[ModelEntry], models, image, partner=None) -> None:
        if comparison.cancelled and not comparison.maps:
            # The view was cleared when the run started: no stale result may stay exportable.
            self.state.clear_result(None, "saliency")
            self.ctx.status("Saliency cancelled before any model finished", 5000)
            return
        self._owners = list(entries[:len(comparison.maps)])     # maps come in model order
        self.state.set_result(None, "saliency", saliency_artifacts(comparison, models, image))
        if comparison.cancelled:    # the models that finished are kept, like a cancelled attack's best iterate
            self.ctx.status(f"Saliency cancelled: {len(comparison.maps)} of {len(models)} models shown", 8000)
        elif partner is not None:   # as attacks and sweeps do: never the previous run's line
            self.ctx.status(f"Saliency of {entries[0].title} beside its robust partner {partner.title}: done "
                            "(Run all compares every model)", 8000)
        else:
            self.ctx.status(f"Saliency on {', '.join(e.title for e in entries)}: done", 8000)
        self.runFinished.emit("saliency")

    def _model_removed(self, entry: ModelEntry, _index: int) -> None:
        """A removed model's map goes, and no longer sets the shared scale of the others."""
        art = self.state.result(None, "saliency")
        if art is None:
            return
        owners = self._owners or self._owners_by_name(art)
        if entry not in owners:
            return
        i = owners.index(entry)
        rest = saliency_without(art, i)
        if rest is None:
            self.state.clear_result(None, "saliency")
        else:
            self.state.set_result(None, "saliency", rest)
            self._owners = owners[:i] + owners[i + 1:]
        self.ctx.status(f"Saliency: {entry.title}'s map was removed with the model", 8000)

    def _owners_by_name(self, art) -> list[ModelEntry]:
        """Maps matched to models by id (a session saved without the models' order)."""
        free = list(self.state.models)
        owners = []
        for m in art.record["saliency"]["maps"]:
            match = next((e for e in free if m["model"] in (e.title, e.spec)), None)
            if match is None:
                return []
            free.remove(match)
            owners.append(match)
        return owners

    def session_data(self) -> dict:
        models = self.state.models
        return {"map_models": [models.index(e) for e in self._owners]} if self._owners else {}

    def restore_session_data(self, data: dict) -> None:
        indices = data.get("map_models")
        if isinstance(indices, list) and all(isinstance(i, int) and 0 <= i < len(self.state.models) for i in indices):
            self._owners = [self.state.models[i] for i in indices]
