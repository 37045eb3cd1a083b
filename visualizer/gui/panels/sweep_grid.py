"""Grid mode of a sweep column (sweep_view.py): one ty slice of the rotation x tx grid as a
heatmap, misclassified cells marked with x, the worst transform outlined; the slider picks
the slice."""

from __future__ import annotations

import math

import numpy as np

from visualizer.core.formatting import signed
from visualizer.gui.qt import QtCore

MAX_TICKS = 7


def grid_axis(values) -> tuple[np.ndarray, np.ndarray, list[tuple[float, str]]]:
    """(cell centres, cell edges, labelled ticks) for one sweep axis. Evenly spaced values are
    placed in their own units; uneven ones on an index axis labelled with the values."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 1:
        centres, edges = v, np.array([v[0] - 0.5, v[0] + 0.5])
    else:
        d = np.diff(v)
        if d[0] > 0 and np.allclose(d, d[0], rtol=1e-3, atol=1e-9):
            centres, edges = v, np.concatenate([[v[0] - d[0] / 2], v + d[0] / 2])
        else:
            centres = np.arange(v.size, dtype=float)
            edges = np.concatenate([[-0.5], centres + 0.5])
    step = max(1, math.ceil(v.size / MAX_TICKS))
    ticks = [(float(centres[i]), f"{v[i]:g}".replace("-", "\u2212")) for i in range(0, v.size, step)]
    return centres, edges, ticks


def floats(values) -> np.ndarray:
    """JSON nested lists with None (cells a cancelled sweep never reached) -> float array."""
    if values is None:
        return np.zeros(0)
    a = np.asarray(values, dtype=object)
    return np.where(np.equal(a, None), np.nan, a).astype(float)


class SweepGrid:
    """Mixed into SweepView: showing a grid sweep's record, slice by slice."""

    def _set_grid(self, sweep: dict, true_cls, worst_info: dict) -> None:
        self._rot = np.asarray(sweep.get("rotations"), dtype=float).ravel()
        self._tx = np.asarray(sweep.get("translations_x"), dtype=float).ravel()
        ty = floats(sweep.get("translations_y")).ravel()
        self._ty = ty if ty.size else np.zeros(1)
        self._rot_c, self._rot_e, rot_ticks = grid_axis(self._rot)
        self._tx_c, self._tx_e, tx_ticks = grid_axis(self._tx)
        prob = floats(sweep.get("grid_true_prob"))
        expected = (self._rot.size, self._tx.size, self._ty.size)
        if prob.shape != expected:
            raise ValueError(f"grid_true_prob has shape {prob.shape}, expected {expected}")
        self._prob = prob
        pred = floats(sweep.get("grid_pred")) if sweep.get("grid_pred") is not None else None
        self._pred = None
        self._pred_class = pred if pred is not None and pred.shape == prob.shape else None
        if pred is not None and true_cls is not None:
            self._pred = np.isfinite(pred) & (pred >= 0) & (pred != true_cls)   # misclassified cells
        self._worst_idx = None
        if all(worst_info.get(k) is not None for k in ("angle", "tx", "ty")):
            self._worst_idx = (int(np.argmin(np.abs(self._rot - float(worst_info["angle"])))),
                               int(np.argmin(np.abs(self._tx - float(worst_info["tx"])))),
                               int(np.argmin(np.abs(self._ty - float(worst_info["ty"])))))

        x0, x1, y0, y1 = self._tx_e[0], self._tx_e[-1], self._rot_e[0], self._rot_e[-1]
        self._heat_rect = QtCore.QRectF(x0, y0, x1 - x0, y1 - y0)
        self.heat_image.show()
        self.points.setData([], [])
        self.worst_point.setData([], [])
        self.plot.setLabel("bottom", "tx (px)")
        self.plot.getAxis("left").setTicks([rot_ticks])
        self.plot.getAxis("bottom").setTicks([tx_ticks])
        self.plot.vb.setLimits(xMin=x0, xMax=x1, yMin=y0, yMax=y1)
        self.plot.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

        n = self._ty.size
        self.slice_slider.blockSignals(True)
        self.slice_slider.setRange(0, n - 1)
        self.slice_slider.setValue(self._worst_idx[2] if self._worst_idx else n // 2)
        self.slice_slider.blockSignals(False)
        for w in (self.slice_slider, self.slice_label):
            w.setVisible(True)
        self.slice_slider.setEnabled(n > 1)
        self.axis_combo.setVisible(False)
        self._quiet = True              # opening a result is not the user moving the slider
        try:
            self._show_slice(self.slice_slider.value())
        finally:
            self._quiet = False

    def _show_slice(self, k: int) -> None:
        if self._mode != "grid" or self._prob is None:
            return
        k = int(np.clip(k, 0, self._ty.size - 1))
        # Rows = rotations (y), columns = tx (x): exactly the record's [:, :, k] slice.
        self.heat_image.setImage(np.ascontiguousarray(self._prob[:, :, k]), autoLevels=False, levels=(0.0, 1.0))
        self.heat_image.setRect(self._heat_rect)       # needs the image's size: after setImage
        if self._pred is not None:
            rows, cols = np.nonzero(self._pred[:, :, k])
            self.wrong_markers.setData(self._tx_c[cols], self._rot_c[rows])
        else:
            self.wrong_markers.setData([], [])
        on_worst = self._worst_idx is not None and self._worst_idx[2] == k
        if on_worst:
            ri, xi, _ = self._worst_idx
            self.worst_outline.setRect(self._cell_rect(ri, xi))
        self.worst_outline.setVisible(on_worst)
        self.selected_outline.hide()
        text = f"ty = {signed(self._ty[k], ' px')}"
        if self._ty.size > 1:
            text += f"  ({k + 1} of {self._ty.size})"
        self.slice_label.setText(text + ("  \u00b7 worst" if on_worst else ""))
        if not self._quiet:
            self.sliceChanged.emit(float(self._ty[k]))

    def _cell_rect(self, ri: int, xi: int) -> QtCore.QRectF:
        """The cell, inset a little so an outline on the grid's border is not half clipped."""
        w = self._tx_e[xi + 1] - self._tx_e[xi]
        h = self._rot_e[ri + 1] - self._rot_e[ri]
        return QtCore.QRectF(self._tx_e[xi] + 0.04 * w, self._rot_e[ri] + 0.04 * h, 0.92 * w, 0.92 * h)
