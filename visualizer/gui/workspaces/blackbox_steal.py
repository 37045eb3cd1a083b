"""The Black box tab's steal experiment: ``visualizer steal`` in the worker (core
stealing.run_steal, the same settings, records and files: the run folder ends up as the
CLI's --out, with steal.json, the steal_curve figures and one trained model per
substitute). The agreement and accuracy curve fills in as each query count is measured; at
the end the stolen copy (the largest query count's substitute of the first defence) is
loaded as a model column, as the Train tab adds its model, so every other view can attack,
sweep or explain it; PGD crafted on it and transferred to the victim is reported beside
white-box PGD on the victim."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from visualizer.core.errors import VisualizerError
from visualizer.gui.dialogs.export_folder import ask_export_folder
from visualizer.gui.panels.blackbox_steal import StealCurve, StealRequest, StealSetup
from visualizer.gui.qt import QtCore, Qt, QtWidgets
from visualizer.gui.worker import call_in_worker
from visualizer.gui.workspaces.base import WorkspaceContext
from visualizer.gui.workspaces.run_controls import RunControls, restore_remembered

SLOT = "steal"
EXPORT_SLOT = "steal-export"
SETTINGS_KEY = "blackbox/steal"        # the last steal's settings, restored at launch


@dataclass(frozen=True)
class StealSnapshot:
    """A progress event as the GUI thread gets it: every point measured so far (so a dropped
    event loses none) and what runs now."""

    points: tuple             # ((defence, point dict), ...)
    defence: str
    stage: str
    queries: int


def steal_job(request: StealRequest):
    """Read the victim's test data, run the experiment, write its files into the run folder."""
    def job(token):
        from visualizer.core.data import load_dataset
        from visualizer.core.stealing import run_steal, write_steal

        config, victim = request.config, request.victim.model
        test = load_dataset(config.test_data, "test", preprocessing=victim.info.preprocessing,
                            class_names=victim.info.class_names, limit=config.test_limit)
        run = run_steal(config, victim, test, token)
        points: list = []
        while True:
            try:
                event = next(run)
            except StopIteration as stop:
                return write_steal(config.out, stop.value)
            if event.point is not None:
                points.append((event.defence, event.point))
            yield StealSnapshot(tuple(points), event.defence, event.stage, event.queries)

    return job


def percent(rate: dict | None) -> str:
    if not rate or rate.get("success_rate") is None:
        return "n/a"
    return f"{100 * rate['success_rate']:.1f}% of {rate['n']}"


def transfer_text(record: dict) -> str:
    """The numbers under the curve: victim accuracy, white-box PGD, and per defence the
    stolen copy's agreement, accuracy and transfer at the largest query count."""
    attack = record["attack"]
    lines = [f"Victim: test accuracy {100 * record['test']['victim_accuracy']:.1f}%. PGD-{attack['steps']} "
             f"L\u221e \u03b5 {attack['eps']:g} white-box on the victim: {percent(record['white_box'])} fooled."]
    for run in record["runs"]:
        if not run["points"]:
            continue
        p = run["points"][-1]
        name = "no defence" if run["defence"] == "none" else f"defence {run['defence']}"
        lines.append(f"{name}, {p['queries']} queries (answers {run['oracle']}): agreement "
                     f"{100 * p['agreement']:.1f}%, test accuracy {100 * p['test_accuracy']:.1f}%; PGD crafted on "
                     f"the copy fools the victim on {percent(p['transfer'])} (on the copy itself: "
                     f"{percent(p['substitute_white_box'])}).")
    if record.get("cancelled"):
        lines.append("Cancelled: the finished query counts are kept.")
    return "\n".join(lines)


