"""Two parts of an attack column: the top-5 block (clean and adversarial charts, side by side
or one above the other, and their legend) and the plot section (a header that collapses the
per-iterate plot and says what it plots, the plot, and a way back from a kept iterate).

The section collapses with a plain checkable header rather than superqt's QCollapsible:
that one fixes its content to its size hint, and this plot must take whatever height the
images leave."""

from __future__ import annotations


from visualizer.gui.dock_parts import ElidedLabel
from visualizer.gui.panels.eliding_button import ElidingToolButton
from visualizer.gui.panels.history_plot import HistoryPlot
from visualizer.gui.panels.perturbation_block import BAR_W
from visualizer.gui.panels.top5_bars import Top5Bars
from visualizer.gui.qt import QtCore, QtWidgets, Qt, Signal

__all__ = ["GRID_MARGINS", "ImageArea", "PlotSection", "Top5Block"]

GRID_MARGINS = 4 + 3  # an ImageGridWidget's layout: margins on both sides and the spacing between columns

PLOT_TITLE = "Loss and probabilities per iterate"
OBJECTIVES = {     # what the loss axis plots: the objective the attack maximises
    False: "loss = CE(reference), the reference class's cross-entropy, which the attack raises",
    True: "loss = \u2212CE(target), minus the target's cross-entropy, rising to 0 as the target becomes certain",
}


class Top5Block(QtWidgets.QWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.before = Top5Bars("Top-5 clean")
        self.after = Top5Bars("Top-5 adversarial")
        self.legend = QtWidgets.QLabel()
        self.legend.setWordWrap(True)
        self._grid = QtWidgets.QGridLayout(self)
        self._grid.setContentsMargins(4, 2, 4, 0)
        self._grid.setHorizontalSpacing(12)
        self._grid.setVerticalSpacing(2)
        self._mode = ""
        self.set_mode("row")

    def set_mode(self, mode: str) -> None:
        """'row': the charts side by side; 'grid': one above the other."""
        if mode == self._mode:
            return
        self._mode = mode
        for w in (self.before, self.after, self.legend):
            self._grid.removeWidget(w)
        if mode == "row":
            self._grid.addWidget(self.before, 0, 0)
            self._grid.addWidget(self.after, 0, 1)
            self._grid.addWidget(self.legend, 1, 0, 1, 2)
        else:
            self._grid.addWidget(self.before, 0, 0)
            self._grid.addWidget(self.after, 1, 0)
            self._grid.addWidget(self.legend, 2, 0)

    def height_for(self, mode: str) -> int:
        charts = self.before.sizeHint().height()
        legend = self.legend.fontMetrics().height() + 4
        return (charts if mode == "row" else 2 * charts + 2) + legend + 6


class ImageArea(QtWidgets.QWidget):
    """The images and top-5 charts of an attack column, placed by an ``Arrangement``
    (attack_layout.py). Every image view gets the same pixel size: linked views share one
    zoom, and a view of another size would show its image distorted or with margins."""

    def __init__(self, images, perturbation, top5: Top5Block, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.images, self.perturbation, self.top5 = images, perturbation, top5
        self._grid = QtWidgets.QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSizeConstraint(QtWidgets.QLayout.SizeConstraint.SetNoConstraint)
        self._mode = ""

    def mode(self) -> str:
        return self._mode

    def arrange(self, a, gap: int) -> None:
        self._grid.setSpacing(gap)
        if a.mode != self._mode:
            self._mode = a.mode
            for w in (self.images, self.perturbation, self.top5):
                self._grid.removeWidget(w)
            centre, top = Qt.AlignmentFlag.AlignHCenter, Qt.AlignmentFlag.AlignTop
            if a.mode == "row":
                self._grid.addWidget(self.images, 0, 0, Qt.AlignmentFlag.AlignRight)
                self._grid.addWidget(self.perturbation, 0, 1, Qt.AlignmentFlag.AlignLeft)
                self._grid.addWidget(self.top5, 1, 0, 1, 2)
            else:
                self._grid.addWidget(self.images, 0, 0, 1, 2, centre)
                self._grid.addWidget(self.perturbation, 1, 0, top)
                self._grid.addWidget(self.top5, 1, 1, top)
            self.top5.set_mode(a.mode)
        cell, upper = max(a.cell, 20), max(a.upper_h, 40)
        _prefer(self.images, 2 * cell + GRID_MARGINS, upper)
        _prefer(self.perturbation, cell + BAR_W + GRID_MARGINS, upper)
        # Row: both columns at their images' width (a stretch would split the width evenly);
        # grid: the charts take the width the perturbation leaves.
        self._grid.setColumnStretch(0, 0)
        self._grid.setColumnStretch(1, 0 if a.mode == "row" else 1)
        self._height = a.upper_h + gap + a.lower_h
        self.setMaximumHeight(self._height)
        self.updateGeometry()

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt name)
        return QtCore.QSize(super().sizeHint().width(), getattr(self, "_height", 100))

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt name)
        return QtCore.QSize(0, 0)           # never stops the column shrinking: it re-arranges instead


