"""The Black box tab: the model never shows its gradients, and is fooled anyway.

Query attack (left top, panels/blackbox_query.py): Square, NES or HopSkipJump on the
window's image through an oracle over the selected model (Run on all: each ready model in
turn), as ``visualizer attack --attack square|nes|hopskipjump`` runs it (core
blackbox.run.query_attack_run), in the worker. The query counter, the margin against
queries (a point per query batch), the adversarial image at the last query and the oracle's
top-5 follow the run; Cancel stops before the next query batch and keeps what was found.
Each model's result is stored in the lab state as kind "blackbox", so File > Export writes
the CLI's files (result.json with its ``queries``, loss_vs_queries.npy, the figures, or a
comparison of every model) through the window's export in the worker, and sessions keep it.

Steal (left bottom): see blackbox_steal.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visualizer.core.blackbox.oracle import check_oracle_fits
from visualizer.core.blackbox.params import query_loss_name
from visualizer.core.errors import VisualizerError
from visualizer.core.lab_state import ModelEntry
from visualizer.gui.panels.blackbox_query import QueryLive, QueryRequest, QuerySetup
from visualizer.gui.qt import Qt, QtWidgets
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext
from visualizer.gui.workspaces.blackbox_steal import StealController
from visualizer.gui.workspaces.run_controls import RunControls, remember, restore_remembered

SLOT = "blackbox"
SETTINGS_KEY = "blackbox/query"        # the last run's settings, restored at launch


@dataclass(frozen=True)
class QuerySnapshot:
    """A query batch as the GUI thread gets it (plain values made on the worker thread).
    ``history`` is the run's growing list of (queries, margin), one per query batch: the
    first ``count`` entries are this event's, so a dropped event loses no point."""

    model: int               # index among the run's models
    name: str
    history: list
    count: int
    queries: int             # the oracle's answers so far for this image
    budget: int
    image: np.ndarray | None  # C x H x W, [0, 1]: the best adversarial point at the last query
    top5: list[dict]         # the oracle's answer at that point (probability order)


def query_job(models: list, image, request: QueryRequest):
    """The worker's generator: each model attacked in turn; returns [(index, Artifacts)]."""
    from visualizer.core.blackbox.run import query_attack_artifacts, query_attack_run
    from visualizer.core.cancel import is_cancelled

    def job(token):
        done = []
        for i, model in enumerate(models):
            names = model.info.class_names
            history: list = []
            run = query_attack_run(model, image, request.params, request.oracle, request.defence, cancel=token,
                                   report_images=True)
            while True:
                try:
                    step = next(run)
                except StopIteration as stop:
                    done.append((i, query_attack_artifacts(stop.value)))
                    break
                history.append((int(step.queries[0]), float(step.loss[0])))
                top5 = [{"class": int(c), "label": names[int(c)] if int(c) < len(names) else str(int(c)),
                         "prob": float(p)} for p, c in zip(step.topk_prob[0].tolist(), step.topk_class[0].tolist())]
                x = step.adversarial[0].detach().cpu().numpy() if step.adversarial is not None else None
                yield QuerySnapshot(i, model.info.model_id, history, len(history), int(step.queries[0]),
                                    request.params.queries, x, top5)
            if is_cancelled(token):
                break
        return done

    return job


def outcome_text(record: dict) -> str:
    """'mnist-standard: fooled after 227 queries (oracle probs)' and the like."""
    q = record["queries"]
    who = record["model"]["id"]
    oracle = q["oracle"] + (f", defence {q['defence']}" if q.get("defence") else "")
    if q["at_success"] is not None:
        text = f"{who}: fooled after {q['at_success']} queries"
    elif record.get("cancelled"):
        text = f"{who}: cancelled after {q['spent']} queries, not fooled yet"
    else:
        text = f"{who}: not fooled in {q['spent']} queries"
        if q.get("stop_reason") and q["stop_reason"] != "per-image budget spent":
            text += f" of {q['per_image_budget']}: {q['stop_reason']}"
    return f"{text} (oracle {oracle})"


