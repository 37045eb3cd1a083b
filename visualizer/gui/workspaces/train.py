"""The Train tab: watching robustness being trained. The settings on the left (panels/
train_form.py) start the same trainer as ``visualizer train`` in a worker; after each epoch
the plot gains clean and robust accuracy on held-out images (robust: the project's own
PGD), with every run of the session side by side. A finished run, or a cancelled one that
finished an epoch, is loaded as a model column like any other model, so its saliency and
attacks can be compared with the others at once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from visualizer.core.errors import VisualizerError
from visualizer.core.formatting import duration_text
from visualizer.core.lab_state import ModelEntry
from visualizer.core.training import BatchProgress, EpochDone, Evaluating, TrainResult, train_steps
from visualizer.gui.panels.robustness_plot import RobustnessPlot
from visualizer.gui.panels.settings_page import settings_beside, settings_column
from visualizer.gui.panels.train_form import TrainForm, TrainRequest
from visualizer.gui.qt import Qt, QtWidgets
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext
from visualizer.gui.workspaces.poison import PoisonPanel
from visualizer.gui.workspaces.run_controls import RunControls, restore_remembered

SLOT = "train"
SETTINGS_KEY = "train/form"


@dataclass(frozen=True)
class TrainSnapshot:
    """A progress event as the GUI thread gets it: plain numbers made on the worker thread (the
    trainer's own events hold tensors it keeps updating), and every finished epoch so far, so
    an epoch is never lost when the worker drops events to keep the window responsive."""

    history: tuple[dict, ...]
    done: int            # weight updates so far
    total: int           # weight updates in the run
    detail: str          # "epoch 2/3 · 41.2 batch/s  loss 0.412  adv 61.0%  clean 90.1%  eps 0.3"


def watched_training(request: TrainRequest, cancel):
    """``train_steps`` with a watch and keep-on-cancel, its events turned into snapshots."""
    from visualizer.cli.train import command_line, describe_batch, describe_epoch

    config = request.config
    steps = train_steps(config, device="auto", command=command_line(config), cancel=cancel, watch=request.watch,
                        keep_on_cancel=True)
    history: list[dict] = []
    done = total = 0
    try:
        while True:
            try:
                event = next(steps)
            except StopIteration as stop:
                return stop.value
            if isinstance(event, BatchProgress):
                done, total = (event.epoch - 1) * event.batches + event.batch, event.epochs * event.batches
                detail = f"epoch {event.epoch}/{event.epochs} · {describe_batch(event).strip()}"
            elif isinstance(event, EpochDone):
                history.append(dict(event.record))
                detail = describe_epoch(event.record)
            elif isinstance(event, Evaluating):
                detail = f"robust accuracy (PGD-{request.watch.attack.steps}): batch {event.done}/{event.total}"
            else:
                continue
            yield TrainSnapshot(tuple(history), done, total, detail)
    finally:
        steps.close()


class TrainWorkspace(TabWorkspace):
    kind = "train"
    title = "Train"
    needs_image = False
    needs_model = False            # both pages train their own models
    uses_form = False

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx)
        self.form = TrainForm()
        self.run_controls = RunControls(
            ctx, SLOT, "Train", "Train with these settings; the model is added as a column when it is done",
            "Stop training; the last finished epoch is kept and added as a model", self.start)
        self.train_button, self.cancel_button = self.run_controls.run_button, self.run_controls.cancel_button
        self.plot = RobustnessPlot()
        self.status = QtWidgets.QLabel("Choose the settings and press Train.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.poison = PoisonPanel(ctx)          # the backdoor experiment, the tab's second page
        self.sections = QtWidgets.QTabWidget()
        self.sections.setDocumentMode(True)
        self.sections.addTab(self._build_page(), "Adversarial training")
        self.sections.addTab(self.poison.page, "Poison (backdoors)")
        self.sections.currentChanged.connect(lambda *_: ctx.refresh())
        self.page = self.sections
        restore_remembered(ctx, SETTINGS_KEY, self.form)      # the last run's settings
        self.form.changed.connect(ctx.refresh)                # Train follows the settings' validity
        self._started = 0.0                   # perf_counter when it started (for its ETA)

    def _build_page(self) -> QtWidgets.QWidget:
        right = QtWidgets.QWidget()
        r = QtWidgets.QVBoxLayout(right)
        r.addWidget(self.plot, 1)
        r.addWidget(self.status)
        return settings_beside(settings_column(self.form, self.run_controls.row()), right)

    # ------------------------------------------------------------------ running
    def run(self, entries: list[ModelEntry]) -> None:
        """Run (Ctrl+R) on this tab trains, or runs the poisoning sweep on its page; the models are not needed."""
        if self.sections.currentWidget() is self.poison.page:
            self.poison.start()
        else:
            self.start()

    def start(self) -> bool:
        """Train with the form's settings; False (after one message) when they are refused."""
        request = self.run_controls.take_request(self.form, SETTINGS_KEY, "Cannot train")
        if request is None:
            return False
        attack = request.watch.attack
        norm = self.form.norm.currentText()
        run = self.plot.add_run(f"{Path(request.config.out).name[:2]} {request.name}",
                                f"PGD-{attack.steps} {norm} {attack.eps:.3g}")
        self._started = time.perf_counter()
        self.status.setText(f"Training {request.name}…")
        self.status.setToolTip(request.config.out)
        jobs = self.ctx.jobs
        jobs.start(SLOT, lambda token: watched_training(request, token),
                   on_progress=lambda snap, i=run: self._progress(i, snap),
                   on_finished=lambda result, i=run, r=request: self._finished(i, r, result),
                   on_failed=lambda exc, details, r=request: self._failed(r, exc, details),
                   label=f"Training {request.name}")
        self.update_enabled()
        return True

    def training(self) -> bool:
        return self.run_controls.running()

    def _progress(self, run: int, snap: TrainSnapshot) -> None:
        if len(snap.history) != len(self.plot.runs[run].history):
            self.plot.set_history(run, list(snap.history))
        text = snap.detail
        if snap.total:
            self.ctx.jobs.report_progress(snap.done, snap.total, SLOT, snap.detail)
            elapsed = time.perf_counter() - self._started
            if snap.done:        # the dock's label is narrow: the ETA is repeated here in full
                eta = elapsed * (snap.total - snap.done) / snap.done
                text += f"  ·  {snap.done}/{snap.total} batches  ·  ETA {duration_text(eta, spaced=True)}"
        self.status.setText(text)

    def _finished(self, run: int, request: TrainRequest, result: TrainResult) -> None:
        self.plot.set_history(run, result.history)
        out = Path(result.out)
        if result.card is None:       # cancelled during the first epoch
            self.plot.drop_last_if_empty()
            self.status.setText("Cancelled during the first epoch: there is no finished epoch to keep.")
        else:
            kept = f"epoch {result.card['stopped_after_epoch']} kept" if result.cancelled else "finished"
            self.status.setText(f"{request.name}: {kept}; added as a model column. "
                                f"Files in the runs folder's {out.name}.")
            self.status.setToolTip(str(out))
            self._add_model(out, result.card["architecture"])
        self.runFinished.emit(SLOT)

    def _failed(self, request: TrainRequest, exc: BaseException, details: str) -> None:
        self.status.setText(f"Training failed: {exc}")
        self.plot.drop_last_if_empty()
        out = Path(request.config.out)
        try:       # the run's folder, made before the data turned out unreadable: leave no empty one
            if out.is_dir() and not any(out.iterdir()):
                out.rmdir()
        except OSError:
            pass
        if isinstance(exc, VisualizerError):     # bad data or folder: say what failed, in the user's words
            self.ctx.report_error("Training failed", str(exc), details)
        else:
            self.ctx.jobs.explain_failure(exc, details)

    def _add_model(self, out: Path, arch: str) -> None:
        """Loaded exactly as Add model loads ``ckpt:PATH --arch NAME --labels FILE``."""
        models = self.ctx.window.models_workspace
        models.load_model(f"ckpt:{out / 'model.safetensors'}", {"arch": arch, "labels": str(out / "labels.txt")})

    def can_run(self) -> bool:
        """Run (Ctrl+R) runs the page shown: its settings must be valid and nothing running."""
        if self.sections.currentWidget() is self.poison.page:
            return self.poison.can_run()
        return not self.training() and self.form.problem() is None

    def update_enabled(self) -> None:
        running = self.training()
        self.train_button.setEnabled(not running and self.form.problem() is None)
        self.cancel_button.setEnabled(running)
        self.form.setEnabled(not running)
        self.poison.update_enabled()

    def current_artifacts(self):
        return None

    def export_own_files(self) -> bool:
        """File > Export on the Poison page writes the sweep's files."""
        if self.sections.currentWidget() is not self.poison.page:
            return False
        self.poison.ask_export()
        return True

    # ------------------------------------------------------------------ sessions
    def session_data(self) -> dict:
        """The plotted runs (their names and epoch records), so a session reopens the plot."""
        return {"runs": [{"name": r.name, "attack": r.attack, "history": r.history}
                         for r in self.plot.runs if r.history], "poison": self.poison.session_data()}

    def restore_session_data(self, data: dict) -> None:
        self.plot.clear()
        for run in data.get("runs") or []:
            if isinstance(run, dict) and isinstance(run.get("history"), list):
                index = self.plot.add_run(str(run.get("name", "run")), str(run.get("attack", "")))
                self.plot.set_history(index, run["history"])
        if isinstance(data.get("poison"), dict):
            self.poison.restore_session_data(data["poison"])
