"""The Sweep tab: one column per model with its spatial sweep (true-class probability over
rotation x translation, Engstrom et al. 2018); clicking a cell shows that transform and the
model's prediction on it."""

from __future__ import annotations

import numpy as np

from visualizer.core.artifacts import Artifacts, sweep_artifacts
from visualizer.core.lab_state import ModelEntry
from visualizer.core.runs import class_probabilities, sweep_run
from visualizer.gui.panels.sweep_view import SweepView
from visualizer.gui.workspaces.base import WorkspaceContext
from visualizer.gui.workspaces.per_model import PerModelTab


class SweepWorkspace(PerModelTab):
    kind = "sweep"
    title = "Sweep"

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx)
        self.page = self.split

    def make_view(self, entry: ModelEntry) -> SweepView:
        view = SweepView()
        view.cellClicked.connect(lambda a, tx, ty, e=entry: self._show_transformed(e, a, tx, ty))
        return view

    def show_result(self, view: SweepView, art: Artifacts) -> None:
        view.show_result(art.record, art.arrays["clean"], art.arrays["worst"])

    def run(self, entries: list[ModelEntry]) -> None:
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
