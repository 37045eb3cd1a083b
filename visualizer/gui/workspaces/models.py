"""The models: the list in the controls dock, Add model (the dialog, several bundled models at
once), Remove (undoable: Edit > Undo or the status bar's button), and loading each model off
the GUI thread. The models themselves, and which one is selected, live in the lab state;
the list mirrors them."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Callable

from visualizer.core.lab_state import CANCELLED, LOADING, ModelEntry
from visualizer.core.device import pick_device
from visualizer.core.errors import VisualizerError
from visualizer.core.models.registry import LoadOptions, load_model, repeated_model
from visualizer.gui import gc_policy
from visualizer.gui.dialogs.error_dialog import show_error
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from visualizer.gui.worker import call_in_worker
from visualizer.gui.workspaces.base import WorkspaceContext


UNDO_LIMIT = 3                # removed models kept for Undo (each holds its network in memory)


class ModelsWorkspace(QtCore.QObject):
    modelLoaded = Signal(int)          # index in the list

    def __init__(self, ctx: WorkspaceContext, tabs: Callable[[], list] = lambda: []):
        """``tabs``: the window's tab workspaces (what they keep is restored with an undone removal)."""
        super().__init__(ctx.window)
        self.ctx = ctx
        self.state = ctx.state
        self.tabs = tabs
        self._notices: list[str] = []     # the current choice of models' messages
        # Removing a model keeps it, with its results, for Undo: the last few, and only while the
        # image they were computed on is the one open (a new image or session forgets them).
        self.undo_stack = QtGui.QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.state.image_changed.connect(lambda *_: self.forget_removed())
        self.box = QtWidgets.QWidget()
        v = QtWidgets.QVBoxLayout(self.box)
        v.setContentsMargins(4, 2, 4, 2)
        self.model_list = QtWidgets.QListWidget()
        self.model_list.setToolTip("Loaded models; Run uses the selected one, Run all uses every model.")
        self.model_list.setTextElideMode(Qt.TextElideMode.ElideRight)    # the whole line is in its tooltip
        self.model_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_list()
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

    def _fit_list(self) -> None:
        """As tall as its rows, from 2 to 5: the dock's room goes to the run parameters."""
        rows = min(max(self.model_list.count(), 2), 5)
        line = self.model_list.fontMetrics().height() + 4
        self.model_list.setFixedHeight(rows * line + 2 * self.model_list.frameWidth() + 4)

    def update_enabled(self) -> None:
        self.remove_model_button.setEnabled(self.state.selected is not None)

    # -- adding -----------------------------------------------------------------------------------
    def ask_model(self) -> QtWidgets.QDialog:
        """Open the model dialog (window-modal, not blocking); every model chosen in it is
        loaded when the user presses Load."""
        from visualizer.gui.dialogs.model_dialog import ModelDialog

        dialog = ModelDialog(self.ctx.window)
        dialog.setObjectName("model_dialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        raw = self.ctx.settings.value("model_dialog/state")
        if isinstance(raw, str):
            try:
                dialog.restore_state(json.loads(raw))
            except (ValueError, TypeError, KeyError):
                pass
        dialog.accepted.connect(lambda: self._chosen(dialog))
        dialog.open()
        return dialog

    def _chosen(self, dialog) -> None:
        self.ctx.settings.setValue("model_dialog/state", json.dumps(dialog.state()))
        self._notices = []           # this choice's messages, shown together (see _notice)
        for spec, options in dialog.result_specs():
            same = self._loaded_already(spec, asdict(options))
            if same is not None:     # a second column of one model compares nothing
                self.state.select(same)
                self._notice(f"{same.spec!r} is already loaded (as {spec!r} would be); it is selected.")
                continue
            self.load_model(spec, asdict(options), same_choice=True)

    def _notice(self, text: str) -> None:
        """Show ``text`` in the status bar with the messages before it from the same choice of
        models: a later model's load note no longer replaces "already loaded"."""
        self._notices.append(text)
        self.ctx.status("  ·  ".join(self._notices[-3:]), 15000)

    def _loaded_already(self, spec: str, options: dict) -> ModelEntry | None:
        """The entry that holds the same model with the same load options (``model_key``:
        ``digits-standard`` and ``bundled:DIGITS-standard`` are one), if any."""
        def normalised(opts: dict) -> dict:
            o = asdict(LoadOptions(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in opts.items()}))
            o["device"] = str(pick_device(o.get("device")))     # "auto" is the device it picks
            return o

        for entry in self.state.models:
            try:
                if repeated_model([entry.spec, spec], [normalised(entry.options), normalised(options)]):
                    return entry
            except (VisualizerError, TypeError):     # a bad spec: loading it reports why
                return None
        return None

    def load_model(self, spec: str, options: dict, same_choice: bool = False) -> int:
        """Add the model to the state and load it in a worker; returns its index.
        ``same_choice``: one of several models chosen together (their messages are shown together)."""
        if not same_choice:
            self._notices = []
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
            self._notice(f"{info.model_id}: {note}")
        self.modelLoaded.emit(self.state.index_of(entry))

    def _failed(self, entry: ModelEntry, exc: BaseException, details: str) -> None:
        entry.load_error = str(exc)
        if entry in self.state.models:
            self.state.model_failed(entry, str(exc))
        from visualizer.gui.dialogs.model_dialog import ModelDialog

        self.ctx.report_error(f"Could not load {entry.spec}", ModelDialog.explain_error(exc), details)

    # -- removing ---------------------------------------------------------------------------------
    def remove_selected_model(self) -> None:
        """Remove the selected model and its results; a loaded one can be put back (Undo)."""
        i = self.model_list.currentRow()
        if not 0 <= i < len(self.state.models):
            return
        entry = self.state.models[i]
        if not entry.ready:              # loading or failed: nothing to lose
            self.state.remove_model(entry)
            return
        drops_oldest = self.undo_stack.count() >= UNDO_LIMIT
        self.undo_stack.push(_RemoveModel(self, entry))
        if drops_oldest:              # the oldest removed model is gone for good
            gc_policy.release()
        self.ctx.status(f"Removed {entry.title} and its results. Undo: Ctrl+Z or the Undo button.", 10000)

    def remove_all(self) -> None:
        """Every model goes, for good (a session is being opened)."""
        while self.state.models:
            self.model_list.setCurrentRow(0)
            self.state.remove_model(self.state.models[0])
        self.forget_removed()

    def forget_removed(self) -> None:
        """Removed models can no longer come back (their results were for another image):
        their networks are freed now."""
        if self.undo_stack.count():
            self.undo_stack.clear()
            gc_policy.release()

    # -- the list follows the state ---------------------------------------------------------------
    def _added(self, entry: ModelEntry) -> None:
        item = QtWidgets.QListWidgetItem(f"{entry.spec} — loading…")
        self.model_list.insertItem(self.state.index_of(entry), item)    # an undone removal goes back in place
        self._fit_list()

    def _changed(self, entry: ModelEntry) -> None:
        item = self.model_list.item(self.state.index_of(entry))
        if not entry.ready:
            state = "loading cancelled" if entry.status == CANCELLED else \
                "loading…" if entry.status == LOADING else "failed to load"
            item.setText(f"{entry.spec} — {state}")
            item.setToolTip(item.text())
            return
        info = entry.model.info
        item.setText(f"{info.model_id}  ({info.preprocessing.input_size} px, {info.num_classes} classes, "
                     f"{entry.model.device})")
        item.setToolTip("\n".join([item.text(), info.description, *info.notes]).strip())
        if any(n.startswith("Warning") for n in info.notes):
            item.setForeground(QtGui.QBrush(QtGui.QColor("#b35900")))

    def _removed(self, _entry: ModelEntry, index: int) -> None:
        self.model_list.takeItem(index)      # moves the list's current row: the selection follows it
        self._row_selected(self.model_list.currentRow())
        self._fit_list()

    def _row_selected(self, row: int) -> None:
        models = self.state.models
        self.state.select(models[row] if 0 <= row < len(models) else None)

    def _selection_changed(self, entry: ModelEntry | None) -> None:
        row = -1 if entry is None else self.state.index_of(entry)
        if self.model_list.currentRow() != row:
            self.model_list.setCurrentRow(row)


