"""What an evaluation runs on, chosen in the Evaluate tab: the data set (the spec grammar of
``visualizer evaluate --data``, with Browse buttons), its split and how many examples, the
loaded models to evaluate (checkboxes), and the threats (the ``--threat`` grammar, several
separated by spaces, checked by the core's own parser as the user types)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from visualizer.core.data.spec import SPEC_FORMS, SPLITS, parse_data_spec
from visualizer.core.errors import VisualizerError
from visualizer.core.evaluation.threats import THREAT_FORMS, check_threats_fit, parse_threats
from visualizer.core.models.registry import repeat_text, repeated_model
from visualizer.gui.class_picker import ERROR_STYLE
from visualizer.gui.panels.train_form import default_data_folder
from visualizer.gui.qt import Qt, QtWidgets, Signal

DEFAULT_THREATS = "clean fgsm:linf:0.1 pgd:linf:0.05,0.1,0.2:10"
THREATS_TIP = ("Threats, separated by spaces (or ;), in the grammar of `visualizer evaluate --threat`: "
               + ", ".join(THREAT_FORMS) + ". EPS in [0, 1] pixel units (8/255 works); a comma list of EPS "
               "makes a curve; A+B counts an example as robust only if both attacks fail.")
DATA_TIP = ("The data set: " + ", ".join(SPEC_FORMS) + ". MNIST-style folders hold the four idx files; "
            "folder:DIR holds DIR/CLASS/IMAGE (or DIR/test/CLASS/IMAGE); csv:FILE rows are path,label.")


def split_threats(text: str) -> list[str]:
    """'clean  pgd:linf:0.1, 0.2' -> ['clean', 'pgd:linf:0.1,0.2']: threats are separated by
    spaces, semicolons or new lines; spaces around ':', ',' and '+' are forgiven."""
    tight = re.sub(r"\s*([:,+])\s*", r"\1", text.strip())
    return [t for t in re.split(r"[\s;]+", tight) if t]


@dataclass
class EvaluationSetup:
    """A checked choice: ``threats`` parsed, ``models`` the checked ready entries."""

    data: str
    split: str
    limit: int | None
    threats: list
    models: list
    batch_size: int
    seed: int


class EvaluateSetup(QtWidgets.QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.data_edit = QtWidgets.QLineEdit()
        self.data_edit.setPlaceholderText("mnist:DIR, fashion-mnist:DIR, folder:DIR or csv:FILE")
        self.data_edit.setToolTip(DATA_TIP)
        folder = default_data_folder()      # as the Train tab and the Poison panel start: MNIST beside a checkout
        if folder is not None:
            self.data_edit.setText(f"mnist:{folder}")
        self.browse_folder = QtWidgets.QPushButton("Folder…")
        self.browse_folder.setToolTip("Choose a folder: an image folder (folder:DIR), or an MNIST / Fashion-MNIST "
                                      "folder when the spec already says mnist: or fashion-mnist:")
        self.browse_file = QtWidgets.QPushButton("File…")
        self.browse_file.setToolTip("Choose a CSV file of path,label rows (csv:FILE)")
        self.split = QtWidgets.QComboBox()
        self.split.addItems(list(SPLITS))
        self.split.setCurrentText("test")
        self.split.setToolTip("Which split of a set that has one (MNIST, a folder with train/ and test/)")
        self.limit = QtWidgets.QSpinBox()
        self.limit.setRange(0, 10_000_000)
        self.limit.setValue(100)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("Evaluate the first N examples in the data set's order (0: all of them), "
                              "so runs compare")
        self.batch_size = QtWidgets.QSpinBox()
        self.batch_size.setRange(1, 100_000)
        self.batch_size.setValue(32)
        self.batch_size.setToolTip("Examples per batch: the table and curves fill in after each batch")
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of every random start and draw: the same seed gives the same numbers")
        self.models = QtWidgets.QListWidget()
        self.models.setToolTip("The loaded models to evaluate (each reads the data at its own input size)")
        self.models.setMaximumHeight(80)
        self.threats_edit = QtWidgets.QLineEdit(DEFAULT_THREATS)
        self.threats_edit.setToolTip(THREATS_TIP)
        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self._build()
        self.data_edit.textChanged.connect(self._changed)
        self.threats_edit.textChanged.connect(self._changed)
        self.models.itemChanged.connect(self._changed)
        self.browse_folder.clicked.connect(self._ask_folder)
        self.browse_file.clicked.connect(self._ask_file)
        self._problem: str | None = None
        self._changed()

    def _build(self) -> None:
        data_row = QtWidgets.QHBoxLayout()
        data_row.addWidget(self.data_edit, 1)
        data_row.addWidget(self.browse_folder)
        data_row.addWidget(self.browse_file)
        # Two short rows, not one: in one row the four fields made the tab 745 px wide at
        # least, and the window (whose every tab counts) wider than 1000 px.
        numbers = QtWidgets.QGridLayout()
        for i, (label, widget) in enumerate((("Split", self.split), ("First", self.limit),
                                             ("Batch", self.batch_size), ("Seed", self.seed))):
            numbers.addWidget(QtWidgets.QLabel(label), i // 2, 2 * (i % 2))
            numbers.addWidget(widget, i // 2, 2 * (i % 2) + 1)
        numbers.setColumnStretch(4, 1)
        form = QtWidgets.QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Data", data_row)
        form.addRow("", numbers)
        form.addRow("Models", self.models)
        form.addRow("Threats", self.threats_edit)
        form.addRow("", self.message)

    # -- models -----------------------------------------------------------------------------------
    def set_models(self, entries: list) -> None:
        """One checkbox per ready model; a model seen before keeps its tick, a new one is ticked."""
        ticked = {id(e): self._ticked(e) for e in self._entries()}
        self.models.blockSignals(True)
        self.models.clear()
        for entry in entries:
            item = QtWidgets.QListWidgetItem(entry.model.info.model_id)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if ticked.get(id(entry), True) else Qt.Unchecked)
            item.setData(Qt.UserRole, entry)
            self.models.addItem(item)
        self.models.blockSignals(False)
        self._changed()

    def _entries(self) -> list:
        return [self.models.item(i).data(Qt.UserRole) for i in range(self.models.count())]

    def _ticked(self, entry) -> bool:
        for i in range(self.models.count()):
            item = self.models.item(i)
            if item.data(Qt.UserRole) is entry:
                return item.checkState() == Qt.Checked
        return True

    def checked_models(self) -> list:
        return [e for e in self._entries() if self._ticked(e)]

    # -- browsing ---------------------------------------------------------------------------------
    def _ask_folder(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Data set folder")
        if path:
            self.set_folder(path)

    def set_folder(self, path: str) -> None:
        """An MNIST-style spec keeps its kind (the folder holds the idx files), else folder:."""
        kind = self.data_edit.text().partition(":")[0].strip().lower()
        self.data_edit.setText(f"{kind if kind in ('mnist', 'fashion-mnist') else 'folder'}:{path}")

    def _ask_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Data set list (path,label rows)", "",
                                                        "CSV files (*.csv);;All files (*)")
        if path:
            self.data_edit.setText(f"csv:{path}")

    # -- checking ---------------------------------------------------------------------------------
    def _changed(self, *_) -> None:
        self._problem = self._check()
        self.message.setText(self._problem or "")
        self.message.setVisible(bool(self._problem))
        self.changed.emit()

    def _check(self) -> str | None:
        """The one message that blocks a run, or None: threats first (what is typed most)."""
        try:
            threats = parse_threats(split_threats(self.threats_edit.text()))
        except VisualizerError as exc:
            return str(exc)
        if not self.data_edit.text().strip():
            return "Choose a data set: " + ", ".join(SPEC_FORMS) + "."
        try:
            parse_data_spec(self.data_edit.text())
        except VisualizerError as exc:
            return str(exc)
        if not self._entries():
            return "Load a model to evaluate (Models > Add model…)."
        if not self.checked_models():
            return "Tick at least one of the loaded models."
        ticked = self.checked_models()
        try:
            repeat = repeated_model([e.spec for e in ticked], [e.options for e in ticked])
        except VisualizerError:      # a spec that loaded but no longer parses (a bundled file gone): not a repeat
            repeat = None
        if repeat:       # loaded twice with the same options: one row would be the other's copy
            return f"Ticked: {repeat_text(*repeat, done='loaded')} with the same options; untick one."
        try:           # what the ticked models' classes cannot serve (apgd-t's TARGETS)
            check_threats_fit(threats, [e.model for e in self.checked_models()])
        except VisualizerError as exc:
            return str(exc)
        return None

    def problem(self) -> str | None:
        return self._problem

    def setup(self) -> EvaluationSetup:
        """The current choice. Raises VisualizerError when it is not valid."""
        threats = parse_threats(split_threats(self.threats_edit.text()))
        check_threats_fit(threats, [e.model for e in self.checked_models()])
        spec = str(parse_data_spec(self.data_edit.text()))
        return EvaluationSetup(spec, self.split.currentText(), self.limit.value() or None, threats,
                               self.checked_models(), self.batch_size.value(), self.seed.value())

    def state(self) -> dict:
        return {"data": self.data_edit.text(), "split": self.split.currentText(), "limit": self.limit.value(),
                "batch_size": self.batch_size.value(), "seed": self.seed.value(),
                "threats": self.threats_edit.text()}

    def restore_state(self, d) -> None:
        """Tolerant of missing or stale values (an old settings file)."""
        if not isinstance(d, dict):
            return
        for key, edit in (("data", self.data_edit), ("threats", self.threats_edit)):
            if isinstance(d.get(key), str):
                edit.setText(d[key])
        if d.get("split") in SPLITS:
            self.split.setCurrentText(d["split"])
        for key, box in (("limit", self.limit), ("batch_size", self.batch_size), ("seed", self.seed)):
            if isinstance(d.get(key), int):
                box.setValue(d[key])
