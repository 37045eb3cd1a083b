"""One dialog to choose a model from any source: bundled, torchvision, timm, a checkpoint
file or a TorchScript file.

The dialog only collects and checks what the user typed and hands back the same spec string
and LoadOptions the CLI builds (``result_spec``; ``result_specs`` for several bundled models
chosen at once with Ctrl or Shift); loading takes seconds and happens in the main window's
worker thread. Checks reuse the core's own functions where one exists, so
the dialog refuses exactly what loading would refuse.
"""

from __future__ import annotations

import sys
from typing import Callable

from visualizer.core.errors import (ModelLoadError, ParameterError, UntrustedCheckpointError, UntrustedCodeError,
                                    VisualizerError, WeightsUnavailableError)
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.registry import bundled_models, describe_sources, parse_model_spec
from visualizer.gui.class_picker import ERROR_STYLE
from visualizer.gui.dialogs.model_file_page import FilePage, align_labels, completer, note_label
from visualizer.gui.qt import Qt, QtCore, QtWidgets

SOURCES = (("bundled", "Bundled"), ("torchvision", "torchvision"), ("timm", "timm"),
           ("checkpoint", "Checkpoint file"), ("torchscript", "TorchScript file"))


class _NameList:
    """A list of model names, computed once per process on first use, on the GUI thread
    (simple and deterministic). timm's first listing imports timm, which can take seconds,
    so it only happens when the user asks for timm names (under a wait cursor)."""

    def __init__(self, load: Callable[[], list[str]]):
        self._load = load
        self._names: list[str] | None = None

    def names(self) -> list[str]:
        if self._names is None:
            try:
                self._names = sorted(self._load())
            except Exception:  # library missing or broken: no completion, loading will say why
                self._names = []
        return self._names

    def ready(self) -> bool:
        return self._names is not None


def _timm_names() -> list[str]:
    import timm

    return timm.list_models()


def _torchvision_names() -> list[str]:
    from visualizer.core.models.torchvision_hub import torchvision_names

    return torchvision_names()


TIMM_NAMES = _NameList(_timm_names)
TORCHVISION_NAMES = _NameList(_torchvision_names)


