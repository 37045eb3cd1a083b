"""A panel whose content follows a choice made in a combo box above it, as in the Evaluate
tab's transfer matrices (which matrix) and the Poison panel's image grids (which rate): the
combo box sized to its entries, left-aligned after its label, and the content below."""

from __future__ import annotations

from visualizer.gui.qt import QtWidgets

__all__ = ["chooser", "chooser_column"]


def chooser(tip: str) -> QtWidgets.QComboBox:
    """A combo box as wide as its longest entry, with ``tip`` as its tooltip."""
    combo = QtWidgets.QComboBox()
    combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
    combo.setToolTip(tip)
    return combo


def chooser_column(owner: QtWidgets.QWidget, label: str, combo: QtWidgets.QComboBox,
                   *below: QtWidgets.QWidget) -> tuple[QtWidgets.QVBoxLayout, QtWidgets.QLabel]:
    """``owner``'s layout, without margins: the row "``label`` [``combo``]" on top, then
    ``below`` one under the other. Returns the layout and the label (to hide with the combo)."""
    caption = QtWidgets.QLabel(label)
    head = QtWidgets.QHBoxLayout()
    head.setContentsMargins(0, 0, 0, 0)
    head.addWidget(caption)
    head.addWidget(combo)
    head.addStretch(1)
    box = QtWidgets.QVBoxLayout(owner)
    box.setContentsMargins(0, 0, 0, 0)
    box.addLayout(head)
    for widget in below:
        box.addWidget(widget)
    return box, caption
