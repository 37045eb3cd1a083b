"""The parts every per-model result panel shares: a bold, selectable title naming the model
and a wrapping status line under the plots."""

from __future__ import annotations

from visualizer.gui.panels.theme import ThemedWidget
from visualizer.gui.qt import QtWidgets, Qt


class ModelResultView(ThemedWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.title_label = QtWidgets.QLabel()
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setContentsMargins(4, 2, 4, 0)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QtWidgets.QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setContentsMargins(4, 0, 4, 2)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_model_title(self, text: str) -> None:
        self.title_label.setText(text)
        self.title_label.setToolTip(text)
