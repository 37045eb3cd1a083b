"""The Saliency tab: the chosen models' saliency maps side by side on one shared scale
(standard vs robust, Tsipras et al. 2018). One result over all the models it ran on."""

from __future__ import annotations

from visualizer.core.artifacts import saliency_artifacts, saliency_maps
from visualizer.core.lab_state import ModelEntry
from visualizer.core.saliency import compare_saliency
from visualizer.gui.panels.saliency_view import SaliencyView
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext


class SaliencyWorkspace(TabWorkspace):
    kind = "saliency"
    title = "Saliency"

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx)
        self.saliency_view = self.page = SaliencyView()
        self.state.result_changed.connect(self._result_changed)

    def current_artifacts(self):
        return self.state.result(None, "saliency")

    def _result_changed(self, entry: ModelEntry | None, kind: str) -> None:
        if entry is not None or kind != "saliency":
            return
        art = self.state.result(None, "saliency")
        if art is None:
            self.saliency_view.clear()
        else:
            self.saliency_view.show_result(art.record, art.arrays["image"].transpose(1, 2, 0),
                                           saliency_maps(art.record, art.arrays))

    def run(self, entries: list[ModelEntry]) -> None:
        params = self.ctx.form.saliency_params()
        models = [e.model for e in entries]
        image, label, jobs = self.state.image, self.ctx.form.label(), self.ctx.jobs
        self.saliency_view.clear()
        jobs.start("saliency", lambda token: compare_saliency(models, image, params, label=label, cancel=token),
                   on_progress=lambda e: jobs.report_progress(e.done, e.total, "saliency"),
                   on_finished=lambda comp: self._saliency_done(comp, models, image),
                   label=f"{params.method} saliency")

    def _saliency_done(self, comparison, models, image) -> None:
        if comparison.cancelled and not comparison.maps:
            # The view was cleared when the run started: no stale result may stay exportable.
            self.state.clear_result(None, "saliency")
            self.ctx.status("Saliency cancelled before any model finished", 5000)
            return
        self.state.set_result(None, "saliency", saliency_artifacts(comparison, models, image))
        if comparison.cancelled:    # the models that finished are kept, like a cancelled attack's best iterate
            self.ctx.status(f"Saliency cancelled: {len(comparison.maps)} of {len(models)} models shown", 8000)
        self.runFinished.emit("saliency")
