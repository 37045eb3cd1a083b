"""The Sweep tab: one column per model with its spatial sweep (true-class probability over
rotation x translation, Engstrom et al. 2018); clicking a cell shows that transform and the
model's prediction on it. The columns' ty sliders are linked: every grid opens on the ty
slice the others show, and moving one slider moves them all."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from visualizer.core.artifacts import Artifacts, sweep_artifacts
from visualizer.core.lab_state import ModelEntry
from visualizer.core.runs import class_probabilities, sweep_run
from visualizer.gui.workspaces.base import WorkspaceContext
from visualizer.gui.workspaces.per_model import PerModelTab

if TYPE_CHECKING:
    from visualizer.gui.panels.sweep_view import SweepView


class SweepWorkspace(PerModelTab):
    kind = "sweep"
    title = "Sweep"

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx)
        self.page = self.split
        self._ty: float | None = None        # the ty slice the columns show (pixels)

    def make_view(self, entry: ModelEntry) -> SweepView:
        from visualizer.gui.panels.sweep_view import SweepView       # with pyqtgraph: once a model comes

        view = SweepView()
        view.cellClicked.connect(lambda a, tx, ty, e=entry: self._show_transformed(e, a, tx, ty))
        view.sliceChanged.connect(lambda ty, v=view: self._follow_slice(v, ty))
        view.class_name = lambda i, e=entry: e.model.info.class_names[i] if e.ready else str(i)
        return view

    def show_result(self, view: SweepView, art: Artifacts) -> None:
        view.show_result(art.record, art.arrays["clean"], art.arrays["worst"])
        others = [v for v in self.views.values() if v is not view and v.current_ty() is not None]
        if not others:
            self._ty = view.current_ty()         # the first grid opens on its worst slice
        elif view.current_ty() is not None:
            view.show_ty(self._ty if self._ty is not None else others[0].current_ty())

    def _follow_slice(self, source: SweepView, ty: float) -> None:
        self._ty = ty
        for view in self.views.values():
            if view is not source:
                view.show_ty(ty)

    def run(self, entries: list[ModelEntry]) -> None:
        """Sweep every model in ``entries``. The form checked the shifts against the selected
        model's input only: a smaller input among the others refuses the whole run, before any
        starts (ParameterError naming that model)."""
        params = self.ctx.form.spatial_params()
        for entry in entries:
            params.check_fits(entry.model.info.preprocessing.input_size, what=f"{entry.title}'s input")
        self.start_batch(entries)
        for entry in entries:
            self._run_on(entry)

    def _run_on(self, entry: ModelEntry) -> None:
        model, image, jobs = entry.model, self.state.image, self.ctx.jobs
        label = self.ctx.form.label()
        params = self.ctx.form.spatial_params()
        self.views[entry].clear()
        slot = self.slot(entry)
        jobs.start(slot, lambda token: sweep_run(model, image, params, label=label, cancel=token),
                   on_progress=lambda e: jobs.report_progress(e.done, e.total, slot),
                   on_finished=lambda run, e=entry: self.store_result(e, run, sweep_artifacts),
                   label=f"Sweep on {model.info.model_id}")

    def _show_transformed(self, entry: ModelEntry, angle: float, tx: float, ty: float) -> None:
        art = entry.results.get("sweep")
        if art is None or not entry.ready:
            return
        import torch

        from visualizer.core.attacks.transforms import rotate_translate

        clean = torch.from_numpy(np.asarray(art.arrays["clean"], dtype=np.float32))[None]
        t = lambda v: torch.tensor([float(v)])  # noqa: E731
        moved = rotate_translate(clean, t(angle), t(tx), t(ty))
        probs = class_probabilities(entry.model, moved)[0]
        ref = art.record["label"]["class"]
        pred = int(probs.argmax())
        names = entry.model.info.class_names
        caption = (f"rotate {angle:+.1f}°, shift ({tx:+.1f}, {ty:+.1f}) px → {names[pred]} ({float(probs[pred]):.2f}); "
                   f"P({names[ref]}) = {float(probs[ref]):.3f}")
        self.views[entry].show_transformed(moved[0].numpy(), caption)
