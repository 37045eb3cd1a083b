"""The Evaluate tab: accuracy of the loaded models under threats over the first N examples of
a data set, as `visualizer evaluate` computes it (the same core run, records and output
files), in the worker with progress and Cancel.

The table (rows models, columns threats, accuracy with its 95% interval) and the curves
(accuracy against epsilon) fill in as batches finish; Cancel keeps the finished batches,
marked partial. Clicking a cell lists its examples; clicking an example makes it the
window's image and opens it in the Attack view (gradient threats) or the Sweep view
(spatial threats) with the threat's parameters (see evaluate_links). Export writes the
CLI's files (evaluation.json, per_example.csv, table, curves, gallery) in one atomic step.
"""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.core.errors import VisualizerError
from visualizer.core.evaluation import AttackProgress, BatchesFinished, Evaluation
from visualizer.core.evaluation.presentation import display_names
from visualizer.core.formatting import rate_text
from visualizer.core.lab_state import ModelEntry
from visualizer.gui.dialogs.export_folder import ask_export_folder
from visualizer.gui.panels.evaluate_results import AccuracyTable, CurvesPlot, ExamplesTable
from visualizer.gui.panels.evaluate_setup import EvaluateSetup
from visualizer.gui.panels.transfer_matrices import TransferMatrixView
from visualizer.gui.params_form import WARNING_STYLE
from visualizer.gui.qt import Qt, QtWidgets, Signal
from visualizer.gui.worker import call_in_worker
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext
from visualizer.gui.workspaces.evaluate_links import example_link

SLOT = "evaluate"
EXPORT_SLOT = "evaluate-export"
EXAMPLE_SLOT = "evaluate-example"


@dataclass
class LiveEvaluation:
    """A progress event of the run in the worker: the step now running and the latest round
    summary (the worker passes on only the latest event of a burst, so each carries both)."""

    total: int                           # examples asked for
    step: AttackProgress | None
    finished: BatchesFinished | None


@dataclass
class EvaluationRun:
    evaluation: Evaluation | None        # None: cancelled while the data set was read
    data: object                         # the first model's Dataset (example images come from it)


def evaluation_job(models: list, setup):
    """The worker's generator: read the data set as each model reads it, then the core's run."""
    from visualizer.core.cancel import is_cancelled
    from visualizer.core.data import load_dataset
    from visualizer.core.evaluation import evaluate

    def job(token):
        datasets = [load_dataset(setup.data, setup.split, preprocessing=m.info.preprocessing,
                                 class_names=m.info.class_names, limit=setup.limit) for m in models]
        total = len(datasets[0])
        if is_cancelled(token):            # while the data was read: nothing was evaluated
            return EvaluationRun(None, datasets[0])
        yield LiveEvaluation(total, None, None)
        run = evaluate(models, datasets, setup.threats, batch_size=setup.batch_size, seed=setup.seed, cancel=token)
        latest = None
        while True:
            try:
                event = next(run)
            except StopIteration as stop:
                return EvaluationRun(stop.value, datasets[0])
            if isinstance(event, BatchesFinished):
                latest = event
            yield LiveEvaluation(total, event if isinstance(event, AttackProgress) else None, latest)

    return job