class StealController(QtCore.QObject):
    """The steal section's settings box (``box``) and results (``view``)."""

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx.window)
        self.ctx = ctx
        self.state = ctx.state
        self.setup = StealSetup()
        self.run_controls = RunControls(
            ctx, SLOT, "Steal", "Query the victim, train a substitute per query count, measure it; the "
            "stolen copy is added as a model column at the end",
            "Stop after the current step; the finished query counts are kept", self.start)
        self.steal_button, self.cancel_button = self.run_controls.run_button, self.run_controls.cancel_button
        self.export_button = QtWidgets.QPushButton("Export…")
        self.export_button.setToolTip("Write steal.json and the steal_curve figures (PNG, PDF, SVG) into a "
                                      "folder, as `visualizer steal` does")
        self.curve = StealCurve()
        self.summary = QtWidgets.QLabel("Choose the victim and the thief's settings, then Steal.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A wrapped label's height depends on its width, which a splitter does not ask: keep room for the numbers.
        self.summary.setMinimumHeight(5 * self.summary.fontMetrics().lineSpacing() + 4)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.record: dict | None = None
        self.box = self._build_box()
        self.view = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(self.view)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.curve, 1)
        v.addWidget(self.summary)
        restore_remembered(ctx, SETTINGS_KEY, self.setup)
        self.setup.changed.connect(ctx.refresh)
        self.export_button.clicked.connect(self.ask_export)
        for signal in (self.state.model_added, self.state.model_changed, self.state.model_removed):
            signal.connect(lambda *_: self.setup.set_models(self.state.ready_models()))
        self.state.model_removed.connect(self._model_removed)
        self._victim = None                   # the running steal's victim entry

    def _build_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Steal the model")
        v = QtWidgets.QVBoxLayout(box)
        v.addWidget(self.setup)
        v.addLayout(self.run_controls.row(self.export_button))
        return box

    def running(self) -> bool:
        return self.run_controls.running()

    def update_enabled(self) -> None:
        running = self.running()
        self.steal_button.setEnabled(self.setup.problem() is None and not running)
        self.cancel_button.setEnabled(running)
        self.setup.setEnabled(not running)
        self.export_button.setEnabled(self.record is not None and not running
                                      and not self.ctx.jobs.running(EXPORT_SLOT))

    # -- running ----------------------------------------------------------------------------------
    def start(self) -> bool:
        """Steal with the settings; False (after one message) when they are refused."""
        request = self.run_controls.take_request(self.setup, SETTINGS_KEY, "Cannot steal", remember_refused=True)
        if request is None:
            return False
        self.record = None
        self.curve.clear()
        config = request.config
        self.summary.setText(f"Stealing {config.victim} through oracle {config.oracle} with "
                             f"{config.query_data}…")
        self.summary.setToolTip(config.out)
        self._total = config.queries[-1] * len(config.defences)
        self._victim = request.victim
        self.ctx.jobs.start(SLOT, steal_job(request), on_progress=lambda s, c=config: self._progress(c, s),
                            on_finished=lambda record, r=request: self._finished(r, record),
                            on_failed=self._failed, label=f"Stealing {config.victim}")
        self.ctx.refresh()
        return True

    def _model_removed(self, entry, _index: int) -> None:
        """Removing the victim stops its theft, as removing a model stops its other runs; the
        query counts measured so far are kept and shown."""
        if self.running() and entry is self._victim:
            self.ctx.jobs.cancel(SLOT)
            self.ctx.status(f"Steal: stopped, the victim {entry.title} was removed", 8000)

    def _progress(self, config, snap: StealSnapshot) -> None:
        shown = sum(len(points) for points in self.curve.data.values())
        for defence, point in snap.points[shown:]:
            self.curve.add_point(defence, point)
        # Measured query counts, not queries asked: training and attacking a count take most
        # of the time (the bar stood full with its ETA at 0 through them).
        done = 0
        if snap.points:
            defence, point = snap.points[-1]
            done = config.defences.index(defence) * config.queries[-1] + point["queries"]
        self.ctx.jobs.report_progress(done, self._total, SLOT, f"{snap.defence}: {snap.stage} at {snap.queries} queries")
        self.summary.setText(f"Defence {snap.defence}: {snap.stage} at {snap.queries} queries…")

    def _finished(self, request: StealRequest, record: dict) -> None:
        self.show_record(record)
        run = next((r for r in record["runs"] if r["points"]), None)
        if run is not None:
            folder = Path(request.config.out) / run["points"][-1]["substitute"]
            self.ctx.window.models_workspace.load_model(
                f"ckpt:{folder / 'model.safetensors'}",
                {"arch": request.config.arch, "labels": str(folder / "labels.txt")})
            self.summary.setText(self.summary.text() + f"\nThe stolen copy ({run['points'][-1]['queries']} queries) "
                                 "is added as a model column.")
        self.ctx.status("Steal: " + self.summary.text().replace("\n", " · "), 15000)
        self.ctx.refresh()

    def _failed(self, exc, details) -> None:
        self.summary.setText(f"The steal failed: {exc}")
        if isinstance(exc, VisualizerError):
            self.ctx.report_error("Steal failed", str(exc), details)
        else:
            self.ctx.jobs.explain_failure(exc, details)

    def show_record(self, record: dict) -> None:
        self.record = record
        self.curve.set_runs(record["runs"])
        self.summary.setText(transfer_text(record))

    # -- export -----------------------------------------------------------------------------------
    def ask_export(self) -> None:
        if self.record is None:
            self.ctx.report_error("Nothing to export", "Run a steal experiment first.")
            return
        chosen = ask_export_folder(self.ctx.window, "Export the steal experiment into", "the steal experiment's files")
        if chosen is not None:
            self.export_to(*chosen)

    def export_to(self, folder, overwrite: bool = False, dpi: int = 200) -> None:
        """steal.json and steal_curve.{png,pdf,svg} into ``folder``, in the worker; a folder
        holding files only with ``overwrite``, and only an earlier export's (core/export.py)."""
        from visualizer.core.stealing.output import export_steal

        record = self.record
        self.ctx.jobs.start(EXPORT_SLOT, call_in_worker(lambda: export_steal(folder, record, overwrite, dpi)),
                            on_finished=lambda _: self.ctx.status(f"Steal experiment written to {folder}", 8000),
                            label="Exporting the steal experiment")

    # -- sessions ---------------------------------------------------------------------------------
    def session_data(self) -> dict:
        return {"setup": self.setup.state(), "record": self.record}

    def restore_session_data(self, data: dict) -> None:
        self.setup.restore_state(data.get("setup"))
        record = data.get("record")
        if isinstance(record, dict) and isinstance(record.get("runs"), list):
            self.show_record(record)
