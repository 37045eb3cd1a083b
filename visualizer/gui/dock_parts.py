"""Widgets the controls dock is made of, so it stays usable in a small window: labels that
elide long text (the whole text as tooltip) instead of widening the dock, and sections
that fold to their title, remembering whether they were open.

Both are the project's own small widgets rather than superqt's: importing anything from
superqt imports all of it, and its qtpy layer star-imports QtGui and QtOpenGL, about 0.2 s
of the window's start-up (superqt's generator worker is imported when the first job runs)."""

from __future__ import annotations

from visualizer.gui.qt import Qt, QtCore, QtWidgets, Signal

FOLDED, OPEN = "\u25b6", "\u25bc"      # a folded section's arrow points right, an open one's down
ELLIPSIS_ROOM = 2                      # px kept free beside the text, so the "…" is never clipped
UNLIMITED = (1 << 24) - 1              # Qt's QWIDGETSIZE_MAX: no maximum height


class ElidedLabel(QtWidgets.QLabel):
    """A one-line label showing as much of its text as its width allows, ending in "…";
    ``text()`` is the whole text. It asks for no more than the "…" as minimum width, so a
    long text never widens its layout."""

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._whole = ""
        self.setText(text)

    def text(self) -> str:
        return self._whole

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        self._whole = text or ""
        self._show_fitting()

    def _show_fitting(self) -> None:
        width = max(0, self.width() - ELLIPSIS_ROOM)
        QtWidgets.QLabel.setText(self, self.fontMetrics().elidedText(self._whole, Qt.TextElideMode.ElideRight, width))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._show_fitting()

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt name)
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        return QtCore.QSize(metrics.horizontalAdvance("...") + margins.left() + margins.right(),
                            super().minimumSizeHint().height())


class ElidingLabel(ElidedLabel):
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
        # the label's own hint is the elided text's: once elided in a narrow layout, it stayed so.
        return QtCore.QSize(self.fontMetrics().horizontalAdvance(self.text()) + 8, hint.height())

    def _tip(self, text: str) -> str:
        return f"{self._hint}\n{text}" if self._hint and text else (self._hint or text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self.setToolTip(self._tip(text))
        if self._asks_whole:
            self.updateGeometry()       # the layout asked before the whole text was stored


class Foldable(QtWidgets.QWidget):
    """A titled section that folds to its title: a flat button (arrow and title) above its
    content; a click on the title folds or unfolds it. ``toggled(bool)`` says which (not
    sent by ``expand``/``collapse`` themselves); ``text``/``setText`` are the title."""

    toggled = Signal(bool)

    def __init__(self, title: str):
        super().__init__()
        self._title = title
        self._open = False
        self._button = QtWidgets.QPushButton()
        self._button.setFlat(True)
        self._button.setCursor(Qt.CursorShape.PointingHandCursor)
        self._button.setStyleSheet("QPushButton { text-align: left; border: none; padding: 2px 0px; }")
        self._button.clicked.connect(self._clicked)
        self._content = QtWidgets.QWidget()
        QtWidgets.QVBoxLayout(self._content).setContentsMargins(0, 0, 0, 0)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._button)
        layout.addWidget(self._content)
        self._show(False)

    def toggleButton(self) -> QtWidgets.QPushButton:  # noqa: N802 (the name the dock's callers use)
        return self._button

    def text(self) -> str:
        return self._title

    def setText(self, text: str) -> None:  # noqa: N802
        self._title = text
        self._button.setText(f"{OPEN if self._open else FOLDED}  {text}")

    def content(self) -> QtWidgets.QWidget:
        return self._content

    def addWidget(self, widget: QtWidgets.QWidget) -> None:  # noqa: N802
        self._content.layout().addWidget(widget)

    def isExpanded(self) -> bool:  # noqa: N802
        return self._open

    def expand(self, animate: bool = False) -> None:
        """Open (``animate`` is accepted for the callers' sake: sections open at once)."""
        self._show(True)

    def collapse(self, animate: bool = False) -> None:
        self._show(False)

    def _clicked(self) -> None:
        self._show(not self._open)
        self.toggled.emit(self._open)

    def _show(self, on: bool) -> None:
        self._open = on
        self._content.setVisible(on)
        self._content.setMaximumHeight(UNLIMITED if on else 0)
        policy = QtWidgets.QSizePolicy.Policy          # folded: its title's height, no room left around it
        self.setSizePolicy(policy.Preferred, policy.Preferred if on else policy.Maximum)
        self.setText(self._title)


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