class EvaluateWorkspace(TabWorkspace):
    kind = "evaluate"
    title = "Evaluate"
    needs_image = False
    uses_form = False

    exported = Signal(object)            # evaluation.json's content as written, or None

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx)
        self.setup = EvaluateSetup()
        self.evaluate_button = QtWidgets.QPushButton("Evaluate")
        self.evaluate_button.setToolTip("Run the threats on the ticked models over the data set (Run does the "
                                        "same while this tab is shown); Cancel keeps the finished batches")
        self.export_button = QtWidgets.QPushButton("Export…")
        self.export_button.setToolTip("Write evaluation.json, per_example.csv and the table, curves and gallery "
                                      "figures (PNG, PDF, SVG), as `visualizer evaluate` does")
        self.status_label = QtWidgets.QLabel("Choose the data, the models and the threats, then Evaluate.")
        self.status_label.setWordWrap(True)
        self.table = AccuracyTable()
        self.curves = CurvesPlot()
        self.transfer_view = TransferMatrixView()   # transfer threats: rows source, columns target
        self.transfer, self.transfer_title = self.transfer_view.table, self.transfer_view.title
        self.warnings = QtWidgets.QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(WARNING_STYLE)
        self.warnings.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.warnings.hide()
        self.examples_title = QtWidgets.QLabel("Click a cell of the table to list its examples.")
        self.examples = ExamplesTable()
        self.page = self._build_page()

        self.evaluation: Evaluation | None = None
        self.data = None
        self._entries: list[ModelEntry] = []       # the run's models, in table order
        self._cell: tuple[int, int] | None = None
        self._rows: dict | None = None
        self._shown_done = -1
        self._threats: list[dict] = []            # the run's threats, transfer ones one per source

        self.setup.changed.connect(ctx.refresh)
        self.evaluate_button.clicked.connect(self._evaluate_clicked)
        self.export_button.clicked.connect(self.ask_export)
        self.table.cellChosen.connect(lambda m, c: self.show_cell(m, self._threat_index(c)))
        self.examples.exampleChosen.connect(self.open_example)
        for signal in (self.state.model_added, self.state.model_changed, self.state.model_removed):
            signal.connect(lambda *_: self.setup.set_models(self.state.ready_models()))

    def catch_up(self) -> None:
        self.setup.set_models(self.state.ready_models())

    def _build_page(self) -> QtWidgets.QWidget:
        """The choice and the run's state on top, the table across, curves and examples below."""
        side = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.evaluate_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        column.addWidget(self.status_label)
        column.addWidget(self.warnings)
        column.addStretch(1)
        top = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(top)
        row.addWidget(self.setup, 3, Qt.AlignTop)
        row.addWidget(side, 2, Qt.AlignTop)
        listing = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(listing)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.examples_title)
        box.addWidget(self.examples)
        self.examples_title.setWordWrap(True)
        # A wrapped label's height depends on its width, which a splitter does not ask: keep two lines.
        self.examples_title.setMinimumHeight(2 * self.examples_title.fontMetrics().lineSpacing() + 4)
        bottom = QtWidgets.QSplitter(Qt.Horizontal)
        bottom.addWidget(self.curves)
        bottom.addWidget(listing)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        bottom.setSizes([3000, 2000])          # proportions; a splitter otherwise favours the table
        page = QtWidgets.QWidget()
        stack = QtWidgets.QVBoxLayout(page)
        stack.addWidget(top)
        stack.addWidget(self.table)          # as tall as its rows (AccuracyTable fits itself)
        stack.addWidget(self.transfer_view)
        stack.addWidget(bottom, 1)
        return page

    # -- running ----------------------------------------------------------------------------------
    def running(self) -> bool:
        return self.ctx.jobs.running(SLOT)

    def can_run(self) -> bool:
        return self.setup.problem() is None and not self.running()

    def update_enabled(self) -> None:
        self.evaluate_button.setEnabled(self.can_run())
        self.export_button.setEnabled(self.evaluation is not None and not self.ctx.jobs.running(EXPORT_SLOT))

    def run(self, entries: list[ModelEntry]) -> None:
        """Evaluate the ticked models: the tab's own choice, so Run, Run on all and Evaluate
        all do the same (``entries``, the window's pick, is not used). Raises
        VisualizerError for a setup that is not valid."""
        setup = self.setup.setup()
        self._entries = [e for e in setup.models if e.ready and e in self.state.models]
        if not self._entries:
            raise VisualizerError("Tick at least one loaded model to evaluate.")
        models = [e.model for e in self._entries]
        ids = [m.info.model_id for m in models]
        self.evaluation, self.data, self._cell, self._rows, self._shown_done = None, None, None, None, -1
        from visualizer.core.evaluation.transfer import expand_transfer

        plain = [t for t in setup.threats if not t.is_transfer]    # transfer threats get their own matrix
        self._threats = [t.to_dict() for t in expand_transfer(list(setup.threats), ids)]
        self.table.set_layout(ids, plain, models[0].info.preprocessing.input_size)
        self.table.setVisible(bool(plain))
        self.curves.set_layout(plain)
        self.transfer_view.clear()
        self.examples.setRowCount(0)
        self.examples_title.setText("Click a cell of the table to list its examples (once the run ends).")
        self._show_warnings([])
        self.status_label.setText(f"Reading {setup.data} ({setup.split})…")
        jobs = self.ctx.jobs
        jobs.start(SLOT, evaluation_job(models, setup), on_progress=self._progress, on_finished=self._finished,
                   on_failed=self._failed, label=f"Evaluate on {len(models)} model{'s' if len(models) > 1 else ''}")
        self.ctx.show_page(self.page)
        self.ctx.refresh()

    def _evaluate_clicked(self) -> None:
        try:
            self.run(self.state.ready_models())
        except VisualizerError as exc:
            self.ctx.report_error("Cannot evaluate", str(exc))

    def _progress(self, live: LiveEvaluation) -> None:
        done = live.finished.examples_done if live.finished else 0
        parts = []
        if live.finished is not None and live.finished.images_per_s > 0:
            parts.append(rate_text(live.finished.images_per_s))
        if live.step is not None:
            parts.append(f"{live.step.threat} {live.step.attack} {live.step.done}/{live.step.total}")
        self.ctx.jobs.report_progress(done, live.total, SLOT, "  ".join(parts))
        self.status_label.setText(f"{done} of {live.total} examples done" + (f"  ·  {parts[0]}" if parts else ""))
        if live.finished is not None and live.finished.cells is not None and done != self._shown_done:
            self._shown_done = done
            self._show_cells(live.finished.cells)

    def _show_cells(self, cells: list[dict]) -> None:
        self.table.show_cells(cells)
        self.curves.show_cells(self.table.model_ids, cells)
        if any(t.get("source") for t in self._threats):
            from visualizer.core.evaluation.transfer import transfer_matrices

            matrices = transfer_matrices(self._threats, cells, self.table.model_ids)
            # One matrix per transfer attack and budget; a chooser when there are several.
            self.transfer_view.show_matrices(matrices, dict(zip(self.table.model_ids,
                                                                display_names(self.table.model_ids))))

    def _threat_index(self, column: int) -> int:
        """The evaluation's threat index of the table's ``column`` (transfer threats are not columns)."""
        texts = [t["id"] for t in self._threats]
        tid = self.table.threat_ids[column] if column < len(self.table.threat_ids) else None
        return texts.index(tid) if tid in texts else column

    def _finished(self, run: EvaluationRun) -> None:
        ev = run.evaluation
        if ev is None:
            self.status_label.setText("Cancelled while the data set was read: nothing was evaluated.")
        else:
            self.evaluation, self.data = ev, run.data
            self._show_cells(ev.summaries())
            self._show_warnings(ev.warnings())
            if ev.complete:
                self.status_label.setText(f"Done: {ev.examples_done} examples in {ev.wall_time_s:.1f} s.")
            else:
                self.status_label.setText(f"Partial (cancelled): {ev.examples_done} of {ev.examples} examples; "
                                          "the table shows the finished batches.")
            self.examples_title.setText("Click a cell of the table to list its examples.")
        self.ctx.refresh()
        self.runFinished.emit(self.kind)

    def _failed(self, exc, details) -> None:
        self.status_label.setText("The evaluation failed; see the message.")
        self.ctx.jobs.explain_failure(exc, details)

    def _show_warnings(self, warnings: list[str]) -> None:
        self.warnings.setText("\n".join(f"\u26a0 {w}" for w in warnings))
        self.warnings.setVisible(bool(warnings))

    # -- from a cell to its examples to the Attack or Sweep view ---------------------------------
    def show_cell(self, model: int, threat: int) -> None:
        ev = self.evaluation
        if ev is None:
            self.ctx.status("The examples are listed once the run has finished or been cancelled.", 6000)
            return
        self._cell, self._rows = (model, threat), ev.cell_rows(model, threat)
        names = ev.class_names[model] if model < len(ev.class_names) else []
        self.examples.show_rows(self._rows, names)
        broken = sum(1 for s in self._rows["success"] if s)
        self.examples_title.setText(f"{ev.model_ids[model]} under {ev.threats[threat].text}: "
                                    f"{len(self._rows['index'])} examples, {broken} misclassified. "
                                    "Click one to open it.")

    def open_example(self, row: int) -> None:
        """Make the example the window's image and open it where its threat is studied."""
        if self._rows is None or self._cell is None or not 0 <= row < len(self._rows["index"]):
            return
        m, t = self._cell
        entry = self._entries[m]
        if entry not in self.state.models or not entry.ready:
            self.ctx.report_error("Model not loaded", f"{self.evaluation.model_ids[m]} is no longer loaded; "
                                                      "load it again and re-run the evaluation.")
            return
        index = self._rows["index"][row]
        link = example_link(self.evaluation.threats[t], self._rows["attack"][row], self._rows["label"][row],
                            self.evaluation.seed)
        data = self.data
        from visualizer.core.evaluation.examples import example_image

        self.ctx.jobs.start(EXAMPLE_SLOT, call_in_worker(lambda: example_image(data, index)),
                            on_finished=lambda res: self._open(entry, link, *res), label=None)

    def _open(self, entry: ModelEntry, link, image, data: bytes) -> None:
        if entry not in self.state.models:
            return
        self.state.select(entry)
        self.state.set_image(image, data)
        target = self.ctx.window.workspace(link.kind)
        if link.form is not None:
            self.ctx.form.restore_state(link.form)
            if not self.ctx.form.is_valid():
                self.ctx.report_error("Cannot repeat the attack", "; ".join(self.ctx.form.errors().values()))
                return
            try:
                target.run([entry])
            except VisualizerError as exc:
                self.ctx.report_error("Cannot repeat the attack", str(exc))
                return
        self.ctx.show_page(target.page)
        self.ctx.status(f"{image.name} on {entry.title}: {link.note}.", 12000)

    # -- export -----------------------------------------------------------------------------------
    def export_own_files(self) -> bool:
        self.ask_export()          # File > Export (Ctrl+E) here writes the evaluation's files
        return True

    def ask_export(self) -> None:
        if self.evaluation is None:
            self.ctx.report_error("Nothing to export", "Run an evaluation first.")
            return
        chosen = ask_export_folder(self.ctx.window, "Export the evaluation into", "the evaluation's files")
        if chosen is not None:
            self.export_to(*chosen)

    def export_to(self, folder, overwrite: bool = False, dpi: int = 200) -> None:
        """Write the CLI's files into ``folder`` in the worker (PNG at ``dpi``, as --dpi);
        ``exported`` follows."""
        from visualizer.core.evaluation.output import export_evaluation

        ev = self.evaluation

        def failed(exc, details):
            self.ctx.jobs.explain_failure(exc, details)
            self.exported.emit(None)

        self.ctx.jobs.start(EXPORT_SLOT, call_in_worker(lambda: export_evaluation(folder, ev, overwrite, dpi)),
                            on_finished=lambda record: self._exported(folder, record), on_failed=failed,
                            label="Exporting the evaluation")

    def _exported(self, folder, record: dict) -> None:
        self.ctx.status(f"Evaluation written to {folder}", 8000)
        self.exported.emit(record)

    # -- sessions ---------------------------------------------------------------------------------
    def session_data(self) -> dict:
        return {"setup": self.setup.state()}

    def restore_session_data(self, data: dict) -> None:
        self.setup.restore_state(data.get("setup"))