class _RemoveModel(QtGui.QUndoCommand):
    """Removing one loaded model: undo puts it back in its place with its network and its
    results, and, unless they changed since (a newer run is never overwritten), the results
    over all models as they were (a saliency comparison with its map) and what each tab kept
    (the transfer table, whose model each saliency map is)."""

    def __init__(self, models: ModelsWorkspace, entry: ModelEntry):
        super().__init__(f"Remove {entry.title}")
        self.models, self.entry = models, entry
        self.index = models.state.index_of(entry)
        self.before = self._kept()
        self.after = self.before

    def _kept(self) -> tuple[dict, dict]:
        return dict(self.models.state.shared), {ws.kind: ws.session_data() for ws in self.models.tabs()}

    def redo(self) -> None:
        self.models.state.remove_model(self.entry)
        self.after = self._kept()

    def undo(self) -> None:
        state = self.models.state
        shared_now, tabs_now = self._kept()
        state.restore_model(self.entry, self.index)
        for kind, artifacts in self.before[0].items():
            if shared_now.get(kind) is self.after[0].get(kind):
                state.set_result(None, kind, artifacts)
        for ws in self.models.tabs():
            if tabs_now.get(ws.kind) == self.after[1].get(ws.kind):
                ws.restore_session_data(self.before[1].get(ws.kind) or {})
        state.select(self.entry)
        self.models.ctx.status(f"{self.entry.title} is back, with its results.", 8000)
