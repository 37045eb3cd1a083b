"""Building blocks of the run-parameters form (params_form.py): a number field with its
readout and error note, form layouts whose row names explain themselves, and the
collapsible "More options" section."""

from __future__ import annotations

from visualizer.gui.class_picker import ERROR_STYLE, INVALID_FIELD_STYLE, mark_invalid
from visualizer.gui.dock_parts import Foldable
from visualizer.gui.qt import Qt, QtWidgets


class NumberField(QtWidgets.QWidget):
    """A line edit for one number, a unit beside it or a live readout under it (in small type:
    it costs the dock no width), and a red note under it when the value is refused."""

    def __init__(self, text: str = "", unit: str = "", tooltip: str = "", readout: bool = False, parent=None):
        super().__init__(parent)
        self.edit = QtWidgets.QLineEdit(text)
        self.edit.setStyleSheet(INVALID_FIELD_STYLE)
        self.readout = QtWidgets.QLabel(unit)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if unit:  # one width for every unit so the edits' right edges line up
            self.readout.setMinimumWidth(self.fontMetrics().horizontalAdvance("deg") + 2)
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(ERROR_STYLE)
        self.note.hide()
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(self.edit, 1)
        if unit:  # an empty, hidden readout would still cost a spacing
            row.addWidget(self.readout)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addLayout(row)
        if readout:
            font = self.readout.font()
            font.setPointSizeF(font.pointSizeF() * 0.9)
            self.readout.setFont(font)
            self.readout.setStyleSheet("color: palette(placeholder-text);")
            box.addWidget(self.readout)
        box.addWidget(self.note)
        self.setToolTip(tooltip)

    def setToolTip(self, text: str) -> None:  # noqa: N802  the tooltip must reach the edit
        super().setToolTip(text)
        self.edit.setToolTip(text)

    def text(self) -> str:
        return self.edit.text()

    def set_error(self, message: str) -> None:
        if message == self.note.text():
            return   # validation runs on every keystroke: touch widgets only on change
        self.note.setText(message)
        self.note.setVisible(bool(message))
        mark_invalid(self.edit, bool(message))


def make_form(rows: list[tuple[str, QtWidgets.QWidget]]) -> QtWidgets.QFormLayout:
    """A form of (name, field) rows; hovering a name shows its field's tooltip."""
    form = QtWidgets.QFormLayout()
    form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
    for text, widget in rows:
        form.addRow(text, widget)
        label = form.labelForField(widget)
        if label is not None and widget.toolTip():
            label.setToolTip(widget.toolTip())
    return form


def form_labels(form: QtWidgets.QFormLayout) -> list[QtWidgets.QLabel]:
    """The row names (checkbox rows carry their text themselves)."""
    items = [form.itemAt(r, QtWidgets.QFormLayout.ItemRole.LabelRole) for r in range(form.rowCount())]
    return [item.widget() for item in items if item is not None and isinstance(item.widget(), QtWidgets.QLabel)
            and item.widget().text()]


class MoreOptions(Foldable):
    """A collapsed section holding ``form``: shown only while one of its rows is, titled with
    the values set in it ("More options: random start, seed 7") so nothing set there is
    hidden, and opened when a field in it is invalid (a hidden error would block Run with
    no visible reason)."""

    TITLE = "More options"

    def __init__(self, form: QtWidgets.QFormLayout, tooltip: str):
        super().__init__(self.TITLE)
        box = QtWidgets.QWidget()
        form.setContentsMargins(0, 0, 0, 0)
        box.setLayout(form)
        self.addWidget(box)
        self.toggleButton().setToolTip(tooltip)

    def update_rows(self, any_shown: bool, values_set: list[str], invalid: bool) -> None:
        self.setVisible(any_shown)
        title = self.TITLE + (f": {', '.join(values_set)}" if values_set else "")
        if self.text() != title:
            self.setText(title)
        if invalid or self.isExpanded():
            self.expand(animate=False)     # open, at the height of the rows shown now
