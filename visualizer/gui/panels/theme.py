"""Plot colours taken from the widget's QPalette, so pyqtgraph views follow light and dark system
palettes (and later palette switches) instead of pyqtgraph's fixed black-on-grey defaults.

Nothing here depends on the device pixel ratio: pens are cosmetic (pyqtgraph's default) and
text sizes come from the application font in points.
"""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.gui.qt import QtCore, QtGui, QtWidgets, pg

__all__ = ["PlotColours", "ThemedWidget", "apply_plot_theme", "plot_colours"]

_Role = QtGui.QPalette.ColorRole


@dataclass(frozen=True)
class PlotColours:
    window: QtGui.QColor     # behind images and plots: blends with the panel
    base: QtGui.QColor       # fills (legend boxes), like the inside of a text field
    text: QtGui.QColor
    axis: QtGui.QColor       # axis lines and frames: text toned down towards the window
    muted: QtGui.QColor      # secondary marks (bars of ordinary classes)
    dark: bool

    def accent(self, colour) -> QtGui.QColor:
        """A fixed semantic colour (reference, target, worst) lifted on dark backgrounds, where
        the figure colours, chosen for white paper, lose contrast; black (the palettes' last
        line colour), which no lifting lightens, becomes the text colour there."""
        c = QtGui.QColor(colour)
        if not self.dark:
            return c
        return QtGui.QColor(self.text) if c.lightnessF() < 0.1 else c.lighter(155)


def _blend(a: QtGui.QColor, b: QtGui.QColor, t: float) -> QtGui.QColor:
    return QtGui.QColor.fromRgbF(*(a.getRgbF()[i] * (1 - t) + b.getRgbF()[i] * t for i in range(3)))


def plot_colours(palette: QtGui.QPalette | None = None) -> PlotColours:
    if palette is None:
        palette = QtWidgets.QApplication.palette()
    window = palette.color(_Role.Window)
    text = palette.color(_Role.WindowText)
    dark = window.lightnessF() < text.lightnessF()
    return PlotColours(
        window=window,
        base=palette.color(_Role.Base),
        text=text,
        axis=_blend(text, window, 0.35),
        muted=_blend(text, window, 0.65),
        dark=dark,
    )


def apply_plot_theme(view: pg.GraphicsView, colours: PlotColours | None = None) -> PlotColours:
    """Colour one GraphicsLayoutWidget or PlotWidget and the axes, labels and legends currently
    in its scene. Call again after adding items. Plot areas stay transparent (the window colour):
    an opaque ViewBox background would hide twin-axis ViewBoxes stacked behind it."""
    if colours is None:
        colours = plot_colours(view.palette())
    view.setBackground(colours.window)
    text_name = colours.text.name()
    for item in view.scene().items():
        if isinstance(item, pg.AxisItem):
            item.setPen(pg.mkPen(colours.axis))
            item.setTextPen(pg.mkPen(colours.text))
        elif isinstance(item, pg.LabelItem):
            item.setText(item.text, color=text_name)
        elif isinstance(item, pg.LegendItem):
            item.setLabelTextColor(colours.text)
            fill = QtGui.QColor(colours.base)
            fill.setAlphaF(0.8)
            item.setBrush(fill)
            item.setPen(pg.mkPen(colours.axis))
    return colours


class ThemedWidget(QtWidgets.QWidget):
    """A panel whose plots are recoloured on every palette change (system dark mode switch,
    application palette set at run time). Subclasses list their views in ``plot_views`` and
    recolour anything else (curves, custom widgets) in ``theme_changed``."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._theme_ready = False    # palette events can arrive before the subclass is built

    def plot_views(self) -> list[pg.GraphicsView]:
        return []

    def theme_changed(self, colours: PlotColours) -> None:
        pass

    def apply_theme(self) -> PlotColours:
        self._theme_ready = True
        colours = plot_colours(self.palette())
        for view in self.plot_views():
            apply_plot_theme(view, colours)
        self.theme_changed(colours)
        return colours

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if self._theme_ready and event.type() in (QtCore.QEvent.Type.PaletteChange,
                                                  QtCore.QEvent.Type.ApplicationPaletteChange):
            self.apply_theme()
