"""One dialog to choose a model from any source: bundled, torchvision, timm, a checkpoint
file or a TorchScript file.

The dialog only collects and checks what the user typed and hands back the same spec string
and LoadOptions the CLI builds (``result_spec``); loading takes seconds and happens in the
main window's worker thread. Checks reuse the core's own functions where one exists, so
the dialog refuses exactly what loading would refuse.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from visualizer.core.attacks.params import parse_number
from visualizer.core.errors import (ModelLoadError, ParameterError, UntrustedCheckpointError, UntrustedCodeError,
                                    VisualizerError, WeightsUnavailableError)
from visualizer.core.labels import resolve_labels
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.registry import bundled_models, describe_sources, parse_model_spec
from visualizer.core.models.user_arch import parse_arch_kwargs
from visualizer.gui.class_picker import ERROR_STYLE
from visualizer.gui.dialogs.arch_fields import (arch_field, channels_combo, check_arch, kwargs_field, py_file_of,
                                               set_channels)
from visualizer.gui.dialogs.path_field import path_field
from visualizer.gui.qt import Qt, QtCore, QtWidgets

SOURCES = (("bundled", "Bundled"), ("torchvision", "torchvision"), ("timm", "timm"),
           ("checkpoint", "Checkpoint file"), ("torchscript", "TorchScript file"))
FILE_FILTERS = {
    "checkpoint": "Checkpoints (*.pt *.pth *.bin *.safetensors *.ckpt *.tar);;All files (*)",
    "torchscript": "TorchScript archives (*.pt *.pth *.zip);;All files (*)",
}
LABEL_SETS = (("", "automatic"), ("imagenet", "ImageNet-1k"), ("cifar10", "CIFAR-10"), ("digits", "digits 0-9"))
NOTE_STYLE = "color: palette(placeholder-text);"


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


def parse_floats(text: str, what: str) -> tuple[float, ...] | None:
    """'0.485,0.456,0.406' -> 3 floats; empty -> None; 1 (every channel) or 3 values like the CLI."""
    if not text.strip():
        return None
    values = tuple(parse_number(v, what) for v in text.replace(";", ",").split(","))
    if len(values) not in (1, 3):
        raise ParameterError(f"{what} needs 1 or 3 comma-separated numbers (e.g. 0.485,0.456,0.406), "
                             f"got {len(values)}.")
    return values


def parse_count(text: str, what: str) -> int | None:
    """Optional positive whole number; empty -> None (the source's own value)."""
    if not text.strip():
        return None
    value = parse_number(text, what)
    if not value.is_integer() or value < 1:
        raise ParameterError(f"{what} must be a whole number of at least 1, got {text.strip()!r}.")
    return int(value)


def _completer(parent, names: list[str]) -> QtWidgets.QCompleter:
    completer = QtWidgets.QCompleter(names, parent)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)   # 'convnext' finds every variant
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setMaxVisibleItems(15)
    return completer


def _note(text: str) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(NOTE_STYLE)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


def _align_labels(*forms: QtWidgets.QFormLayout) -> None:
    """Same label column width in every form, so fields line up across the stacked pages."""
    labels = [f.itemAt(r, QtWidgets.QFormLayout.ItemRole.LabelRole) for f in forms for r in range(f.rowCount())]
    widgets = [item.widget() for item in labels if item is not None and item.widget() is not None]
    width = max((w.sizeHint().width() for w in widgets), default=0)
    for w in widgets:
        w.setMinimumWidth(width)


