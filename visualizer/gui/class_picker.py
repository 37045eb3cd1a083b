"""A searchable chooser for one class out of a model's (possibly 1000+) class names.

The user types part of a name ("gold" offers goldfish, golden retriever, ...), a whole name,
or an index; completions read "index: name". Resolving text to an index is left to the
core's ``class_index`` so the GUI and the CLI accept exactly the same things.
"""

from __future__ import annotations

import hashlib
import re

from visualizer.core.errors import ParameterError
from visualizer.core.models.wrapper import class_index
from visualizer.gui.qt import Qt, QtCore, QtWidgets, Signal

# "207: golden retriever", the form completions and set_index() produce.
_INDEXED = re.compile(r"^\s*(\d+)\s*:\s*(.*?)\s*$")
ERROR_STYLE = "color: #c62828;"
# Applied to every checked line edit; the rule only bites while the "invalid" property is set.
INVALID_FIELD_STYLE = 'QLineEdit[invalid="true"] { border: 2px solid #c62828; border-radius: 3px; }'


def mark_invalid(edit: QtWidgets.QLineEdit, invalid: bool) -> None:
    """Red border on ``edit`` while ``invalid``. Style sheets ignore property changes until
    the widget is re-polished."""
    if bool(edit.property("invalid")) == invalid:
        return
    edit.setProperty("invalid", invalid)
    edit.style().unpolish(edit)
    edit.style().polish(edit)
    edit.update()


def classes_key(names: list[str]) -> str:
    """A short fingerprint of a class list: an index means the same class under the same key."""
    return f"{len(names)}:" + hashlib.sha1("\n".join(names).encode("utf-8")).hexdigest()[:12]


class ClassPicker(QtWidgets.QWidget):
    """Line edit + contains-match completer; an error line appears under it when the text
    does not name exactly one class. Empty text is allowed and means "no class" (None)."""

    indexChanged = Signal(object)      # int | None
    validityChanged = Signal(bool)
    cleared = Signal(int)              # the index dropped because the new model's classes differ

    def __init__(self, placeholder: str = "type a class name or index", parent=None):
        super().__init__(parent)
        self._names: list[str] = []
        self._index: int | None = None
        self._classes: str | None = None   # classes_key of the names the index was chosen among
        self._error = ""

        self.edit = QtWidgets.QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.edit.setStyleSheet(INVALID_FIELD_STYLE)
        self._model = QtCore.QStringListModel(self)
        self.completer = QtWidgets.QCompleter(self._model, self)
        self.completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(12)
        self.edit.setCompleter(self.completer)

        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.message)

        self.edit.textChanged.connect(self._resolve)
        self.edit.editingFinished.connect(self._tidy)

    # -- public API -------------------------------------------------------------------------
    def set_class_names(self, names: list[str]) -> None:
        """New model, new names: keep the chosen index when it still means the same class (the
        same class list); an index chosen among other classes is cleared (``cleared``)."""
        keep, chosen_among = self._index, self._classes
        self._names = [str(n) for n in names]
        self._model.setStringList([f"{i}: {n}" for i, n in enumerate(self._names)])
        if keep is not None and chosen_among is not None and chosen_among != classes_key(self._names):
            self.set_index(None)
            self.cleared.emit(keep)
        elif keep is not None and keep < len(self._names):
            self.set_index(keep)
        else:
            self._resolve(self.edit.text())

    def class_names(self) -> list[str]:
        return list(self._names)

    def classes_key(self) -> str | None:
        """Which class list the chosen index refers to (None: no index, or not known)."""
        return self._classes if self._index is not None else None

    def set_index(self, index: int | None, classes: str | None = None) -> None:
        """``classes``: the classes_key the index was chosen among, when restoring it before
        any model has given names."""
        foreign = classes is not None and bool(self._names) and classes != classes_key(self._names)
        if index is None:
            self.edit.setText("")
        elif 0 <= index < len(self._names) and not foreign:
            self.edit.setText(f"{index}: {self._names[index]}")
        else:
            self.edit.setText(str(index))   # names not known yet (no model): keep the number
        if classes is not None:
            self._classes = classes

    def selected_index(self) -> int | None:
        return self._index

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:  # noqa: N802  (Qt naming, used like a line edit)
        self.edit.setText(text)

    def is_valid(self) -> bool:
        return not self._error

    def error(self) -> str:
        return self._error

    def setToolTip(self, text: str) -> None:  # noqa: N802  the tooltip belongs on the edit
        super().setToolTip(text)
        self.edit.setToolTip(text)

    # -- internals ----------------------------------------------------------------------------
    def _lookup(self, text: str) -> int | None:
        text = text.strip()
        if not text:
            return None
        m = _INDEXED.match(text)
        if m and self._names:
            idx = int(m.group(1))
            if idx < len(self._names) and self._names[idx].lower() == m.group(2).lower():
                return idx
        if not self._names:
            # Without a model only an index can be checked (that it is a whole number).
            if text.isdigit():
                return int(text)
            raise ParameterError("Load a model first to choose a class by name, or type its index.")
        return class_index(text, self._names)

    def _resolve(self, text: str) -> None:
        was_valid, old = self.is_valid(), self._index
        try:
            self._index, self._error = self._lookup(text), ""
        except ParameterError as exc:
            self._index, self._error = None, str(exc)
        if self._names:
            self._classes = classes_key(self._names)
        self.message.setText(self._error)
        self.message.setVisible(bool(self._error))
        mark_invalid(self.edit, bool(self._error))
        if self._index != old:
            self.indexChanged.emit(self._index)
        if self.is_valid() != was_valid:
            self.validityChanged.emit(self.is_valid())

    def _tidy(self) -> None:
        # Once the user is done typing, show what the text resolved to ("1" -> "1: goldfish").
        if self._index is not None and self._index < len(self._names):
            wanted = f"{self._index}: {self._names[self._index]}"
            if self.edit.text() != wanted:
                self.edit.setText(wanted)
