"""The models: the list in the controls dock, Add model (the dialog), Remove, and loading
each model off the GUI thread. The models themselves, and which one is selected, live in
the lab state; the list mirrors them."""

from __future__ import annotations

import json
from dataclasses import asdict

from visualizer.core.lab_state import CANCELLED, LOADING, ModelEntry
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.gui.dialogs.error_dialog import show_error
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Signal
from visualizer.gui.worker import call_in_worker
from visualizer.gui.workspaces.base import WorkspaceContext


class ModelsWorkspace(QtCore.QObject):
    modelLoaded = Signal(int)          # index in the list

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx.window)
        self.ctx = ctx
        self.state = ctx.state
        self.box = QtWidgets.QGroupBox("Models")
        v = QtWidgets.QVBoxLayout(self.box)
        self.model_list = QtWidgets.QListWidget()
        self.model_list.setToolTip("Loaded models; Run uses the selected one, Run all uses every model.")
        self.model_list.setMaximumHeight(110)
        self.model_list.currentRowChanged.connect(self._row_selected)
        v.addWidget(self.model_list)
        row = QtWidgets.QHBoxLayout()
        self.add_model_button = QtWidgets.QPushButton("Add model…")
        self.remove_model_button = QtWidgets.QPushButton("Remove")
        row.addWidget(self.add_model_button)
        row.addWidget(self.remove_model_button)
        v.addLayout(row)
        self.add_model_button.clicked.connect(self.ask_model)
        self.remove_model_button.clicked.connect(self.remove_selected_model)
        self.act_add_model = ctx.action("&Add model…", self.ask_model, "Ctrl+M",
                                        "Load a model from any supported source")

        self.state.model_added.connect(self._added)
        self.state.model_changed.connect(self._changed)
        self.state.model_removed.connect(self._removed)
        self.state.selection_changed.connect(self._selection_changed)

    def update_enabled(self) -> None:
        self.remove_model_button.setEnabled(self.state.selected is not None)

    # -- adding -----------------------------------------------------------------------------------
    def ask_model(self) -> None:
        from visualizer.gui.dialogs.model_dialog import ModelDialog

        dialog = ModelDialog(self.ctx.window)
        raw = self.ctx.settings.value("model_dialog/state")
        if isinstance(raw, str):
            try:
                dialog.restore_state(json.loads(raw))
            except (ValueError, TypeError, KeyError):
                pass
        if dialog.exec() == QtWidgets.QDialog.Accepted:
            self.ctx.settings.setValue("model_dialog/state", json.dumps(dialog.state()))
            spec, options = dialog.result_spec()
            self.load_model(spec, asdict(options))

    def load_model(self, spec: str, options: dict) -> int:
        """Add the model to the state and load it in a worker; returns its index."""
        entry = self.state.add_model(spec, options)
        self.state.select(entry)
        opts = LoadOptions(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in entry.options.items()})
        self.ctx.jobs.start(self.slot(entry), call_in_worker(lambda: load_model(spec, opts)),
                            on_finished=lambda model, e=entry: self._loaded(e, model),
                            on_failed=lambda exc, details, e=entry: self._failed(e, exc, details),
                            label=f"Loading {spec}")
        return self.state.index_of(entry)

    @staticmethod
    def slot(entry: ModelEntry) -> str:
        return f"model:{id(entry)}"

    def cancel_loading(self) -> None:
        """Cancel was pressed: loading cannot stop part-way, so what loads after it is dropped."""
        for entry in self.state.models:
            if self.ctx.jobs.running(self.slot(entry)):
                entry.load_cancelled = True

    def _loaded(self, entry: ModelEntry, model) -> None:
        if entry not in self.state.models:
            return
        if entry.load_cancelled:
            self.state.model_failed(entry, "", status=CANCELLED)
            self.ctx.status(f"Loading {entry.spec} cancelled", 8000)
            return
        self.state.model_loaded(entry, model)
        info = model.info
        warnings = [n for n in info.notes if n.startswith("Warning")]
        if warnings:     # e.g. NaN weights, probabilities instead of logits: the user must see it
            show_error(self.ctx.window, f"{info.model_id} loaded with a warning", "\n\n".join(warnings))
        for note in info.notes:
            self.ctx.status(f"{info.model_id}: {note}", 8000)
        self.modelLoaded.emit(self.state.index_of(entry))

    def _failed(self, entry: ModelEntry, exc: BaseException, details: str) -> None:
        entry.load_error = str(exc)
        if entry in self.state.models:
            self.state.model_failed(entry, str(exc))
        from visualizer.gui.dialogs.model_dialog import ModelDialog

        self.ctx.report_error(f"Could not load {entry.spec}", ModelDialog.explain_error(exc), details)

    # -- removing ---------------------------------------------------------------------------------
    def remove_selected_model(self) -> None:
        i = self.model_list.currentRow()
        if 0 <= i < len(self.state.models):
            self.state.remove_model(self.state.models[i])

    def remove_all(self) -> None:
        while self.state.models:
            self.model_list.setCurrentRow(0)
            self.remove_selected_model()

    # -- the list follows the state ---------------------------------------------------------------
    def _added(self, entry: ModelEntry) -> None:
        self.model_list.addItem(QtWidgets.QListWidgetItem(f"{entry.spec} — loading…"))

    def _changed(self, entry: ModelEntry) -> None:
        item = self.model_list.item(self.state.index_of(entry))
        if not entry.ready:
            state = "loading cancelled" if entry.status == CANCELLED else \
                "loading…" if entry.status == LOADING else "failed to load"
            item.setText(f"{entry.spec} — {state}")
            return
        info = entry.model.info
        item.setText(f"{info.model_id}  ({info.preprocessing.input_size} px, {info.num_classes} classes, "
                     f"{entry.model.device})")
        item.setToolTip("\n".join([info.description, *info.notes]).strip())
        if any(n.startswith("Warning") for n in info.notes):
            item.setForeground(QtGui.QBrush(QtGui.QColor("#b35900")))

    def _removed(self, _entry: ModelEntry, index: int) -> None:
        self.model_list.takeItem(index)      # moves the list's current row: the selection follows it
        self._row_selected(self.model_list.currentRow())

    def _row_selected(self, row: int) -> None:
        models = self.state.models
        self.state.select(models[row] if 0 <= row < len(models) else None)

    def _selection_changed(self, entry: ModelEntry | None) -> None:
        row = -1 if entry is None else self.state.index_of(entry)
        if self.model_list.currentRow() != row:
            self.model_list.setCurrentRow(row)