class _FilePage(QtWidgets.QWidget):
    """Checkpoint or TorchScript file with the options such files need."""

    def __init__(self, kind: str, parent=None):
        super().__init__(parent)
        self.kind = kind
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        form = self.form = QtWidgets.QFormLayout()
        outer.addLayout(form)   # notes go below the form: wrapped labels in form rows get odd heights
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.path, row = path_field("path of the file", "The weights file. Typing or pasting a path works too.",
                                    self._browse)
        form.addRow("File", row)
        if kind == "checkpoint":
            self.arch, arch_row = arch_field(self)
            self.arch_kwargs = kwargs_field()
            self.num_classes = QtWidgets.QLineEdit()
            self.num_classes.setPlaceholderText("read from the file")
            self.num_classes.setToolTip("Number of output classes; empty: read from the final layer's weights.")
            form.addRow("Architecture", arch_row)
            form.addRow("Arch. options", self.arch_kwargs)
            form.addRow("Classes", self.num_classes)
        self.input_size = QtWidgets.QLineEdit()
        self.input_size.setPlaceholderText("architecture default" if kind == "checkpoint" else "224")
        self.input_size.setToolTip("Side of the square image the model takes, in pixels; empty: the usual size "
                                   "for this architecture.")
        self.channels = channels_combo()
        self.mean = QtWidgets.QLineEdit()
        self.std = QtWidgets.QLineEdit()
        empty = "from the file or the architecture" if kind == "checkpoint" else "none, [0, 1] pixels"
        for edit, name, example in ((self.mean, "mean", "0.485,0.456,0.406"), (self.std, "std", "0.229,0.224,0.225")):
            edit.setPlaceholderText(f"e.g. {example}; empty: {empty}")
            edit.setToolTip(f"Normalisation {name} the network was trained with, in [0, 1] pixel units: one "
                            f"number for every channel, or one per channel (comma-separated), e.g. {example}.")
        self.labels = QtWidgets.QComboBox()
        for data, text in LABEL_SETS:
            self.labels.addItem(text, data)
        self.labels.setToolTip("Class names: a known set, or a text file with one name per line (or a JSON list). "
                               "automatic: ImageNet for 1000 classes, CIFAR-10 for 10, else numbered.")
        label_file = QtWidgets.QPushButton("File…")
        label_file.clicked.connect(self._browse_labels)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.labels, 1)
        row.addWidget(label_file)
        form.addRow("Input size", self.input_size)
        form.addRow("Channels", self.channels)
        form.addRow("Mean", self.mean)
        form.addRow("Std", self.std)
        form.addRow("Labels", row)
        if kind == "checkpoint":
            self.trust = QtWidgets.QCheckBox("Trust this file (allows code in it to run)")
            self.trust.setToolTip("Load with full unpickling, and run a py: architecture file. Only for files you "
                                  "made or got from a source you trust.")
            form.addRow("", self.trust)
            outer.addWidget(_note(
                "Files are normally read in a safe mode that accepts only tensors. Some checkpoints also hold "
                "pickled Python objects, and loading those runs code chosen by whoever made the file; a py: "
                "architecture runs its Python file. Tick this only for files you made or got from a source you "
                "trust. It applies to these files only and is not remembered."))
            self.path.textChanged.connect(lambda _: self.trust.setChecked(False))   # trust is per file
            self._py_file = None
            self.arch.textChanged.connect(self._on_arch_changed)
        else:
            outer.addWidget(_note("A TorchScript archive holds code that runs when the model is used: "
                                  "load archives only from sources you trust."))

    def _on_arch_changed(self, text: str) -> None:
        py_file = py_file_of(text)
        if py_file != self._py_file:   # another architecture file: trust is per file
            self.trust.setChecked(False)
        self._py_file = py_file

    def _browse(self) -> None:
        start = str(Path(self.path.text()).expanduser().parent) if self.path.text().strip() else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Choose the model file", start, FILE_FILTERS[self.kind])
        if path:
            self.path.setText(path)

    def _browse_labels(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Choose a class-names file", "",
                                                        "Text or JSON (*.txt *.json);;All files (*)")
        if path:
            self.set_labels(path)

    def set_labels(self, value: str | None) -> None:
        value = value or ""
        i = self.labels.findData(value)
        if i < 0:  # a file: one item per file chosen
            self.labels.addItem(Path(value).name, value)
            i = self.labels.count() - 1
            self.labels.setItemData(i, value, Qt.ItemDataRole.ToolTipRole)
        self.labels.setCurrentIndex(i)

    def options(self) -> LoadOptions:
        """The LoadOptions these fields say; VisualizerError with a message if they are wrong."""
        checkpoint = self.kind == "checkpoint"
        num_classes = parse_count(self.num_classes.text(), "Classes") if checkpoint else None
        mean, std = parse_floats(self.mean.text(), "Mean"), parse_floats(self.std.text(), "Std")
        channels = self.channels.currentData()
        if mean is not None or std is not None:
            from visualizer.core.models.common import make_preprocessing, per_channel

            n = channels or max(len(v) for v in (mean, std) if v)   # the core's own rules (counts, std > 0)
            make_preprocessing(input_size=1, resize_size=1, channels=n, mean=per_channel(mean or (0.0,), n, "Mean"),
                               std=per_channel(std or (1.0,), n, "Std"))
        labels = self.labels.currentData() or None   # "" = the model's own names
        if labels is not None and labels not in dict(LABEL_SETS):
            resolve_labels(labels, num_classes)   # readable, and as many names as classes
        trust = checkpoint and self.trust.isChecked()
        kwargs = parse_arch_kwargs(self.arch_kwargs.text()) if checkpoint else None
        return LoadOptions(
            arch=check_arch(self.arch.text(), kwargs, trust) if checkpoint else None, arch_kwargs=kwargs,
            num_classes=num_classes, input_size=parse_count(self.input_size.text(), "Input size"),
            channels=channels, mean=mean, std=std, labels=labels, trust=trust)

    def state(self) -> dict:
        d = {"path": self.path.text(), "input_size": self.input_size.text(), "mean": self.mean.text(),
             "std": self.std.text(), "labels": self.labels.currentData() or None,
             "channels": self.channels.currentData()}
        if self.kind == "checkpoint":
            d.update(arch=self.arch.text(), arch_kwargs=self.arch_kwargs.text(), num_classes=self.num_classes.text())
        return d

    def restore_state(self, d: dict) -> None:
        set_channels(self.channels, d.get("channels"))
        for name in ("path", "input_size", "mean", "std", "arch", "arch_kwargs", "num_classes"):
            if isinstance(d.get(name), str) and hasattr(self, name):
                getattr(self, name).setText(d[name])
        if d.get("labels") is None or isinstance(d.get("labels"), str):
            self.set_labels(d.get("labels"))


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
        self._entries = {e.name: e for e in bundled_models()}
        for e in self._entries.values():
            status = "✓ available offline" if e.available else "✗ not available"
            item = QtWidgets.QListWidgetItem(f"{e.name}   —   {status}")
            item.setData(Qt.ItemDataRole.UserRole, e.name)
            item.setToolTip(e.description)
            self.bundled.addItem(item)
        self.bundled.setCurrentRow(0)
        self.bundled.setMaximumHeight(self.bundled.sizeHintForRow(0) * (len(self._entries) + 1) + 6)
        self.bundled_note = _note("")
        box.addWidget(self.bundled)
        box.addWidget(self.bundled_note)
        box.addStretch(1)
        self.pages.append(page)
        self.bundled.currentItemChanged.connect(self._describe_bundled)
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
            box.addWidget(_note(f"{info[key]['description']}\nCache: {info[key]['cache']}\n"
                                "Offline, the weights must already be in that folder."))
            self.pages.append(page)

        self.files = {kind: _FilePage(kind) for kind in ("checkpoint", "torchscript")}
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
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Load")
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
        _align_labels(top, bottom, *forms, *(p.form for p in self.files.values()))

        self.source.currentIndexChanged.connect(self._on_source)
        self.files["checkpoint"].arch.textEdited.connect(self._want_completions)
        self._completed: set[str] = set()
        self.hub_names["torchvision"].setCompleter(_completer(self, TORCHVISION_NAMES.names()))
        self._install_arch_completer()
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

    def _on_source(self, *_) -> None:
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
        self.hub_names["timm"].setCompleter(_completer(self, names))
        self._install_arch_completer()

    def _install_arch_completer(self) -> None:
        from visualizer.core.models.architectures import EXAMPLE_NAMES

        names = list(EXAMPLE_NAMES) + [f"torchvision:{n}" for n in TORCHVISION_NAMES.names()]
        if TIMM_NAMES.ready():
            names += [f"timm:{n}" for n in TIMM_NAMES.names()]
        self.files["checkpoint"].arch.setCompleter(_completer(self, names))

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

    def accept(self) -> None:
        try:
            self.result_spec()
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
                **{k: e.text() for k, e in self.hub_names.items()},
                **{k: p.state() for k, p in self.files.items()}, "device": self.device.currentData()}

    def restore_state(self, d: dict) -> None:
        if not isinstance(d, dict):
            return
        for row in range(self.bundled.count()):
            if self.bundled.item(row).data(Qt.ItemDataRole.UserRole) == d.get("bundled"):
                self.bundled.setCurrentRow(row)
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
