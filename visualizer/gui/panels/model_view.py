"""The parts every per-model result panel shares: a bold, selectable title naming the model
and a wrapping status line under the plots."""

from __future__ import annotations

from visualizer.gui.dock_parts import ElidingLabel
from visualizer.gui.panels.theme import ThemedWidget
from visualizer.gui.qt import QtWidgets, Qt

TITLE_KEPT_PX = 160     # a model's name is elided only beyond this width


class ModelResultView(ThemedWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        # Elided, the name in the tooltip: a long model id must not set the column's width
        # (three columns then did not fit a 1280 px window).
        self.title_label = ElidingLabel()
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setContentsMargins(4, 2, 4, 0)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QtWidgets.QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setContentsMargins(4, 0, 4, 2)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_model_title(self, text: str, full: str | None = None) -> None:
        """``text`` (a display name); ``full``: the whole model id, for the tooltip."""
        self.title_label.setText(text)
        if full and full != text:
            self.title_label.setToolTip(full)
        # Whole up to a point: beside it, the attack's threat model elides first.
        self.title_label.setMinimumWidth(min(self.title_label.sizeHint().width(), TITLE_KEPT_PX))
