"""The Poison panel of the Train tab: the backdoor experiment of `visualizer poison` in the
window. The settings (panels/poison_setup.py) start the core's rate sweep in a worker
(poison_job.py); as each rate finishes, the clean-accuracy and ASR curves gain a point, the
triggered test images show the predictions before and after, and with the detector on its
most suspect training images are shown, true poisons framed red and false positives amber,
with precision, recall and the ASR after retraining. Cancel keeps the finished rates. A
poisoned model can be added as a model column (so the Attack and Saliency views can use
it), and Export writes the CLI's files (poison.json, curves, examples, one model folder per
rate)."""

from __future__ import annotations

from pathlib import Path

from visualizer.core.errors import VisualizerError
from visualizer.core.formatting import broken_model_note
from visualizer.gui.panels.poison_results import (RateCurves, SweepViews, detection_text, prediction_items,
                                                  suspect_items)
from visualizer.gui.dialogs.export_folder import ask_export_folder
from visualizer.gui.panels.poison_setup import PoisonSetup
from visualizer.gui.panels.settings_page import scrolling, settings_beside, settings_column
from visualizer.gui.qt import Qt, QtCore, QtWidgets, Signal
from visualizer.gui.worker import call_in_worker
from visualizer.gui.workspaces.poison_job import PoisonRun, PoisonSnapshot, sweep_job
from visualizer.gui.workspaces.run_controls import RunControls, restore_remembered

SLOT = "poison"
SAMPLE_SLOT = "poison-sample"
EXPORT_SLOT = "poison-export"
SETTINGS_KEY = "poison/form"


def first_test_image(spec: str):
    """C x H x W pixels in [0, 1] of the data set's first test image (the trigger preview's sample)."""
    from visualizer.core.data import load_dataset

    x, _ = load_dataset(spec, "test", limit=1).batch([0])
    return x[0].numpy()


def bundled_robust_names() -> list[str]:
    from visualizer.core.models.bundled import BUNDLED_NAMES

    return [n for n in BUNDLED_NAMES if "robust" in n]


