"""Loss and class probabilities per iterate, on two y axes (loss left, probability right), fed
point by point while an attack runs and replaced by the record's full history at the end.

Points live in preallocated arrays and the three curves are updated with setData, so a live
update costs no allocation and creates no graphics items. While points come in, the loss
axis only grows, with room to spare (``_grow_y``): auto-ranging to every new point re-ticked
and re-laid out the axis on each redraw, a third of the GUI thread's work per progress
event (issue 16's stall target); the finished history is auto-ranged as before.

Iterates are numbered as the x axis shows them: 0 is the starting point, the last is
``total - 1`` (restarts included). Clicking or dragging on the plot asks for the iterate
under the pointer (``iterateRequested``); ``set_cursor`` marks the one shown."""

from __future__ import annotations

import numpy as np

from visualizer.core.attacks.params import objective_name
from visualizer.gui.panels.colormaps import C_REF, C_TGT
from visualizer.gui.panels.placeholder import EmptyPlotHint
from visualizer.gui.panels.theme import PlotColours, plot_colours
from visualizer.gui.qt import QtCore, Qt, Signal, pg

__all__ = ["HistoryPlot", "objective_label"]

MARKERS_UP_TO = 12      # few iterates (FGSM, short PGD): show each point
Y_HEADROOM = 0.5        # a live loss range grown past: widened by this share of its span beyond the data


def objective_label(targeted: bool) -> str:
    """What the loss axis shows: the objective the attack maximises (one rule with the figures)."""
    return objective_name(targeted)


