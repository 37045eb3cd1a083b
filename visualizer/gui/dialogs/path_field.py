"""A path typed or pasted into a line edit, with a Browse… button beside it."""

from __future__ import annotations

from typing import Callable

from visualizer.gui.qt import QtWidgets


def path_field(placeholder: str, tooltip: str, on_browse: Callable[[], None]) -> tuple[QtWidgets.QLineEdit,
                                                                                      QtWidgets.QHBoxLayout]:
    """(the line edit, the row holding it and the button) for a form row."""
    edit = QtWidgets.QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setToolTip(tooltip)
    browse = QtWidgets.QPushButton("Browse…")
    browse.clicked.connect(on_browse)
    row = QtWidgets.QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return edit, row
