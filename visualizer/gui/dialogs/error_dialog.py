"""Showing an error: the message written for the user up front, the traceback (if any)
behind a "Show Details..." button for bug reports."""

from __future__ import annotations

from visualizer.gui.qt import Qt, QtWidgets

# Boxes opened without a parent would be garbage-collected (and vanish) as soon as the
# caller drops the returned object; keep them alive until they close.
_OPEN: set[QtWidgets.QMessageBox] = set()


def show_error(parent: QtWidgets.QWidget | None, title: str, message: str,
               details: str | None = None) -> QtWidgets.QMessageBox:
    """Open a (window-modal, non-blocking) error box and return it. Uses ``open()``, not
    ``exec()``: the caller's event loop keeps running, workers keep reporting, tests go on."""
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Icon.Critical)
    box.setWindowTitle(title)
    box.setText(message)
    box.setTextFormat(Qt.TextFormat.PlainText)   # messages quote paths and code, never markup
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Ok)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    _OPEN.add(box)
    box.finished.connect(lambda _result, b=box: _OPEN.discard(b))
    box.open()
    return box
