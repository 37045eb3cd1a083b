"""The file pages of the model dialog (a checkpoint or a TorchScript file with the options
such files need) and the small helpers the dialog's pages share: parsing optional numbers,
name completers, grey notes, aligned form labels."""

from __future__ import annotations

from pathlib import Path

from visualizer.core.errors import ParameterError
from visualizer.core.labels import resolve_labels
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.user_arch import parse_arch_kwargs
from visualizer.core.numbers import parse_numbers, parse_whole
from visualizer.gui.dialogs.arch_fields import (arch_field, channels_combo, check_arch, kwargs_field, py_file_of,
                                               set_channels)
from visualizer.gui.dialogs.path_field import path_field
from visualizer.gui.qt import Qt, QtWidgets

FILE_FILTERS = {
    "checkpoint": "Checkpoints (*.pt *.pth *.bin *.safetensors *.ckpt *.tar);;All files (*)",
    "torchscript": "TorchScript archives (*.pt *.pth *.zip);;All files (*)",
}
LABEL_SETS = (("", "automatic"), ("imagenet", "ImageNet-1k"), ("cifar10", "CIFAR-10"), ("digits", "digits 0-9"))
NOTE_STYLE = "color: palette(placeholder-text);"


def parse_floats(text: str, what: str) -> tuple[float, ...] | None:
    """'0.485,0.456,0.406' -> 3 floats; empty -> None; 1 (every channel) or 3 values like the CLI."""
    if not text.strip():
        return None
    values = parse_numbers(text, what)
    if len(values) not in (1, 3):
        raise ParameterError(f"{what} needs 1 or 3 comma-separated numbers (e.g. 0.485,0.456,0.406), "
                             f"got {len(values)}.")
    return values


def parse_count(text: str, what: str) -> int | None:
    """Optional positive whole number; empty -> None (the source's own value)."""
    if not text.strip():
        return None
    value = parse_whole(text, what)
    if value < 1:
        raise ParameterError(f"{what} must be a whole number of at least 1, got {text.strip()!r}.")
    return value


def completer(parent, names: list[str]) -> QtWidgets.QCompleter:
    completer = QtWidgets.QCompleter(names, parent)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)   # 'convnext' finds every variant
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setMaxVisibleItems(15)
    return completer


def note_label(text: str) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(NOTE_STYLE)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label


def align_labels(*forms: QtWidgets.QFormLayout) -> None:
    """Same label column width in every form, so fields line up across the stacked pages."""
    labels = [f.itemAt(r, QtWidgets.QFormLayout.ItemRole.LabelRole) for f in forms for r in range(f.rowCount())]
    widgets = [item.widget() for item in labels if item is not None and item.widget() is not None]
    width = max((w.sizeHint().width() for w in widgets), default=0)
    for w in widgets:
        w.setMinimumWidth(width)


class FilePage(QtWidgets.QWidget):
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
            outer.addWidget(note_label(
                "Files are normally read in a safe mode that accepts only tensors. Some checkpoints also hold "
                "pickled Python objects, and loading those runs code chosen by whoever made the file; a py: "
                "architecture runs its Python file. Tick this only for files you made or got from a source you "
                "trust. It applies to these files only and is not remembered."))
            self.path.textChanged.connect(lambda _: self.trust.setChecked(False))   # trust is per file
            self._py_file = None
            self.arch.textChanged.connect(self._on_arch_changed)
        else:
            outer.addWidget(note_label("A TorchScript archive holds code that runs when the model is used: "
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
