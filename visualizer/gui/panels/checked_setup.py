"""The settings panels with their own run button (Train, Poison, Black box's query attack and
steal) share one rule with the run-parameters form: the settings are checked on every edit
by the core's own parsers, the one message that blocks a run is shown under them, and the
run button stays disabled while there is one."""

from __future__ import annotations

from visualizer.core.errors import VisualizerError
from visualizer.gui.class_picker import ERROR_STYLE
from visualizer.gui.qt import QtWidgets, Signal

__all__ = ["CheckedSetup"]


class CheckedSetup(QtWidgets.QWidget):
    """Settings checked on every edit: ``check`` raises VisualizerError with the one message
    shown under them (``problem``); ``changed`` follows each edit. A subclass puts
    ``self.message`` in its layout, hands its inputs to ``watch`` and calls ``_changed`` once
    built; ``shown_elsewhere`` keeps a message that a field already shows beside itself
    from being shown twice."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        self._problem: str | None = None

    def check(self) -> None:
        raise NotImplementedError

    def shown_elsewhere(self, problem: str) -> bool:
        return False

    def watch(self, *widgets: QtWidgets.QWidget) -> None:
        """Check again on every edit of ``widgets`` (line edits, combo boxes, spin boxes, check boxes)."""
        for widget in widgets:
            if isinstance(widget, QtWidgets.QLineEdit):
                widget.textChanged.connect(self._changed)
            elif isinstance(widget, QtWidgets.QComboBox):
                signal = widget.currentTextChanged if widget.isEditable() else widget.currentIndexChanged
                signal.connect(self._changed)
            elif isinstance(widget, QtWidgets.QAbstractSpinBox):
                widget.valueChanged.connect(self._changed)
            elif isinstance(widget, QtWidgets.QAbstractButton):
                widget.toggled.connect(self._changed)
            else:
                raise TypeError(f"cannot watch a {type(widget).__name__}")

    def _changed(self, *_) -> None:
        try:
            self.check()
            self._problem = None
        except VisualizerError as exc:
            self._problem = str(exc)
        shown = self._problem if self._problem and not self.shown_elsewhere(self._problem) else ""
        self.message.setText(shown)
        self.message.setVisible(bool(shown))
        self.changed.emit()

    def problem(self) -> str | None:
        """The message that blocks a run, or None when the settings are valid."""
        return self._problem