class HistoryPlot(pg.PlotWidget):
    iterateRequested = Signal(int)       # a click or drag at this iterate (x axis value)

    def __init__(self, parent=None):
        super().__init__(parent)
        plot = self.getPlotItem()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.showAxis("right")
        plot.setLabel("bottom", "iterate")
        plot.setLabel("left", objective_label(False))
        # "loss (x0.001)" reads as a unit; plain small numbers are clearer.
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.vb.enableAutoRange(x=False, y=True)
        # Clicks and drags pick an iterate; no panning or zooming to fight them.
        plot.vb.setMouseEnabled(x=False, y=False)
        # Probabilities get their own ViewBox with a fixed 0..1 range, sharing the x axis.
        self.prob_view = pg.ViewBox(enableMenu=False)
        self.prob_view.setMouseEnabled(x=False, y=False)
        plot.scene().addItem(self.prob_view)
        plot.getAxis("right").linkToView(self.prob_view)
        self.prob_view.setXLink(plot.vb)
        self.prob_view.setYRange(-0.03, 1.03, padding=0)
        plot.vb.sigResized.connect(self._sync_views)

        self.loss_curve = plot.plot(name="loss")
        self.ref_curve = pg.PlotDataItem(name="P(reference)")
        self.target_curve = pg.PlotDataItem(name="P(target)")
        self.prob_view.addItem(self.ref_curve)
        self.prob_view.addItem(self.target_curve)
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        self.cursor.setZValue(20)
        self.cursor.hide()
        plot.addItem(self.cursor, ignoreBounds=True)

        self._x = np.zeros(64)
        self._loss = np.zeros(64)
        self._ref = np.zeros(64)
        self._tgt = np.zeros(64)
        self._n = 0
        self._has_target = False
        self._total = 0
        self._live_y: tuple[float, float] | None = None    # the loss range while points come in
        self.empty_hint = EmptyPlotHint(plot, "Loss and probabilities per iterate appear here during an attack")
        self.set_colours(plot_colours(self.palette()))
        self.setMinimumHeight(110)

    def _sync_views(self) -> None:
        self.prob_view.setGeometry(self.getPlotItem().vb.sceneBoundingRect())

    # ------------------------------------------------------------------ styling

    def set_colours(self, colours: PlotColours) -> None:
        """Curve pens and the coloured right-axis label; axes themselves come from the theme."""
        self._colours = colours
        self.empty_hint.set_colours(colours)
        ref, tgt = colours.accent(C_REF).name(), colours.accent(C_TGT).name()
        self.loss_curve.setPen(pg.mkPen(colours.text, width=1.5))
        self.loss_curve.setSymbolPen(pg.mkPen(colours.text))
        self.loss_curve.setSymbolBrush(colours.text)
        self.ref_curve.setPen(pg.mkPen(ref, width=1.5))
        self.ref_curve.setSymbolPen(pg.mkPen(ref))
        self.ref_curve.setSymbolBrush(ref)
        self.target_curve.setPen(pg.mkPen(tgt, width=1.5, style=Qt.PenStyle.DashLine))
        self.target_curve.setSymbolPen(pg.mkPen(tgt))
        self.target_curve.setSymbolBrush(tgt)
        self.cursor.setPen(pg.mkPen(colours.text, width=1, style=Qt.PenStyle.DotLine))
        self._update_right_label()

    def _update_right_label(self) -> None:
        ref, tgt = self._colours.accent(C_REF).name(), self._colours.accent(C_TGT).name()
        text = f"<span style='color:{ref}'>P(reference)</span>"
        if self._has_target:      # short: the label must fit a low plot's height
            text = f"<span style='color:{ref}'>P(ref.)</span> / <span style='color:{tgt}'>P(target)</span>"
        self.getPlotItem().setLabel("right", text)

    # ------------------------------------------------------------------ data

    def reset(self, total: int = 0) -> None:
        self._n = 0
        self._auto_y()
        self._total = int(total)
        self._has_target = False
        self.cursor.hide()
        for curve in (self.loss_curve, self.ref_curve, self.target_curve):
            curve.setData([], [])
        self._set_markers(0 < total <= MARKERS_UP_TO)
        self._update_right_label()
        self.empty_hint.set_empty(not total)
        if total:
            self._fit_x(total)

    def append(self, step: int, loss: float, ref_prob: float, target_prob: float | None, total: int = 0,
               redraw: bool = True) -> None:
        """One more point; ``redraw`` False only records it (drawn with the next redraw)."""
        if total and total != self._total:
            self._total = int(total)
            self._set_markers(self._total <= MARKERS_UP_TO)
            self._fit_x(self._total)
        if self._n == self._x.size:
            for name in ("_x", "_loss", "_ref", "_tgt"):
                old = getattr(self, name)
                setattr(self, name, np.concatenate([old, np.zeros_like(old)]))
        i = self._n
        self.empty_hint.set_empty(False)
        self._x[i], self._loss[i], self._ref[i] = step, loss, ref_prob
        self._tgt[i] = np.nan if target_prob is None else target_prob
        self._n += 1
        if target_prob is not None and not self._has_target:
            self._has_target = True
            self._update_right_label()
        if redraw:
            self.redraw_curves()

    def redraw_curves(self) -> None:
        """Draw every point recorded so far."""
        n = self._n
        self.loss_curve.setData(self._x[:n], self._loss[:n])
        self.ref_curve.setData(self._x[:n], self._ref[:n])
        if self._has_target:
            self.target_curve.setData(self._x[:n], self._tgt[:n])
        self._grow_y(self._loss[:n])

    def _grow_y(self, loss: np.ndarray) -> None:
        """The live loss range: unchanged while the points fit, else grown past them with
        headroom, so the axis is re-ticked a few times per run instead of at every redraw."""
        finite = loss[np.isfinite(loss)]
        if not finite.size:
            return
        lo, hi = float(finite.min()), float(finite.max())
        if self._live_y is not None:
            if self._live_y[0] <= lo and hi <= self._live_y[1]:
                return
            lo, hi = min(lo, self._live_y[0]), max(hi, self._live_y[1])
        span = hi - lo if hi > lo else max(abs(hi), 1e-9)
        low, high = lo - Y_HEADROOM * span, hi + Y_HEADROOM * span
        if lo >= 0:          # a cross-entropy is never negative, minus one never positive: no room shown there
            low = max(low, 0.0)
        if hi <= 0:
            high = min(high, 0.0)
        if high <= low:      # all zero
            low, high = lo - 0.5, hi + 0.5
        self._live_y = (low, high)
        self.getPlotItem().vb.setYRange(*self._live_y, padding=0)

    def _auto_y(self) -> None:
        """Back to auto-ranging the loss axis on the data (a finished or cleared history)."""
        self._live_y = None
        self.getPlotItem().vb.enableAutoRange(y=True)

    def set_history(self, loss, ref_prob, target_prob=None) -> None:
        """The whole history at once (a record's ``history``); None entries become gaps."""
        loss = _floats(loss)
        ref = _floats(ref_prob)
        tgt = _floats(target_prob) if target_prob is not None else None
        n = max(loss.size, ref.size, 0 if tgt is None else tgt.size)
        self._n = 0
        self._auto_y()
        self.empty_hint.set_empty(n == 0)
        self.cursor.hide()
        self._has_target = tgt is not None and tgt.size > 0
        self._set_markers(0 < n <= MARKERS_UP_TO)
        self.loss_curve.setData(np.arange(loss.size), loss)
        self.ref_curve.setData(np.arange(ref.size), ref)
        if self._has_target:
            self.target_curve.setData(np.arange(tgt.size), tgt)
        else:
            self.target_curve.setData([], [])
        self._update_right_label()
        self._fit_x(n)

    def set_objective(self, targeted: bool) -> None:
        """Label the loss axis with what is plotted (minus the target's cross-entropy for a
        targeted attack: negative, rising to 0 as the target becomes certain)."""
        self.getPlotItem().setLabel("left", objective_label(targeted))

    def set_cursor(self, index: int | None) -> None:
        """Mark iterate ``index`` (None: no mark)."""
        if index is None:
            self.cursor.hide()
        else:
            self.cursor.setValue(float(index))
            self.cursor.show()

    def cursor_index(self) -> int | None:
        return int(round(self.cursor.value())) if self.cursor.isVisible() else None

    def iterate_at(self, pos: QtCore.QPointF) -> int | None:
        """The iterate under widget position ``pos`` (nearest plotted x), None off the data."""
        n = self.point_count()
        vb = self.getPlotItem().vb
        scene = self.mapToScene(pos.toPoint())
        if n == 0 or not vb.sceneBoundingRect().contains(scene):
            return None
        x = vb.mapSceneToView(scene).x()
        return int(min(max(round(x), 0), n - 1))

    def mousePressEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        if ev.button() == Qt.MouseButton.LeftButton and self._request(ev.position()):
            ev.accept()
            return
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802 (Qt name)
        if ev.buttons() & Qt.MouseButton.LeftButton and self._request(ev.position()):
            ev.accept()
            return
        super().mouseMoveEvent(ev)

    def _request(self, pos: QtCore.QPointF) -> bool:
        index = self.iterate_at(pos)
        if index is None:
            return False
        self.iterateRequested.emit(index)
        return True

    def point_count(self) -> int:
        """Points on the loss curve."""
        x, _ = self.loss_curve.getData()
        return 0 if x is None else len(x)

    def _set_markers(self, on: bool) -> None:
        for curve in (self.loss_curve, self.ref_curve, self.target_curve):
            curve.setSymbol("o" if on else None)
            curve.setSymbolSize(5)

    def _fit_x(self, n: int) -> None:
        # The whole run's width from the start, so the live curve grows instead of rescaling;
        # whole-number ticks when there are few iterates (no "0.5 iterate").
        self.getPlotItem().vb.setXRange(0, max(n - 1, 1), padding=0.03)
        axis = self.getPlotItem().getAxis("bottom")
        if n <= MARKERS_UP_TO:
            axis.setTickSpacing(major=max(1, (n - 1) // 6 + 1), minor=1)
        else:
            axis.setTickSpacing()


def _floats(values) -> np.ndarray:
    if values is None:
        return np.zeros(0)
    a = np.asarray(values, dtype=object)
    return np.where(np.equal(a, None), np.nan, a).astype(float).ravel()
