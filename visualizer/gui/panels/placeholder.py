"""What a plot shows before it has data: no axes (an empty plot's axes are invented, e.g.
"rotation (x0.001)" from -400 to 400 for a sweep not run yet) and a short hint saying what
will appear there and how to get it."""

from __future__ import annotations

from typing import Iterable

from visualizer.gui.panels.theme import PlotColours, plot_colours
from visualizer.gui.qt import QtCore, QtWidgets, pg

__all__ = ["EmptyPlotHint"]

_AXES = ("left", "bottom", "right", "top")


class EmptyPlotHint:
    """Switches ``plot`` between empty (axes and ``also_hide`` hidden, mouse off, ``text``
    centred in the plot area) and filled (as it was built). Starts filled. The panel's
    ``theme_changed`` passes new colours to ``set_colours``."""

    def __init__(self, plot: pg.PlotItem, text: str, also_hide: Iterable[QtWidgets.QGraphicsItem] = ()):
        self.plot = plot
        self._axes = [name for name in _AXES if plot.getAxis(name).isVisible()]
        self._also = list(also_hide)
        self._mouse = list(plot.vb.state["mouseEnabled"])
        self.label = QtWidgets.QGraphicsTextItem(plot)        # plot coordinates: screen pixels
        self.label.setPlainText(text)
        self._text_width = self.label.boundingRect().width()
        self.label.setZValue(100)
        self.label.hide()
        self.set_colours(plot_colours())
        self._empty = False
        plot.geometryChanged.connect(self._centre)
        for name in self._axes:     # PlotItem.setLabel shows its axis again: keep it hidden while empty
            axis = plot.getAxis(name)
            axis.visibleChanged.connect(lambda a=axis: self._empty and a.isVisible() and a.hide())

    def is_empty(self) -> bool:
        return self._empty

    def set_text(self, text: str) -> None:
        self.label.setTextWidth(-1)
        self.label.setPlainText(text)
        self._text_width = self.label.boundingRect().width()
        self._centre()

    def set_empty(self, empty: bool) -> None:
        if empty == self._empty:
            return
        self._empty = empty
        for name in self._axes:
            self.plot.showAxis(name, not empty)
        for item in self._also:
            item.setVisible(not empty)
        if empty:
            self._mouse = list(self.plot.vb.state["mouseEnabled"])
            self.plot.vb.setMouseEnabled(False, False)
        else:
            self.plot.vb.setMouseEnabled(*self._mouse)
        self.label.setVisible(empty)
        self._centre()

    def set_colours(self, colours: PlotColours) -> None:
        self.label.setDefaultTextColor(colours.muted)

    def _centre(self) -> None:
        rect = self.plot.boundingRect()
        # Wrapped, centred lines when the plot is narrower than the text.
        self.label.setTextWidth(min(self._text_width, max(rect.width() - 16, 40)))
        option = self.label.document().defaultTextOption()
        option.setAlignment(QtCore.Qt.AlignmentFlag.AlignHCenter)
        self.label.document().setDefaultTextOption(option)
        text = self.label.boundingRect()
        self.label.setPos(QtCore.QPointF(rect.center().x() - text.width() / 2, rect.center().y() - text.height() / 2))