def _prefer(widget: QtWidgets.QWidget, width: int, height: int) -> None:
    """Make ``widget`` this size when there is room, smaller when not (never a minimum that
    would keep its column from shrinking, after which it is arranged again)."""
    widget.setMinimumSize(0, 0)
    widget.setMaximumSize(width, height)
    widget.set_preferred_size(width, height)


class PlotSection(QtWidgets.QWidget):
    toggled = Signal(bool)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        # Elides in a narrow column (the whole title in its tooltip): unelided it set the
        # column's minimum width, and three columns did not fit a 1000 px window.
        self.toggle = ElidingToolButton(PLOT_TITLE)
        self.toggle.setCheckable(True)
        self.toggle.setChecked(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setToolTip("Show or hide the plot (the images get its room)")
        self.toggle.setStyleSheet("QToolButton { border: none; }")
        bold = self.toggle.font()
        bold.setBold(True)
        self.toggle.setFont(bold)
        self.toggle.toggled.connect(self._toggled)
        self.hint = ElidedLabel()
        self.result_button = ElidingToolButton("Show result")
        self.result_button.setToolTip("Back to the attack's result (its best iterate)")
        self.result_button.hide()
        self.plot = HistoryPlot()
        header = QtWidgets.QHBoxLayout()
        header.setContentsMargins(0, 0, 4, 0)
        header.addWidget(self.toggle)
        header.addWidget(self.hint, 1)
        header.addWidget(self.result_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)
        self.set_state(targeted=False, scrubbable=False, shown=None)

    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, on: bool) -> None:
        self.toggle.setChecked(on)

    def header_height(self) -> int:
        return max(self.toggle.sizeHint().height(), self.result_button.sizeHint().height())

    def set_state(self, targeted: bool, scrubbable: bool, shown: int | None) -> None:
        """Say what the loss is, and whether a click shows an iterate (or which one is shown)."""
        objective = OBJECTIVES[bool(targeted)]
        if shown is not None:
            text = f"iterate {shown} shown (dotted line) \u00b7 click or drag for another"
        elif scrubbable:
            text = "click or drag on the plot to see an iterate \u00b7 " + objective
        else:
            text = objective
        self.hint.setText(text)
        self.hint.setToolTip(objective + (". Click or drag on the plot to see the adversarial image, "
                                          "perturbation and top-5 at that iterate." if scrubbable else ""))
        self.plot.setToolTip(objective)
        self.result_button.setVisible(shown is not None)

    def _toggled(self, on: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.plot.setVisible(on)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                           QtWidgets.QSizePolicy.Policy.Preferred if on else QtWidgets.QSizePolicy.Policy.Fixed)
        self.toggled.emit(on)

    def sizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt name)
        hint = super().sizeHint()
        return hint if self.expanded() else QtCore.QSize(hint.width(), self.header_height())
