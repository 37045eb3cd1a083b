"""Random mode of a sweep column (sweep_view.py): the drawn transforms as points (rotation
against tx or ty), coloured by the true-class probability, misclassified ones as x."""

from __future__ import annotations

import numpy as np

from visualizer.gui.panels.colormaps import sequential_cmap
from visualizer.gui.panels.sweep_grid import floats
from visualizer.gui.qt import pg


class SweepRandom:
    """Mixed into SweepView: showing a worst-of-k sweep's record."""

    def _set_random(self, sweep: dict, true_cls, worst_info: dict, params: dict) -> None:
        samples = floats(sweep.get("samples")).reshape(-1, 3)
        prob = floats(sweep.get("sample_true_prob")).ravel()
        pred = floats(sweep.get("sample_pred")).ravel()
        self._sample_pred = pred
        self._samples = samples
        self._sample_prob = prob if prob.size == len(samples) else np.full(len(samples), np.nan)
        self._sample_wrong = (np.isfinite(pred) & (pred >= 0) & (pred != true_cls)
                              if pred.size == len(samples) and true_cls is not None else np.zeros(len(samples), bool))
        self._worst_info = worst_info
        self._prob = None
        self.heat_image.clear()
        self.heat_image.hide()
        self.wrong_markers.setData([], [])
        self.worst_outline.hide()
        self.plot.getAxis("left").setTicks(None)
        self.plot.getAxis("bottom").setTicks(None)
        rot = float(params.get("max_rotation") or np.nanmax(np.abs(samples[:, 0]), initial=1.0))
        shift = float(params.get("max_translation") or np.nanmax(np.abs(samples[:, 1:]), initial=1.0))
        self._random_range = (rot, shift)
        for w in (self.slice_slider, self.slice_label):
            w.setVisible(False)
        self.axis_combo.setVisible(True)
        self._show_samples()

    def _show_samples(self, *_args) -> None:
        if self._mode != "random":
            return
        col = int(self.axis_combo.currentData() or 1)
        s = self._samples
        cmap = sequential_cmap()
        colours = cmap.map(np.nan_to_num(self._sample_prob, nan=0.0), mode=pg.ColorMap.QCOLOR)
        symbols = ["x" if w else "o" for w in self._sample_wrong]
        sizes = [13 if w else 9 for w in self._sample_wrong]          # an x needs more room to read
        outline = pg.mkPen(self._colours.text if self._colours else "k", width=0.8)
        self.points.setData(x=s[:, col], y=s[:, 0], brush=colours, symbol=symbols, size=sizes, pen=outline)
        w = self._worst_info or {}
        name = "tx" if col == 1 else "ty"
        if w.get("angle") is not None and w.get(name) is not None:
            self.worst_point.setData([float(w[name])], [float(w["angle"])])
        else:
            self.worst_point.setData([], [])
        self.plot.setLabel("bottom", f"{name} (px)")
        rot, shift = self._random_range
        pad_r, pad_s = 0.05 * rot + 0.5, 0.05 * shift + 0.5
        self.plot.vb.setLimits(xMin=-shift - pad_s, xMax=shift + pad_s, yMin=-rot - pad_r, yMax=rot + pad_r)
        self.plot.vb.setRange(xRange=(-shift - pad_s, shift + pad_s), yRange=(-rot - pad_r, rot + pad_r), padding=0)
