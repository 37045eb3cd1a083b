"""Small pieces shared by the window's pyqtgraph plots."""

from __future__ import annotations

from visualizer.gui.qt import pg


def fixed_plot(view: pg.GraphicsLayoutWidget, bottom: str, left: str, y_range: tuple[float, float]) -> pg.PlotItem:
    """A plot the mouse does not pan or zoom (no buttons, no menu), a y grid, fixed y range."""
    plot = view.addPlot(row=0, col=0)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.vb.setMouseEnabled(x=False, y=False)
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    plot.showGrid(x=False, y=True, alpha=0.25)
    plot.setYRange(*y_range, padding=0)
    return plot