class BlackBoxWorkspace(TabWorkspace):
    kind = "blackbox"
    title = "Black box"
    needs_image = True
    uses_form = False

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx)
        self.setup = QuerySetup()
        self.run_controls = RunControls(
            ctx, SLOT, "Attack", "Query attack on the image through the oracle of the selected model "
            "(Run on all: every loaded model in turn)",
            "Stop before the next query batch; the best point so far is kept", self._attack_clicked)
        self.attack_button, self.cancel_button = self.run_controls.run_button, self.run_controls.cancel_button
        self.live = QueryLive()
        self.steal = StealController(ctx)
        self._names: list[str] = []
        self._entries: list[ModelEntry] = []     # the running attack's models
        self._loss_name = "margin"
        self.page = self._build_page()
        self.view_widget = self.live        # File > Export's "current view": the results, not the settings
        restore_remembered(ctx, SETTINGS_KEY, self.setup)
        self.setup.changed.connect(ctx.refresh)
        self.state.result_changed.connect(self._result_changed)
        self.state.selection_changed.connect(lambda entry: self._show_entry(entry))
        self.state.model_removed.connect(self._model_removed)
        for signal in (self.state.selection_changed, self.state.model_changed, self.state.model_removed):
            signal.connect(lambda *_: self._follow_selection())

    def catch_up(self) -> None:
        self._follow_selection()
        self.steal.setup.set_models(self.state.ready_models())
        self._show_entry(self.state.selected)

    def _build_page(self) -> QtWidgets.QWidget:
        query = QtWidgets.QGroupBox("Query attack on the image")
        q = QtWidgets.QVBoxLayout(query)
        q.addWidget(self.setup)
        q.addLayout(self.run_controls.row())
        left = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(query)
        column.addWidget(self.steal.box)
        column.addStretch(1)
        scroll = QtWidgets.QScrollArea()          # a short window scrolls the settings, never squeezes them
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(270)
        right = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.live)
        right.addWidget(self.steal.view)
        right.setChildrenCollapsible(False)
        right.setSizes([5000, 4000])
        split = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        split.setSizes([380, 10_000])
        return split

    # -- running ----------------------------------------------------------------------------------
    def running(self) -> bool:
        return self.run_controls.running()

    def can_run(self) -> bool:
        return self.setup.problem() is None and not self.running()

    def update_enabled(self) -> None:
        running = self.running()
        ready = self.state.image is not None and self.state.selected is not None and self.state.selected.ready
        self.attack_button.setEnabled(self.can_run() and ready)
        self.cancel_button.setEnabled(running)
        self.setup.setEnabled(not running)
        self.steal.update_enabled()

    def _follow_selection(self) -> None:
        """The settings are checked against the selected model's classes (the oracle's topk:K)."""
        entry = self.state.selected
        self.setup.set_model(entry.model if entry is not None and entry.ready else None)

    def _attack_clicked(self) -> None:
        try:
            self.run([self.state.selected] if self.state.selected is not None else [])
        except VisualizerError as exc:
            self.ctx.report_error("Cannot attack", str(exc))

    def run(self, entries: list[ModelEntry]) -> None:
        """The query attack on the image, each of ``entries`` in turn. Raises VisualizerError
        for settings that are not valid, no image or no loaded model."""
        request = self.setup.request()
        entries = [e for e in entries if e is not None and e.ready]
        if self.state.image is None:
            raise VisualizerError("Open an image first (File > Open, drag and drop, or paste).")
        if not entries:
            raise VisualizerError("Load a model first (Models > Add model…), and wait until it has loaded.")
        for entry in entries:         # Run on all: every model's classes, before any query
            check_oracle_fits(request.oracle, entry.model.info.num_classes, entry.model.info.model_id)
        remember(self.ctx, SETTINGS_KEY, self.setup)
        self.live.clear()
        self._names = [e.model.info.model_id for e in entries]
        self._entries = list(entries)
        p = request.params
        self._loss_name = query_loss_name(p.method)      # HopSkipJump's is not a margin
        self.live.outcome.setText(f"{p.method} {p.norm} \u03b5 {p.eps:g} through oracle {request.oracle}: "
                                  f"{', '.join(self._names)}…")
        image = self.state.image
        self.ctx.jobs.start(SLOT, query_job([e.model for e in entries], image, request),
                            on_progress=self._progress,
                            on_finished=lambda done, es=list(entries): self._finished(es, done),
                            on_failed=self._failed, label=f"{p.method} via {request.oracle}")
        self.ctx.show_page(self.page)
        self.ctx.refresh()

    def _model_removed(self, entry: ModelEntry, _index: int) -> None:
        """Removing a model stops the attack running on it, as in the other tabs (it went on
        for minutes, the window busy, its result then dropped)."""
        if self.running() and entry in self._entries:
            self.ctx.jobs.cancel(SLOT)
            self.ctx.status(f"Black box: the attack stopped, {entry.title} was removed", 8000)

    def _progress(self, snap: QuerySnapshot) -> None:
        pts = snap.history[:snap.count]
        self.live.set_curve(snap.name, [q for q, _ in pts], [m for _, m in pts], self._loss_name)
        self.live.show_state(snap.queries, snap.budget, snap.image, snap.top5, None,
                             f"{snap.name}: oracle's top-5, {self._loss_name} {pts[-1][1]:+.3f}" if pts else snap.name)
        self.ctx.jobs.report_progress(snap.queries, snap.budget, SLOT, f"{snap.name}: {snap.queries} queries")

    def _finished(self, entries: list[ModelEntry], done: list) -> None:
        lines = []
        for index, art in done:
            entry = entries[index]
            lines.append(outcome_text(art.record))
            self.state.set_result(entry, self.kind, art)    # redraws through _result_changed
        if done:        # the selected model's result if it was attacked, else the last one's
            attacked = [entries[i] for i, _ in done]
            self._show_entry(self.state.selected if self.state.selected in attacked else attacked[-1], force=True)
        self.live.outcome.setText("\n".join(lines) or "Cancelled before the first query batch.")
        # The status bar says how it ended too, as the other tabs' runs do: the tab may be hidden.
        self.ctx.status("Black box: " + (" · ".join(lines) or "cancelled before the first query batch"), 15000)
        self.ctx.refresh()
        self.runFinished.emit(self.kind)

    def _failed(self, exc, details) -> None:
        self.live.outcome.setText(f"The attack failed: {exc}")
        self.ctx.status(f"Black box: the attack failed: {exc}", 15000)
        self.ctx.jobs.explain_failure(exc, details)

    # -- from the state ---------------------------------------------------------------------------
    def _result_changed(self, entry, kind: str) -> None:
        if kind != self.kind or entry is None:
            return
        art = self.state.result(entry, kind)
        if art is None:
            if not self.state.results_of_kind(kind):
                self.live.clear()
            return
        record = art.record
        history = record["history"]
        self.live.set_curve(record["model"]["id"], history.get("queries", []), history["loss"],
                            history.get("loss_name", "margin"))
        # A result that arrives outside a run (a session opened) brings its counter, image and
        # top-5 with it when it is the one to show; they read "Queries: –" beside its curve.
        selected = self.state.selected
        if entry is selected or selected is None or self.state.result(selected, kind) is None:
            self._show_entry(entry)

    def _show_entry(self, entry: ModelEntry | None, force: bool = False) -> None:
        """The counter, image and top-5 of ``entry``'s stored result (a selection made while
        a run is live leaves the live view alone, unless ``force``)."""
        art = self.state.result(entry, self.kind) if entry is not None else None
        if art is None or (self.running() and not force):
            return
        record = art.record
        q = record["queries"]
        top5 = record["adversarial"]["top5_quantized"]
        # A session keeps the arrays, not the display images: the same 8-bit adversarial image.
        image = art.images.get("adversarial", art.arrays.get("adversarial"))
        self.live.show_state(q["queries"], q["per_image_budget"], image, top5,
                             record["label"]["class"], f"{record['model']['id']}: top-5 of the saved 8-bit image")
        self.live.outcome.setText(outcome_text(record))

    # -- export and sessions ----------------------------------------------------------------------
    def comparison_artifacts(self):
        return self.state.results_of_kind(self.kind)

    def session_data(self) -> dict:
        return {"query": self.setup.state(), "steal": self.steal.session_data()}

    def restore_session_data(self, data: dict) -> None:
        self.setup.restore_state(data.get("query"))
        self.steal.restore_session_data(data.get("steal") or {})
