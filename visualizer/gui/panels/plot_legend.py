"""The one legend every live plot of the window uses: a wrapped line of rich text in a header
row above the plot, outside its data area, so no curve can ever be drawn under it.

pyqtgraph's own LegendItem sits inside the ViewBox: wherever it is anchored, some curve
passes there in a small window (the Black box tab's margins at 1000 x 700 ran under it), and
given a cell of a layout of its own it stretches. A QLabel above the plot takes one or two
text lines, wraps in a narrow window, and follows the palette like any other label.

Each entry shows its line as the plot draws it: the colour, solid or dashed, the marker
(filled or hollow), then its name, e.g. ``—●— clean test accuracy``."""

from __future__ import annotations

import html
from dataclasses import dataclass

from visualizer.gui.panels.placeholder import EmptyPlotHint
from visualizer.gui.panels.theme import PlotColours, ThemedWidget, plot_colours
from visualizer.gui.qt import Qt, QtWidgets, pg

__all__ = ["CurveLegend", "LegendEntry", "LegendPlot"]

# pyqtgraph symbol names -> (filled, hollow) glyphs
_MARKERS = {"o": ("\u25cf", "\u25cb"), "s": ("\u25a0", "\u25a1"), "t": ("\u25bc", "\u25bd"),
            "t1": ("\u25b2", "\u25b3"), "d": ("\u25c6", "\u25c7"), None: ("", "")}
_SOLID, _DASHED = "\u2014", "\u254c"
_JOIN = "\u2060"           # WORD JOINER: no line break here


@dataclass(frozen=True)
class LegendEntry:
    text: str                   # the curve's name, plain text
    colour: str                 # its pen colour as drawn on a light background ("#0072b2")
    symbol: str | None = "o"    # pyqtgraph symbol name of its markers; None: a line alone
    dashed: bool = False
    hollow: bool = False        # markers filled with the background

    def html(self, colours: PlotColours) -> str:
        line = _DASHED if self.dashed else _SOLID
        marker = _MARKERS.get(self.symbol, _MARKERS["o"])[1 if self.hollow else 0]
        colour = colours.accent(self.colour).name()
        # an entry never wraps inside itself, only between entries: a dash allows a break after
        # it, so the glyphs are held together by word joiners, the name by no-break spaces
        glyphs = _JOIN.join(c for c in (line, marker, line) if c)
        name = html.escape(self.text).replace(" ", "&nbsp;")
        return f'<span style="color:{colour}"><b>{glyphs}</b></span>&nbsp;{name}'


class CurveLegend(QtWidgets.QLabel):
    """``set_entries(entries, note)``: one LegendEntry per curve, then an optional note line.
    Hidden while it has no entries (an empty legend is a stray box). The panel that owns it
    puts it above its plot and passes palette changes to ``set_colours``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self._entries: list[LegendEntry] = []
        self._note = ""
        self._colours = plot_colours(self.palette())
        self.hide()

    def entries(self) -> list[LegendEntry]:
        return list(self._entries)

    def set_entries(self, entries, note: str = "") -> None:
        self._entries, self._note = list(entries), note
        self._render()

    def set_colours(self, colours: PlotColours) -> None:
        self._colours = colours
        self._render()

    def _render(self) -> None:
        text = "&nbsp;&nbsp;&nbsp; ".join(e.html(self._colours) for e in self._entries)
        if self._note:
            text += f"<br>{html.escape(self._note)}"
        self.setText(text)
        self.setVisible(bool(self._entries))


class LegendPlot(ThemedWidget):
    """A panel of one pyqtgraph view with its CurveLegend above it and an EmptyPlotHint on its
    plot, both recoloured with the palette. A subclass builds its view and plot, calls
    ``stack`` and, once its curves exist, ``apply_theme``; its ``theme_changed`` calls this one."""

    def stack(self, view: pg.GraphicsView, plot: pg.PlotItem, hint: str, min_height: int) -> None:
        self.view = view
        self.legend = CurveLegend()
        self.empty_hint = EmptyPlotHint(plot, hint)
        self.empty_hint.set_empty(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.legend)
        layout.addWidget(view, 1)
        self.setMinimumHeight(min_height)

    def plot_views(self) -> list[pg.GraphicsView]:
        return [self.view]

    def theme_changed(self, colours: PlotColours) -> None:
        self.empty_hint.set_colours(colours)
        self.legend.set_colours(colours)
