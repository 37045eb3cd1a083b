"""Parts shared by the tabs whose settings sit in a form on the left (Train, Poison): the
data-set rows, the training recipe's rows, remembering the form's values, and the page
layout (the settings scroll in a short window, the results take the rest)."""

from __future__ import annotations

from visualizer.core.data.spec import parse_data_spec
from visualizer.core.errors import DataError
from visualizer.gui.dialogs.path_field import path_field
from visualizer.gui.qt import Qt, QtWidgets

DATA_KINDS = (("mnist", "MNIST (idx files)"), ("fashion-mnist", "Fashion-MNIST (idx files)"),
              ("folder", "Image folder (one subfolder per class)"), ("csv", "CSV file (path,label rows)"))


def spin_box(low: int, high: int, value: int, tip: str, special: str | None = None) -> QtWidgets.QSpinBox:
    """A whole-number box; ``special``: the text shown at the minimum (e.g. "all")."""
    box = QtWidgets.QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tip)
    if special:
        box.setSpecialValueText(special)
    return box


def recipe_rows(form: QtWidgets.QFormLayout, epochs: tuple[int, str], batch_size: int, lr: str, seed_tip: str
                ) -> tuple[QtWidgets.QSpinBox, QtWidgets.QSpinBox, QtWidgets.QLineEdit, QtWidgets.QSpinBox]:
    """The Epochs (default, tooltip), Batch size, Learning rate and Seed rows of a training
    run (Adam's one-cycle schedule, as `visualizer train`); returns their four inputs."""
    boxes = (spin_box(1, 1000, epochs[0], epochs[1]), spin_box(1, 65536, batch_size, "Images per weight update"),
             QtWidgets.QLineEdit(lr), spin_box(0, 2**31 - 1, 0, seed_tip))
    boxes[2].setToolTip("Peak learning rate of Adam's one-cycle schedule")
    for name, box in zip(("Epochs", "Batch size", "Learning rate", "Seed"), boxes):
        form.addRow(name, box)
    return boxes


def keep_narrow(combos, edits=()) -> None:
    """Long entries must not widen the tab: ``combos`` ask for 12 characters, ``edits``
    (paths) for 80 px and show their start."""
    for combo in combos:
        combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
    for edit in edits:
        edit.setMinimumWidth(80)
        edit.setCursorPosition(0)


def add_data_rows(form: QtWidgets.QFormLayout, owner: QtWidgets.QWidget, tip: str, default=None
                  ) -> tuple[QtWidgets.QComboBox, QtWidgets.QLineEdit]:
    """The "Data set" (kind) and "Location" (path, Browse…) rows; returns (kind, path)."""
    kind = QtWidgets.QComboBox()
    for key, text in DATA_KINDS:
        kind.addItem(text, key)
    kind.setToolTip(tip)
    form.addRow("Data set", kind)
    path, row = path_field("folder with the data set", "The data set's folder (a CSV file for CSV)",
                           lambda: browse_data(owner, kind, path))
    if default is not None:
        path.setText(str(default))
    form.addRow("Location", row)
    return kind, path


def browse_data(owner: QtWidgets.QWidget, kind: QtWidgets.QComboBox, edit: QtWidgets.QLineEdit) -> bool:
    """Ask for the data set's folder (or CSV file); True when one was chosen."""
    if kind.currentData() == "csv":
        path, _ = QtWidgets.QFileDialog.getOpenFileName(owner, "CSV of path,label rows", edit.text(),
                                                        "CSV files (*.csv);;All files (*)")
    else:
        path = QtWidgets.QFileDialog.getExistingDirectory(owner, "Data set folder", edit.text())
    if path:
        edit.setText(path)
        edit.editingFinished.emit()
    return bool(path)


def checked_data_spec(kind: QtWidgets.QComboBox, edit: QtWidgets.QLineEdit) -> str:
    """``kind:PATH``; raises DataError when the path is missing."""
    text = edit.text().strip()
    if not text:
        raise DataError("Choose the data set's location (Browse…).")
    spec = parse_data_spec(f"{kind.currentData()}:{text}")
    if not spec.path.exists():
        raise DataError(f"{spec}: the {'file' if spec.kind == 'csv' else 'folder'} {spec.path} does not exist.")
    return str(spec)


def widgets_state(widgets: dict) -> dict:
    """Every widget's value as JSON (combo boxes by their key, editable ones by their text)."""
    out = {}
    for key, w in widgets.items():
        if isinstance(w, QtWidgets.QSpinBox):
            out[key] = w.value()
        elif isinstance(w, QtWidgets.QCheckBox):
            out[key] = w.isChecked()
        elif isinstance(w, QtWidgets.QComboBox):
            out[key] = w.currentText() if w.isEditable() else w.currentData()
        else:
            out[key] = w.text()
    return out


def restore_widgets(widgets: dict, state: dict) -> None:
    """Take back ``widgets_state``; unknown keys and values that no longer fit are skipped."""
    for key, w in widgets.items():
        value = state.get(key)
        if value is None:
            continue
        if isinstance(w, QtWidgets.QSpinBox) and isinstance(value, int) and not isinstance(value, bool):
            w.setValue(value)
        elif isinstance(w, QtWidgets.QCheckBox) and isinstance(value, bool):
            w.setChecked(value)
        elif isinstance(w, QtWidgets.QComboBox) and w.isEditable():
            w.setCurrentText(str(value))
        elif isinstance(w, QtWidgets.QComboBox) and w.findData(value) >= 0:
            w.setCurrentIndex(w.findData(value))
        elif isinstance(w, QtWidgets.QLineEdit):
            w.setText(str(value))
            w.setCursorPosition(0)


def scrolling(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a frameless scroll area that resizes it to its width."""
    scroll = QtWidgets.QScrollArea()
    scroll.setWidget(widget)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    return scroll


def runs_folder_row(form: QtWidgets.QFormLayout, owner: QtWidgets.QWidget, tip: str, default) -> QtWidgets.QLineEdit:
    """The "Runs folder" row (path, Browse…): each run writes a fresh subfolder there."""
    def browse():
        path = QtWidgets.QFileDialog.getExistingDirectory(owner, "Folder for the runs", edit.text())
        if path:
            edit.setText(path)

    edit, row = path_field("folder for the runs", tip, browse)
    edit.setText(str(default))
    form.addRow("Runs folder", row)
    return edit


def settings_column(form: QtWidgets.QWidget, buttons: QtWidgets.QLayout) -> QtWidgets.QWidget:
    """The settings form with its buttons row (workspaces/run_controls.py) under it."""
    column = QtWidgets.QWidget()
    v = QtWidgets.QVBoxLayout(column)
    v.addWidget(form)
    v.addLayout(buttons)
    v.addStretch(1)
    return column


def settings_beside(settings: QtWidgets.QWidget, results: QtWidgets.QWidget) -> QtWidgets.QSplitter:
    """The settings on the left (scrolling in a short window, never squeezed), the results
    taking the rest of the width."""
    split = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(scrolling(settings))
    split.addWidget(results)
    split.setStretchFactor(1, 1)
    split.setChildrenCollapsible(False)
    split.setSizes([settings.sizeHint().width() + 24, 10_000])
    return split