class ModelDialog(QtWidgets.QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Load model")
        self.setMinimumWidth(560)
        info = {d["source"]: d for d in describe_sources()}

        self.source = QtWidgets.QComboBox()
        for key, text in SOURCES:
            self.source.addItem(text, key)
        self.source.setToolTip("Where the model comes from.")
        # One page per source; only the current one is visible. (Not a QStackedWidget: that
        # sizes itself to its largest page, leaving the small pages in a sea of space.)
        self.pages: list[QtWidgets.QWidget] = []

        # Bundled: ships with the tool.
        page = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        self.bundled = QtWidgets.QListWidget()
        # Several at once (Ctrl/Shift+click): a standard and a robust model to compare.
        self.bundled.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.bundled.setToolTip("Ctrl+click or Shift+click to load several models at once")
        self._entries = {e.name: e for e in bundled_models()}
        for e in self._entries.values():
            status = "✓ available offline" if e.available else "✗ not available"
            item = QtWidgets.QListWidgetItem(f"{e.name}   —   {status}")
            item.setData(Qt.ItemDataRole.UserRole, e.name)
            item.setToolTip(e.description)
            self.bundled.addItem(item)
        self.bundled.setCurrentRow(0)
        self.bundled.setMaximumHeight(self.bundled.sizeHintForRow(0) * (len(self._entries) + 1) + 6)
        self.bundled_note = note_label("")
        box.addWidget(self.bundled)
        box.addWidget(self.bundled_note)
        box.addStretch(1)
        self.pages.append(page)
        self.bundled.currentItemChanged.connect(self._describe_bundled)
        self.bundled.itemSelectionChanged.connect(self._update_load_text)
        self._describe_bundled()

        # torchvision and timm: a name, weights from their caches.
        self.hub_names: dict[str, QtWidgets.QLineEdit] = {}
        forms = []
        for key, example in (("torchvision", "resnet50"), ("timm", "convnext_tiny")):
            page = QtWidgets.QWidget()
            box = QtWidgets.QVBoxLayout(page)
            box.setContentsMargins(0, 0, 0, 0)
            form = QtWidgets.QFormLayout()
            forms.append(form)
            box.addLayout(form)
            edit = QtWidgets.QLineEdit()
            edit.setPlaceholderText(f"e.g. {example}; type part of a name for suggestions")
            edit.setToolTip(f"The {key} model name (with its default pretrained weights).")
            self.hub_names[key] = edit
            form.addRow("Name", edit)
            box.addWidget(note_label(f"{info[key]['description']}\nCache: {info[key]['cache']}\n"
                                "Offline, the weights must already be in that folder."))
            self.pages.append(page)

        self.files = {kind: FilePage(kind) for kind in ("checkpoint", "torchscript")}
        self.pages += list(self.files.values())

        self.device = QtWidgets.QComboBox()
        self.device.addItem("auto (best available)", "auto")
        self.device.addItem("cpu", "cpu")
        self._add_accelerators()
        self.device.setToolTip("Where the model runs. auto: CUDA GPU, else Apple MPS, else CPU.")

        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.load_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.load_button.setText("Load")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        top = QtWidgets.QFormLayout()
        top.addRow("Source", self.source)
        bottom = QtWidgets.QFormLayout()
        bottom.addRow("Device", self.device)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        for page in self.pages:
            layout.addWidget(page)
        layout.addSpacing(6)
        layout.addLayout(bottom)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        align_labels(top, bottom, *forms, *(p.form for p in self.files.values()))

        self.source.currentIndexChanged.connect(self._on_source)
        self.files["checkpoint"].arch.textEdited.connect(self._want_completions)
        self._completed: set[str] = set()
        self.hub_names["torchvision"].setCompleter(completer(self, TORCHVISION_NAMES.names()))
        self._install_archcompleter()
        if TIMM_NAMES.ready():   # listed earlier in this session: free now
            self._want_timm()
        self._on_source()

    # -- pages -------------------------------------------------------------------------------------
    def _add_accelerators(self) -> None:
        import torch

        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                self.device.addItem(f"cuda:{i} ({torch.cuda.get_device_name(i)})", f"cuda:{i}" if i else "cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            self.device.addItem("mps (Apple GPU)", "mps")

    def _describe_bundled(self, *_) -> None:
        item = self.bundled.currentItem()
        if item is None:
            self.bundled_note.setText("")
            return
        e = self._entries[item.data(Qt.ItemDataRole.UserRole)]
        where = f"\nWeights: {e.weights_path}" if e.weights_path else ""
        self.bundled_note.setText(e.description + where + (f"\nNot available: {e.detail}" if not e.available else ""))

    def _selected_bundled(self) -> list[str]:
        """Names of the bundled models chosen, in list order (the current one if none is)."""
        rows = sorted(self.bundled.row(item) for item in self.bundled.selectedItems())
        if not rows and self.bundled.currentItem() is not None:
            rows = [self.bundled.currentRow()]
        return [self.bundled.item(r).data(Qt.ItemDataRole.UserRole) for r in rows]

    def _update_load_text(self, *_) -> None:
        n = len(self._selected_bundled()) if self.current_source() == "bundled" else 1
        self.load_button.setText(f"Load {n} models" if n > 1 else "Load")

    def _on_source(self, *_) -> None:
        self._update_load_text()
        for i, page in enumerate(self.pages):
            page.setVisible(i == self.source.currentIndex())
        self.message.hide()
        layout = self.layout()   # wrapped notes: the height depends on the width
        layout.activate()
        height = layout.heightForWidth(self.width()) if layout.hasHeightForWidth() else -1
        self.resize(self.width(), max(height, self.minimumSizeHint().height()))
        if self.current_source() == "timm":
            # Let the page paint first: the first timm listing takes seconds.
            QtCore.QTimer.singleShot(0, self._want_timm)

    def _want_completions(self, text: str) -> None:
        if text.lower().startswith("timm:"):
            self._want_timm()

    def _want_timm(self) -> None:
        """Add timm's names to the completers; the first time this imports timm (seconds)."""
        if "timm" in self._completed:
            return
        QtWidgets.QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            names = TIMM_NAMES.names()
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
        self._completed.add("timm")
        self.hub_names["timm"].setCompleter(completer(self, names))
        self._install_archcompleter()

    def _install_archcompleter(self) -> None:
        from visualizer.core.models.architectures import EXAMPLE_NAMES

        names = list(EXAMPLE_NAMES) + [f"torchvision:{n}" for n in TORCHVISION_NAMES.names()]
        if TIMM_NAMES.ready():
            names += [f"timm:{n}" for n in TIMM_NAMES.names()]
        self.files["checkpoint"].arch.setCompleter(completer(self, names))

    # -- result --------------------------------------------------------------------------------------
    def current_source(self) -> str:
        return self.source.currentData()

    def result_spec(self) -> tuple[str, LoadOptions]:
        """(spec, options) as load_model takes them; raises VisualizerError with a message
        for the user if the fields are incomplete or wrong."""
        source = self.current_source()
        device = None if self.device.currentData() == "auto" else self.device.currentData()
        if source == "bundled":
            item = self.bundled.currentItem()
            if item is None:
                raise ParameterError("Choose one of the bundled models.")
            entry = self._entries[item.data(Qt.ItemDataRole.UserRole)]
            if not entry.available:
                raise ModelLoadError(f"{entry.name} is not available on this machine: {entry.detail}.")
            spec, options = entry.name, LoadOptions()
        elif source in self.hub_names:
            name = self.hub_names[source].text().strip()
            if not name:
                raise ParameterError(f"Type the name of a {source} model.")
            if source == "torchvision":
                from visualizer.core.models.torchvision_hub import check_name

                name = check_name(name)
            elif "timm" in sys.modules:
                from visualizer.core.models.timm_hub import pretrained_cfg

                pretrained_cfg(name)   # unknown names and tags, with suggestions
            spec, options = f"{source}:{name}", LoadOptions()
        else:
            page = self.files[source]
            text = page.path.text().strip()
            if not text:
                raise ParameterError("Choose the model file.")
            from visualizer.core.models.safe_load import check_file

            path = check_file(text).absolute()   # exists, is a file, is not empty
            prefix = "ckpt" if source == "checkpoint" else "torchscript"
            spec, options = f"{prefix}:{path}", page.options()
        parse_model_spec(spec)
        options.device = device
        return spec, options

    def result_specs(self) -> list[tuple[str, LoadOptions]]:
        """Every model chosen: the bundled models selected, else the one ``result_spec`` says.
        Raises VisualizerError if one of them cannot be loaded here."""
        if self.current_source() != "bundled":
            return [self.result_spec()]
        names = self._selected_bundled()
        if not names:
            raise ParameterError("Choose one of the bundled models.")
        missing = [self._entries[n] for n in names if not self._entries[n].available]
        if missing:
            raise ModelLoadError("Not available on this machine: "
                                 + "; ".join(f"{e.name} ({e.detail})" for e in missing) + ".")
        device = None if self.device.currentData() == "auto" else self.device.currentData()
        return [(name, LoadOptions(device=device)) for name in names]

    def accept(self) -> None:
        try:
            self.result_specs()
        except VisualizerError as exc:
            self.message.setText(str(exc))
            self.message.show()
            return
        self.message.hide()
        super().accept()

    @staticmethod
    def explain_error(exc: BaseException) -> str:
        """A short friendly explanation of a loading failure, then the full message."""
        if isinstance(exc, UntrustedCodeError):
            short = ("The architecture is defined in a Python file, and loading it would run that file, so it was "
                     "not run. If you wrote the file or trust where it came from, open Load model again and tick "
                     "\"Trust this file\".")
        elif isinstance(exc, UntrustedCheckpointError):
            short = ("This checkpoint holds pickled Python objects, not only weights. Loading it would run "
                     "code chosen by whoever made the file, so it was not loaded. If you made the file or trust "
                     "where it came from, open Load model again and tick \"Trust this file\".")
        elif isinstance(exc, WeightsUnavailableError):
            short = ("The pretrained weights are not on this computer and could not be downloaded. Connect to "
                     "the internet once so they are cached, copy them into the cache folder named below, or "
                     "choose a bundled model (those work offline).")
        elif isinstance(exc, ModelLoadError):
            short = "The model could not be loaded."
        elif isinstance(exc, ParameterError):
            short = "The model settings are not valid."
        else:
            short = "Loading the model failed unexpectedly."
        return f"{short}\n\nDetails: {exc}"

    # -- remembered choices ------------------------------------------------------------------------
    def state(self) -> dict:
        """The last choices, as JSON values. Trust is deliberately never remembered."""
        item = self.bundled.currentItem()
        return {"source": self.current_source(), "bundled": item.data(Qt.ItemDataRole.UserRole) if item else None,
                "bundled_selected": self._selected_bundled(),
                **{k: e.text() for k, e in self.hub_names.items()},
                **{k: p.state() for k, p in self.files.items()}, "device": self.device.currentData()}

    def restore_state(self, d: dict) -> None:
        if not isinstance(d, dict):
            return
        chosen = d.get("bundled_selected") if isinstance(d.get("bundled_selected"), list) else []
        for row in range(self.bundled.count()):
            if self.bundled.item(row).data(Qt.ItemDataRole.UserRole) == d.get("bundled"):
                self.bundled.setCurrentRow(row)
        for row in range(self.bundled.count()):
            item = self.bundled.item(row)
            if item.data(Qt.ItemDataRole.UserRole) in chosen:
                item.setSelected(True)
        for key, edit in self.hub_names.items():
            if isinstance(d.get(key), str):
                edit.setText(d[key])
        for key, page in self.files.items():
            if isinstance(d.get(key), dict):
                page.restore_state(d[key])
        for combo, value in ((self.device, d.get("device")), (self.source, d.get("source"))):
            i = combo.findData(value)
            if i >= 0:   # a device that is gone (no GPU now) falls back to what is selected
                combo.setCurrentIndex(i)
