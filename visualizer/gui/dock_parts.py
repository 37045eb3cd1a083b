"""Widgets the controls dock is made of, so it stays usable in a small window: labels that
elide long text (the whole text as tooltip) instead of widening the dock, and sections
that fold to their title, remembering whether they were open."""

from __future__ import annotations

from superqt import QCollapsible, QElidingLabel

from visualizer.gui.qt import QtCore, QtWidgets

FOLDED = "\u25b6"       # a folded section's arrow points right (superqt's default points up)


class ElidingLabel(QElidingLabel):
    """One line, elided to the width it gets; the whole text in the tooltip."""

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self.setToolTip(text)


class Section(QCollapsible):
    """A titled part of the dock that folds to its title (click it). Open unless the user
    folded it last time (``settings`` key ``dock/<key>_open``)."""

    def __init__(self, key: str, title: str, content: QtWidgets.QWidget, settings: QtCore.QSettings):
        super().__init__(title, collapsedIcon=FOLDED)
        self._key = f"dock/{key}_open"
        self._settings = settings
        self.setDuration(0)              # no animation: the dock re-lays out at once
        self.layout().setContentsMargins(0, 0, 0, 0)
        self.content().layout().setContentsMargins(0, 0, 0, 0)
        button = self.toggleButton()
        font = button.font()
        font.setBold(True)
        button.setFont(font)
        button.setToolTip("Click to fold or unfold")
        self.addWidget(content)
        if str(settings.value(self._key, "true")).lower() != "false":
            self.expand(animate=False)
        self.toggled.connect(lambda shown: self._settings.setValue(self._key, bool(shown)))
