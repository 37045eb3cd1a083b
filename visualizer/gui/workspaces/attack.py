"""The Attack tab: one column per model (clean image and its top-5, the adversarial image,
the perturbation, the loss and probabilities per iterate), the gradient attacks that fill
them, and transfer of the selected model's adversarial image to the other models.

Columns are compared, so they move together: columns of the same threat model draw their
perturbations on one colour scale, a click on one plot shows that iterate in every column
that kept its iterates, and collapsing one plot collapses them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from visualizer.core.artifacts import Artifacts, attack_artifacts
from visualizer.core.attacks import AttackStep, mapped
from visualizer.core.attacks.iterates import DEFAULT_MAX_BYTES
from visualizer.core.images import preprocess
from visualizer.core.lab_state import ModelEntry
from visualizer.core.perturbation_scale import shared_scales
from visualizer.core.results import top_k
from visualizer.core.runs import attack_run, class_probabilities
from visualizer.core.transfer import transfer_from_images
from visualizer.gui.panels.transfer_table import TransferTable
from visualizer.gui.qt import Qt, QtWidgets
from visualizer.gui.worker import call_in_worker
from visualizer.gui.workspaces.base import WorkspaceContext
from visualizer.gui.workspaces.partner import with_partner
from visualizer.gui.workspaces.per_model import PerModelTab

if TYPE_CHECKING:
    from visualizer.gui.panels.attack_view import AttackView


TRANSFER_TIP = "Classify the selected model's adversarial image with every other model"


class AttackWorkspace(PerModelTab):
    kind = "attack"
    title = "Attack"

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx)
        self.transfer_table = TransferTable()
        page = QtWidgets.QSplitter(Qt.Vertical)
        page.addWidget(self.split)
        page.addWidget(self.transfer_table)
        page.setStretchFactor(0, 5)
        page.setStretchFactor(1, 1)
        self.page = page
        self._clean: dict[ModelEntry, tuple] = {}   # model -> (clean input, top-5) for the image shown
        self._following = False                      # one column's click or toggle is being copied

        self.transfer_button = QtWidgets.QPushButton("Transfer to other models")
        self.transfer_button.clicked.connect(self.run_transfer)
        self.act_transfer = ctx.action("&Transfer to other models", self.run_transfer, "Ctrl+T")
        self.state.image_changed.connect(self._image_changed)
        self.state.selection_changed.connect(self._sync_prediction)
        # After PerModelTab's handlers (psygnal calls in connection order): the panels show
        # the new result, or lost a column, before the scales are shared out again.
        self.state.result_changed.connect(lambda *_: self._share_scales())
        self.state.model_removed.connect(lambda *_: self._share_scales())

    def controls(self) -> list[QtWidgets.QWidget]:
        return [self.transfer_button]

    def actions(self):
        return [self.act_transfer]

    def update_enabled(self) -> None:
        sel = self.state.selected
        ready = sel is not None and "attack" in sel.results
        self.transfer_button.setEnabled(ready)
        self.transfer_button.setToolTip(TRANSFER_TIP if ready else f"{TRANSFER_TIP} (after an attack on it)")

    def session_data(self) -> dict:
        return {"transfer": self.transfer_table.rows} if self.transfer_table.rows else {}

    def restore_session_data(self, data: dict) -> None:
        rows = data.get("transfer")
        if isinstance(rows, list) and rows:
            self.transfer_table.show_rows(rows)

    def comparison_artifacts(self) -> list[Artifacts]:
        return self.state.results_of_kind("attack")

    # -- panels -----------------------------------------------------------------------------------
    def make_view(self, entry: ModelEntry) -> AttackView:
        from visualizer.gui.panels.attack_view import AttackView     # with pyqtgraph: once a model comes

        view = AttackView()
        view.iterateShown.connect(lambda index, v=view: self._follow_iterate(v, index))
        view.plot_section.toggled.connect(lambda on, v=view: self._follow_plot(v, on))
        if self.views:                 # a new column opens like the others
            view.plot_section.set_expanded(next(iter(self.views.values())).plot_section.expanded())
        return view

    def show_result(self, view: AttackView, art: Artifacts) -> None:
        view.show_result(art.record, art.arrays["clean"], art.arrays["adversarial"])
        entry = next((e for e, v in self.views.items() if v is view), None)
        names = entry.model.info.class_names if entry is not None and entry.ready else None
        view.set_iterates(art.iterates, names)

    def _share_scales(self) -> None:
        """One perturbation colour scale per threat model across the columns."""
        views = list(self.views.values())
        own = [v.own_scale() for v in views]
        norms = [s.norm for s in own if s is not None]
        for view, scale in zip(views, shared_scales(own)):
            view.set_scale(scale, shared=scale is not None and norms.count(scale.norm) > 1)

    def _follow_iterate(self, source: AttackView, index) -> None:
        """Show the same iterate (or the result) in the other columns."""
        self._to_others(source, lambda v: v.show_final() if index is None else v.show_iterate(index))

    def _follow_plot(self, source: AttackView, expanded: bool) -> None:
        self._to_others(source, lambda v: v.plot_section.set_expanded(expanded))

    def _to_others(self, source: AttackView, do) -> None:
        """``do(view)`` for every column but ``source``, without echoes back to it."""
        if self._following:
            return
        self._following = True
        try:
            for view in self.views.values():
                if view is not source:
                    do(view)
        finally:
            self._following = False

    def job_slots(self, entry: ModelEntry) -> list[str]:
        return [self.slot(entry), f"preview:{id(entry)}"]

    def _model_changed(self, entry: ModelEntry) -> None:
        super()._model_changed(entry)
        if not entry.ready:
            return
        self._link_views()
        if self.state.image is not None and "attack" not in entry.results:   # keep results restored from a session
            self._preview(entry)

    def _model_removed(self, entry: ModelEntry, index: int) -> None:
        super()._model_removed(entry, index)
        self._clean.pop(entry, None)

    def _image_changed(self, _image) -> None:
        for view in self.views.values():
            view.clear()
        self._clean.clear()
        self._sync_prediction()
        self.transfer_table.clear_rows()
        for entry in self.state.models:
            self._preview(entry)

    def _link_views(self) -> None:
        """Zoom one image view, all follow: link views of columns with the same input size."""
        by_size: dict[int, list] = {}
        for entry, view in self.views.items():
            if entry.ready:
                by_size.setdefault(entry.input_side, []).extend(view.image_views())
        for views in by_size.values():
            for v in views[1:]:
                v.setXLink(views[0])
                v.setYLink(views[0])

    def _preview(self, entry: ModelEntry) -> None:
        """The clean image as the model sees it, and its top-5, before any attack."""
        if not entry.ready or self.state.image is None:
            return
        model, image = entry.model, self.state.image

        self.ctx.jobs.start(f"preview:{id(entry)}", call_in_worker(lambda: _clean_preview(model, image)),
                            on_finished=lambda res, e=entry: self._show_clean(e, res), label=None)

    def _clean_from_result(self, entry: ModelEntry) -> tuple | None:
        """The clean input and top-5 the model's last attack recorded (no preview is made for
        a result restored from a session)."""
        art = entry.results.get("attack")
        return None if art is None else (art.arrays["clean"], (art.record.get("clean") or {}).get("top5") or [])

    def _show_clean(self, entry: ModelEntry, res) -> None:
        if entry not in self.views:
            return
        self._clean[entry] = res
        # A preview that comes back after a run started, or after its result, must not wipe
        # the live curve or the result: the run shows its own clean image.
        if not self.ctx.jobs.running(self.slot(entry)) and "attack" not in entry.results:
            self.views[entry].show_clean(*res)
        self._sync_prediction()

    def _sync_prediction(self, *_) -> None:
        """Tell the form the selected model's clean top-1, so it refuses a targeted attack
        towards it before Run (the core refuses it again in the worker)."""
        sel = self.state.selected
        clean = (self._clean.get(sel) or self._clean_from_result(sel)) if sel is not None else None
        top5 = clean[1] if clean else None
        self.ctx.form.set_prediction(top5[0]["class"] if top5 else None)

    # -- running ----------------------------------------------------------------------------------
    def run(self, entries: list[ModelEntry]) -> None:
        partner = None
        if self.ctx.form.attack_params().targeted:   # a targeted attack: its robust partner beside it
            entries, partner = with_partner(entries, self.state)
        self.start_batch(entries)
        for entry in entries:
            self._run_on(entry)
        if partner is not None:
            self.ctx.status(f"Targeted attack on {entries[0].title} and on its robust partner {partner.title}", 8000)

    def _run_on(self, entry: ModelEntry) -> None:
        form, jobs = self.ctx.form, self.ctx.jobs
        model, image = entry.model, self.state.image
        label = form.label()
        params = form.attack_params()
        target = form.target() if params.targeted else None
        names = model.info.class_names
        view = self.views[entry]
        view.clear()
        view.set_model_title(self.state.display_name(entry), model.info.model_id)
        clean_view = self._clean.get(entry) or self._clean_from_result(entry)
        shown = {"clean": False}

        def show_clean(res) -> None:
            view.show_clean(*res, target=target, params=params.resolved().to_dict())
            shown["clean"] = True

        if clean_view is not None:
            show_clean(clean_view)
        slot = self.slot(entry)

        def on_progress(e):
            if self.views.get(entry) is not view:     # removed while its run was stopping
                return
            if not shown["clean"]:                     # the preview had not come back: the run brought it
                show_clean(e.clean)
            top = [{"class": int(k), "label": names[int(k)], "prob": float(p)}
                   for p, k in zip(e.topk_prob[0].tolist(), e.topk_class[0].tolist())]
            adv = e.adversarial[0].detach().cpu().numpy() if e.adversarial is not None else None
            view.show_progress(e.done - 1, e.total, float(e.loss[0]), float(e.ref_prob[0]),
                               None if e.target_prob is None else float(e.target_prob[0]), top, adv)
            jobs.report_progress(e.done, e.total, slot)

        def job(token):
            """The attack, each event carrying the clean input and top-5 (computed here only
            when the preview has not delivered them): the Original never goes blank."""
            clean = None if clean_view is not None else _clean_preview(model, image)
            run = attack_run(model, image, params, label=label, target=target, cancel=token, report_images=True,
                             keep_iterates=DEFAULT_MAX_BYTES)
            # Every event carries the pair: the worker passes on only the latest of a burst.
            return (yield from mapped(run, lambda e: LiveStep(**vars(e), clean=clean)))

        jobs.start(slot, job,
                   on_progress=on_progress,
                   on_finished=lambda run, e=entry: self.store_result(e, run, attack_artifacts),
                   label=f"{params.method.upper()} on {model.info.model_id}")

    # -- transfer ---------------------------------------------------------------------------------
    def run_transfer(self) -> None:
        source = self.state.selected
        art = None if source is None else source.results.get("attack")
        if art is None:
            self.ctx.report_error("Nothing to transfer", "Run an attack on the selected model first.")
            return
        others = [e for e in self.state.models if e is not source and e.ready]
        if not others:
            self.ctx.report_error("Nothing to transfer to",
                                  "Load a second model to see how it classifies this adversarial image.")
            return
        # From the stored result, not the live run: a result reopened from a session transfers too.
        source_id, clean, adversarial = art.record["model"]["id"], art.arrays["clean"], art.arrays["adversarial"]
        models = [e.model for e in others]
        self.ctx.jobs.start("transfer", call_in_worker(lambda: transfer_from_images(source_id, clean, adversarial,
                                                                                    models)),
                            on_finished=self.transfer_table.show_rows, label="Transfer")
        self.ctx.show_page(self.page)


def _clean_preview(model, image) -> tuple:
    """(C x H x W model input, its top-5): the clean image as ``model`` sees it."""
    x, _ = preprocess(image, model.info.preprocessing)
    return x[0].numpy(), top_k(class_probabilities(model, x)[0], model.info.class_names)


@dataclass
class LiveStep(AttackStep):
    """An attack's progress event in the window: the core's AttackStep plus the clean (input,
    top-5) to show with it, or None when the window has them already."""

    clean: tuple | None = None
