"""Pointer handling of a sweep column (mixed into SweepView): a click on a grid cell or a
random draw asks for that transform (``cellClicked``), and hovering shows the transform under
the mouse, P(reference class) and the prediction there in the read-out line."""

from __future__ import annotations

import math

import numpy as np

from visualizer.gui.panels.readouts import CELL_HINT, sweep_readout
from visualizer.gui.qt import QtCore, Qt

__all__ = ["CLICK_RADIUS_PX", "SweepPointer"]

CLICK_RADIUS_PX = 12        # random mode: how near a click must be to a point


class SweepPointer:
    """Needs SweepView's state: ``_mode``, grid arrays (``_rot``, ``_tx``, ``_ty``, their
    edges, ``_prob``, ``_pred``, ``_pred_class``), random draws (``_samples``,
    ``_sample_prob``, ``_sample_wrong``, ``_sample_pred``), ``plot``, ``readout_label``."""

    def _scene_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._mode is None:
            return
        if self._mode == "grid":
            cell = self._cell_at(event.scenePos())
            if cell is not None:
                ri, xi = cell
                self.selected_outline.setRect(self._cell_rect(ri, xi))
                self.selected_outline.show()
                self.cellClicked.emit(float(self._rot[ri]), float(self._tx[xi]), float(self._ty[self.current_slice()]))
        else:
            i = self._sample_at(event.scenePos())
            if i is not None:
                self.cellClicked.emit(*(float(v) for v in self._samples[i]))

    def _scene_hovered(self, pos: QtCore.QPointF) -> None:
        """The read-out under the map: the transform under the mouse, P(reference) and the
        prediction there."""
        reference = (self._record or {}).get("label", {}).get("label", "?")
        text = CELL_HINT if self._mode is not None else ""
        if self._mode == "grid" and self._prob is not None:
            cell = self._cell_at(pos)
            if cell is not None:
                (ri, xi), k = cell, self.current_slice()
                pred = self._pred_class[ri, xi, k] if self._pred_class is not None else None
                text = sweep_readout(self._rot[ri], self._tx[xi], self._ty[k], float(self._prob[ri, xi, k]),
                                     reference, self._class_text(pred),
                                     None if self._pred is None else bool(self._pred[ri, xi, k]))
        elif self._mode == "random":
            i = self._sample_at(pos)
            if i is not None:
                pred = self._sample_pred[i] if self._sample_pred.size == len(self._samples) else None
                text = sweep_readout(*self._samples[i], float(self._sample_prob[i]), reference,
                                     self._class_text(pred), bool(self._sample_wrong[i]))
        self.readout_label.setText(text)

    def _class_text(self, pred) -> str | None:
        if pred is None or not np.isfinite(pred) or pred < 0:
            return None
        return self.class_name(int(pred)) if self.class_name is not None else str(int(pred))

    def _cell_at(self, pos: QtCore.QPointF) -> tuple[int, int] | None:
        """(rotation index, tx index) of the grid cell at scene position ``pos``."""
        if self._mode != "grid" or not self.plot.vb.sceneBoundingRect().contains(pos):
            return None
        point = self.plot.vb.mapSceneToView(pos)
        xi = int(np.searchsorted(self._tx_e, point.x()) - 1)
        ri = int(np.searchsorted(self._rot_e, point.y()) - 1)
        return (ri, xi) if 0 <= xi < self._tx.size and 0 <= ri < self._rot.size else None

    def _sample_at(self, pos: QtCore.QPointF) -> int | None:
        """The random draw drawn within CLICK_RADIUS_PX of scene position ``pos``."""
        if self._mode != "random" or not len(self._samples) or not self.plot.vb.sceneBoundingRect().contains(pos):
            return None
        col = int(self.axis_combo.currentData() or 1)
        vb = self.plot.vb
        # Distances in screen pixels: the axes have different units (degrees, pixels).
        pts = [vb.mapViewToScene(QtCore.QPointF(float(x), float(y)))
               for x, y in zip(self._samples[:, col], self._samples[:, 0])]
        d = np.array([math.hypot(p.x() - pos.x(), p.y() - pos.y()) for p in pts])
        i = int(np.argmin(d))
        return i if d[i] <= CLICK_RADIUS_PX else None
