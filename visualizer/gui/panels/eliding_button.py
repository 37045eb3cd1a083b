"""A tool button whose text elides to the width it gets, the whole text in its tooltip, so a
long header (e.g. "Loss and probabilities per iterate") never sets the minimum width of a
model's column: three columns must fit a 1000 px window (issue 16). superqt elides labels
and line edits, not buttons."""

from __future__ import annotations

from visualizer.gui.qt import QtCore, QtWidgets, Qt

__all__ = ["ElidingToolButton"]

KEPT_CHARS = 4      # the narrowest the button gets shows this much of its text, then "…"


class ElidingToolButton(QtWidgets.QToolButton):
    def __init__(self, text: str = "", hint: str = "", parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self._hint = hint            # what the button does (the tooltip's first line)
        # A tool button's policy is Fixed (its size hint is its minimum): this one may shrink.
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Fixed)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()
        self.updateGeometry()

    def full_text(self) -> str:
        return self._full

    def setToolTip(self, hint: str) -> None:  # noqa: N802 (Qt name)
        self._hint = hint
        self._elide()

    # ------------------------------------------------------------------ geometry

    def _chrome(self) -> int:
        """The button's width beyond its text (arrow or icon, margins, frame)."""
        shown = self.fontMetrics().size(Qt.TextFlag.TextShowMnemonic, self.text()).width()
        return super().sizeHint().width() - shown

    def _text_width(self, text: str) -> int:
        return self.fontMetrics().size(Qt.TextFlag.TextShowMnemonic, text).width()

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt name)
        hint = super().sizeHint()
        return QtCore.QSize(self._chrome() + self._text_width(self._full), hint.height())

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt name)
        shortest = self._full[:KEPT_CHARS] + "\u2026" if len(self._full) > KEPT_CHARS else self._full
        return QtCore.QSize(self._chrome() + self._text_width(shortest), super().sizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            self._elide()

    def _elide(self) -> None:
        room = self.width() - self._chrome() if self.isVisible() or self.testAttribute(
            Qt.WidgetAttribute.WA_Resized) else 1 << 20
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(room, 0))
        if shown != self.text():
            super().setText(shown)
        tip = self._hint if shown == self._full else (f"{self._full}\n{self._hint}" if self._hint else self._full)
        super().setToolTip(tip)