class PoisonPanel(QtCore.QObject):
    """Owned by the Train tab (``TrainWorkspace.poison``); ``page`` is its sub-tab."""

    exported = Signal(object)            # the list of files written, or None
    finished = Signal()                  # a sweep ended (finished, cancelled or failed)

    def __init__(self, ctx):
        super().__init__(ctx.window)
        self.ctx = ctx
        self.setup = PoisonSetup()
        self.run_controls = RunControls(
            ctx, SLOT, "Run sweep", "Poison the training set at every rate, train a model at each and measure clean "
            "accuracy and attack success rate (Run, Ctrl+R, does the same here)",
            "Stop after the current batch; the finished rates are kept", self.start)
        self.run_button, self.cancel_button = self.run_controls.run_button, self.run_controls.cancel_button
        self.export_button = QtWidgets.QPushButton("Export…")
        self.export_button.setToolTip("Write poison.json, curves and examples figures (PNG, PDF, SVG) and every "
                                      "finished rate's model folder, as `visualizer poison` does")
        self.model_choice = QtWidgets.QComboBox()
        self.model_choice.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_choice.setToolTip("A finished rate's model (or the one retrained without the flagged images)")
        self.add_button = QtWidgets.QPushButton("Add as model")
        self.add_button.setToolTip("Load this poisoned model as a model column: attack it, see its saliency")
        self.curves = RateCurves()
        self.views = SweepViews()
        self.status = QtWidgets.QLabel("Choose the settings and press Run sweep.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detection = QtWidgets.QLabel()
        self.detection.setWordWrap(True)
        self.detection.setTextFormat(Qt.TextFormat.RichText)
        self.page = self._build_page()

        self.snapshot: PoisonSnapshot | None = None
        self.run: PoisonRun | None = None
        self.entries: list[dict] = []
        self._sample_spec: str | None = None
        self._asked = 0                      # rates in the running sweep
        self._rate_chosen = False            # the user picked the rate shown (else: the newest)
        self.export_button.clicked.connect(self.ask_export)
        self.add_button.clicked.connect(self.add_chosen_model)
        self.views.rate.currentIndexChanged.connect(lambda *_: self._show_views())
        self.views.rate.activated.connect(self._rate_picked)
        self.setup.dataChanged.connect(self.load_sample)
        state = ctx.state
        for signal in (state.model_added, state.model_changed, state.model_removed):
            signal.connect(lambda *_: self._robust_choices())
        self._robust_choices()
        restore_remembered(ctx, SETTINGS_KEY, self.setup)     # the last sweep's settings
        self.setup.changed.connect(ctx.refresh)               # Run sweep follows the settings' validity
        # the sample is read when the page is first shown: a window that never shows it reads nothing
        self.page.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if watched is self.page and event.type() == QtCore.QEvent.Type.Show:
            self.load_sample()
        return False

    def _build_page(self) -> QtWidgets.QWidget:
        actions = QtWidgets.QHBoxLayout()
        actions.addWidget(self.export_button)
        actions.addWidget(self.model_choice, 1)
        actions.addWidget(self.add_button)
        top = QtWidgets.QWidget()
        t = QtWidgets.QVBoxLayout(top)
        t.setContentsMargins(0, 0, 0, 0)
        t.addWidget(self.curves, 1)
        t.addWidget(self.status)
        t.addLayout(actions)
        below = QtWidgets.QWidget()
        b = QtWidgets.QVBoxLayout(below)
        b.setContentsMargins(0, 0, 0, 0)
        b.addWidget(self.views)
        b.addStretch(1)
        # the detector's numbers right above its images, where they are read first
        self.views.layout().insertWidget(self.views.layout().indexOf(self.views.suspects), self.detection)
        right = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        right.addWidget(top)
        right.addWidget(scrolling(below))
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        right.setChildrenCollapsible(False)
        right.setSizes([1000, 1000])              # proportions: the plot and the image grids alike
        return settings_beside(settings_column(self.setup, self.run_controls.row()), right)

    # ------------------------------------------------------------------ the preview's sample
    def load_sample(self) -> None:
        """Read the data set's first test image in a quiet job; the preview follows (only
        while the page is shown: it is read again when it is)."""
        if not self.page.isVisible():
            return
        try:
            spec = self.setup.data_spec()
        except VisualizerError as exc:
            self._sample_spec = None
            self.setup.set_sample(None)
            self.setup.preview.set_images(None, None, str(exc))
            return
        if spec == self._sample_spec:
            return
        self._sample_spec = spec
        self.ctx.jobs.start(SAMPLE_SLOT, call_in_worker(lambda: first_test_image(spec)),
                            on_finished=lambda pixels, s=spec: self._sample_loaded(s, pixels),
                            on_failed=lambda exc, details, s=spec: self._sample_failed(s, exc), label=None)

    def _sample_loaded(self, spec: str, pixels) -> None:
        if spec == self._sample_spec:
            self.setup.set_sample(pixels)

    def _sample_failed(self, spec: str, exc: BaseException) -> None:
        if spec == self._sample_spec:
            self._sample_spec = None
            self.setup.set_sample(None)
            self.setup.preview.set_images(None, None, f"no sample: {exc}")

    def _robust_choices(self) -> None:
        self.setup.set_robust_choices(self.ctx.state.ready_models(), bundled_robust_names())

    # ------------------------------------------------------------------ running
    def running(self) -> bool:
        return self.run_controls.running()

    def start(self) -> bool:
        """Run the sweep with the panel's settings; False (after one message) when refused."""
        request = self.run_controls.take_request(self.setup, SETTINGS_KEY, "Cannot run the poisoning sweep")
        if request is None:
            return False
        robust = None
        if request.robust is not None:
            kind, value = request.robust
            robust = value.model if kind == "loaded" else value
        self.snapshot, self.run, self.entries = None, None, []
        self._asked, self._rate_chosen = len(request.config.rates), False
        self._show_entries([])
        self.views.examples.set_items([])
        self.views.suspects.set_items([])
        self.status.setText(f"Poisoning: {request.name}…")
        self.status.setToolTip(request.config.out)
        self.ctx.jobs.start(SLOT, lambda token: sweep_job(request, robust, token), on_progress=self._progress,
                            on_finished=self._finished, on_failed=self._failed,
                            label=f"Poisoning sweep ({request.config.attack})")
        self.ctx.refresh()
        return True

    def _progress(self, snap: PoisonSnapshot) -> None:
        first_examples = snap.examples is not None and (self.snapshot is None or self.snapshot.examples is None)
        grown = len(snap.entries) != len(self.entries)
        self.snapshot = snap
        if grown:
            self._show_entries(list(snap.entries))
        elif first_examples:
            self._show_views()
        self.ctx.jobs.report_progress(snap.done, snap.total, SLOT, snap.detail)
        self.status.setText(f"{snap.detail}  ·  {len(snap.entries)} of {self._asked} rates done")

    def _show_entries(self, entries: list[dict]) -> None:
        """Curves, the rate choice and the model choice from the finished rates."""
        self.entries = entries
        self.curves.show_entries(entries)
        keep = self.views.rate.currentData() if self._rate_chosen else None
        self.views.rate.blockSignals(True)
        self.views.rate.clear()
        for e in entries:
            self.views.rate.addItem(f"{e['rate'] * 100:g}% ({e['poisons']} poisons)", e["rate"])
        index = self.views.rate.findData(keep)       # the user's choice stays; otherwise the newest rate
        self.views.rate.setCurrentIndex(index if keep is not None and index >= 0 else len(entries) - 1)
        self.views.rate.blockSignals(False)
        self.model_choice.clear()
        for e in entries:
            self.model_choice.addItem(f"{e['rate'] * 100:g}% poisoned", e["model"])
            if e.get("detection"):
                self.model_choice.addItem(f"{e['rate'] * 100:g}%, flagged removed",
                                          e["detection"]["retrained"]["model"])
        if entries:      # the most poisoned model: the one worth attacking
            self.model_choice.setCurrentIndex(self.model_choice.findData(entries[-1]["model"]))
        self._show_views()
        self.ctx.refresh()

    def _rate_picked(self, *_) -> None:
        self._rate_chosen = True

    def chosen_entry(self) -> dict | None:
        rate = self.views.rate.currentData()
        return next((e for e in self.entries if e["rate"] == rate), None)

    def _show_views(self) -> None:
        examples = None if self.snapshot is None else self.snapshot.examples
        after = self.chosen_entry()
        if examples is not None and after is not None:
            names, target = examples["names"], examples["target"]
            before = self.entries[0]
            self.views.examples.title.setText(
                f"Test images, clean (top row) and with the trigger (bottom row): predictions of the "
                f"{before['rate'] * 100:g}% model \u2192 the {after['rate'] * 100:g}% model; red: the trigger "
                f"sent it to <b>{names[target]}</b>.")
            self.views.examples.set_items(prediction_items(examples, before, after, names, target))
        elif examples is not None:
            self.views.examples.title.setText("Test images, clean (top row) and with the trigger (bottom row); "
                                              "predictions appear as rates finish.")
            names = examples["names"]
            self.views.examples.set_items(
                [(p, names[c], None, "") for p, c in zip(examples["clean"], examples["labels"])]
                + [(p, "", None, "") for p in examples["triggered"]])
        suspects = {} if self.snapshot is None else self.snapshot.suspects
        if after is not None and after.get("detection") and after["rate"] in suspects and examples is not None:
            self.views.suspects.title.setText("The detector's most suspect training images (of its "
                                              f"{after['detection']['flagged']} flagged), most suspect first:")
            self.views.suspects.set_items(suspect_items(after["detection"], suspects[after["rate"]],
                                                        examples["names"]))
            self.detection.setText(detection_text(after))
        else:
            self.views.suspects.set_items([])
            self.views.suspects.title.setText("With the detector on, its most suspect training images appear here "
                                              "for each poisoned rate.")
            # a reopened session keeps the numbers, not the images
            self.detection.setText(detection_text(after) if after is not None and after.get("detection") else "")

    def _finished(self, run: PoisonRun) -> None:
        self.run = run
        self.snapshot = PoisonSnapshot(tuple(run.record["rates"]), self._examples_of(run),
                                       dict(run.suspects), 0, 0, "")
        self._show_entries(list(run.record["rates"]))
        done = len(run.record["rates"])
        if run.result.cancelled:
            self.status.setText(f"Cancelled: {done} of {self._asked} rates finished and kept. Models in {run.out}.")
        else:
            self.status.setText(f"Done: {done} rates in {run.result.seconds:.0f} s. Models in {run.out}.")
        notes = [f"{e['rate'] * 100:g}%: {note}" for e in run.record["rates"] if (note := broken_model_note(e))]
        if notes:           # an ASR of 100% from a model that calls everything the target
            self.status.setText(self.status.text() + "\nWarning: " + "\nWarning: ".join(notes))
        self.status.setToolTip(str(run.out))
        self.ctx.refresh()
        self.finished.emit()

    @staticmethod
    def _examples_of(run: PoisonRun) -> dict:
        r = run.result
        return {"clean": r.examples_clean.numpy(), "triggered": r.examples_triggered.numpy(),
                "labels": list(r.example_labels), "names": list(run.record["class_names"]),
                "target": run.record["target"]}

    def _failed(self, exc: BaseException, details: str) -> None:
        self.status.setText(f"The poisoning sweep failed: {exc}")
        if isinstance(exc, VisualizerError):
            self.ctx.report_error("Poisoning failed", str(exc), details)
        else:
            self.ctx.jobs.explain_failure(exc, details)
        self.finished.emit()

    def can_run(self) -> bool:
        """Not running, and the settings valid (their message is shown under them)."""
        return not self.running() and self.setup.problem() is None

    def update_enabled(self) -> None:
        running = self.running()
        self.run_button.setEnabled(self.can_run())
        self.cancel_button.setEnabled(running)
        self.setup.setEnabled(not running)
        ended = self.run is not None and not running
        self.export_button.setEnabled(ended and bool(self.entries) and not self.ctx.jobs.running(EXPORT_SLOT))
        self.add_button.setEnabled(ended and self.model_choice.count() > 0)
        self.model_choice.setEnabled(ended)

    # ------------------------------------------------------------------ a poisoned model as a column
    def add_chosen_model(self) -> None:
        if self.run is None or self.model_choice.currentData() is None:
            return
        weights = self.run.out / self.model_choice.currentData()
        arch = self.run.record["training"]["arch"]
        self.ctx.window.models_workspace.load_model(f"ckpt:{weights}",
                                                    {"arch": arch, "labels": str(weights.parent / "labels.txt")})

    # ------------------------------------------------------------------ export
    def ask_export(self) -> None:
        if self.run is None or not self.entries:
            self.ctx.report_error("Nothing to export", "Run a poisoning sweep first.")
            return
        chosen = ask_export_folder(self.ctx.window, "Export the poisoning sweep into", "the sweep's files")
        if chosen is not None:
            self.export_to(*chosen)

    def export_to(self, folder, overwrite: bool = False, dpi: int = 200) -> None:
        """Write the CLI's files into ``folder`` in the worker; ``exported`` follows."""
        from visualizer.core.poisoning.output import export_sweep

        run = self.run

        def failed(exc, details):
            self.ctx.jobs.explain_failure(exc, details)
            self.exported.emit(None)

        self.ctx.jobs.start(EXPORT_SLOT, call_in_worker(
            lambda: export_sweep(Path(folder), run.out, run.record, run.result, overwrite, dpi)),
            on_finished=lambda written: self._exported(folder, written), on_failed=failed,
            label="Exporting the poisoning sweep")
        self.ctx.refresh()

    def _exported(self, folder, written: list[str]) -> None:
        self.ctx.status(f"Poisoning sweep written to {folder}: {', '.join(written[:4])}…", 8000)
        self.exported.emit(written)

    # ------------------------------------------------------------------ sessions
    def session_data(self) -> dict:
        """The setup, and the finished rates' entries (the curves and the detector's numbers)."""
        return {"setup": self.setup.state(), "rates": self.entries}

    def restore_session_data(self, data: dict) -> None:
        self.setup.restore_state(data.get("setup") or {})
        entries = data.get("rates")
        if isinstance(entries, list) and all(isinstance(e, dict) and "rate" in e for e in entries):
            self.snapshot, self.run = None, None
            self._show_entries(entries)

