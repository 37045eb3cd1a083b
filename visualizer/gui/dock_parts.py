"""Widgets the controls dock is made of, so it stays usable in a small window: labels that
elide long text (the whole text as tooltip) instead of widening the dock, and sections
that fold to their title, remembering whether they were open."""

from __future__ import annotations

from superqt import QCollapsible, QElidingLabel

from visualizer.gui.qt import QtCore, QtWidgets

FOLDED, OPEN = "\u25b6", "\u25bc"      # a folded section's arrow points right (superqt's points up)


class ElidingLabel(QElidingLabel):
    """One line, elided to the width it gets; the whole text in the tooltip, under ``hint``
    (what the label says) when one is given."""

    def __init__(self, text: str = "", hint: str = "", parent: QtWidgets.QWidget | None = None,
                 asks_whole: bool = False):
        self._hint = hint
        self._asks_whole = asks_whole
        super().__init__(text, parent)
        self.setToolTip(self._tip(text))

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt name)
        hint = super().sizeHint()
        if not self._asks_whole:
            return hint
        # superqt's hint is the elided text's: once elided in a narrow layout, it stayed so.
        return QtCore.QSize(self.fontMetrics().horizontalAdvance(self.text()) + 8, hint.height())

    def _tip(self, text: str) -> str:
        return f"{self._hint}\n{text}" if self._hint and text else (self._hint or text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self.setToolTip(self._tip(text))
        if self._asks_whole:
            self.updateGeometry()       # the layout asked before the whole text was stored


class Foldable(QCollapsible):
    """superqt's collapsible section with a right-pointing arrow when folded, redrawn in the
    text colour when the palette changes (light/dark switch)."""

    def __init__(self, title: str):
        super().__init__(title, expandedIcon=OPEN, collapsedIcon=FOLDED)
        self.setDuration(0)              # no animation: the dock re-lays out at once
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.content().layout().setContentsMargins(0, 0, 0, 0)

    def changeEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt name)
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.PaletteChange:
            self.setExpandedIcon(OPEN)
            self.setCollapsedIcon(FOLDED)


class Section(Foldable):
    """A titled part of the dock that folds to its title (click it). Open unless the user
    folded it last time (``settings`` key ``dock/<key>_open``)."""

    def __init__(self, key: str, title: str, content: QtWidgets.QWidget, settings: QtCore.QSettings):
        super().__init__(title)
        self._key = f"dock/{key}_open"
        self._settings = settings
        button = self.toggleButton()
        font = button.font()
        font.setBold(True)
        button.setFont(font)
        button.setToolTip("Click to fold or unfold")
        self.addWidget(content)
        if str(settings.value(self._key, "true")).lower() != "false":
            self.expand(animate=False)
        self.toggled.connect(lambda shown: self._settings.setValue(self._key, bool(shown)))
