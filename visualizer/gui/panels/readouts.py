"""Hover read-outs: which image pixel the mouse is over, and what the panels say about it
(pixel values and the perturbation in grey levels and eps; a sweep cell's probability and
prediction). The texts are plain functions; ``HoverTracker`` turns mouse moves over image
views into (view index, column, row)."""

from __future__ import annotations

import math

import numpy as np

from visualizer.core.formatting import prob_text, signed
from visualizer.core.perturbation_scale import PerturbationScale, delta_text
from visualizer.gui.qt import QtCore, Signal, pg

__all__ = ["HoverTracker", "pixel_readout", "sweep_readout"]

DEGREE = "\u00b0"
PIXEL_HINT = "Hover an image to read its pixel values"
CELL_HINT = "Hover the map to read a transform's probability and prediction"


def _values(chw: np.ndarray, x: int, y: int) -> str:
    v = chw[:, y, x]
    return f"{v[0]:.3f}" if v.size == 1 else "(" + ", ".join(f"{c:.2f}" for c in v) + ")"


def pixel_readout(x: int, y: int, clean: np.ndarray, adversarial: np.ndarray | None,
                  scale: PerturbationScale | None) -> str:
    """``clean``, ``adversarial``: C x H x W in [0, 1]; (x, y): column and row. The
    perturbation is the channel mean, as the perturbation panel draws it."""
    text = f"x {x}, y {y} \u00b7 clean {_values(clean, x, y)}"
    if adversarial is not None:
        delta = float(np.mean(adversarial[:, y, x] - clean[:, y, x]))
        what = "mean \u03b4" if clean.shape[0] > 1 else "\u03b4"
        text += f" \u2192 adversarial {_values(adversarial, x, y)} \u00b7 {what} {delta_text(delta, scale)}"
    return text


def sweep_readout(angle: float, tx: float, ty: float, prob: float, reference: str, predicted: str | None,
                  wrong: bool | None) -> str:
    """One transform of a sweep: where it is, P(reference class), and the prediction there."""
    where = f"rot {signed(angle, DEGREE)}, tx {signed(tx)}, ty {signed(ty)} px"
    if prob is None or not math.isfinite(prob):
        return f"{where} \u00b7 not evaluated"
    text = f"{where} \u00b7 P({reference}) {prob_text(prob)}"
    if predicted is not None:
        text += f" \u00b7 predicted {predicted}"
        if wrong is not None:
            text += " (misclassified)" if wrong else " (correct)"
    return text


class HoverTracker(QtCore.QObject):
    """Reports the image pixel under the mouse across ``views`` (ImagePanel view boxes, in
    one or several GraphicsLayoutWidgets): ``hovered((view index, column, row))``, or
    ``hovered(None)`` off every image. ``shape(i)`` gives view i's image (height, width),
    or None when it shows nothing."""

    hovered = Signal(object)

    def __init__(self, widgets: list[pg.GraphicsView], views: list[pg.ViewBox], shape, parent=None):
        super().__init__(parent)
        self._views = views
        self._shape = shape
        self._last = None
        for w in widgets:
            w.scene().sigMouseMoved.connect(lambda pos, s=w.scene(): self._moved(s, pos))
            w.installEventFilter(self)

    def _moved(self, scene, pos: QtCore.QPointF) -> None:
        found = None
        for i, view in enumerate(self._views):
            if view.scene() is not scene or not view.sceneBoundingRect().contains(pos):
                continue
            shape = self._shape(i)
            point = view.mapSceneToView(pos)
            col, row = int(math.floor(point.x())), int(math.floor(point.y()))
            if shape is not None and 0 <= row < shape[0] and 0 <= col < shape[1]:
                found = (i, col, row)
            break
        self._emit(found)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QtCore.QEvent.Type.Leave:
            self._emit(None)
        return False

    def _emit(self, value) -> None:
        if value != self._last:
            self._last = value
            self.hovered.emit(value)
