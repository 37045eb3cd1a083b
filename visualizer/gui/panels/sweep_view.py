"""One model's column for a spatial sweep: true-class probability over rotation x translation.

Grid mode shows one ty slice at a time (slider): rotation on the y axis, tx on the x axis,
misclassified cells marked with x, the worst transform outlined. Random mode shows the drawn
transforms as points (rotation against tx or ty). Clicking a cell or point emits
``cellClicked(angle, tx, ty)``; the main window computes that transform and hands it back
through ``show_transformed``. Records are the dicts of ``visualizer.core.results.sweep_record``.
"""

from __future__ import annotations

import html
import math

import numpy as np
from superqt import QElidingLabel

from visualizer.gui.dock_parts import ElidingLabel
from visualizer.gui.panels.colormaps import C_WORST, sequential_cmap
from visualizer.core.formatting import ellipsize, signed
from visualizer.gui.panels.image_views import ImageGridWidget, ImagePanel, link_views, to_display
from visualizer.gui.panels.model_view import ModelResultView
from visualizer.gui.panels.placeholder import EmptyPlotHint
from visualizer.gui.panels.readouts import CELL_HINT
from visualizer.gui.panels.sweep_pointer import SweepPointer
from visualizer.gui.panels.sweep_text import status_html, transform_text, worst_caption
from visualizer.gui.panels.theme import PlotColours
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal, pg

__all__ = ["SweepView", "grid_axis"]

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


def _floats(values) -> np.ndarray:
    """JSON nested lists with None (cells a cancelled sweep never reached) -> float array."""
    if values is None:
        return np.zeros(0)
    a = np.asarray(values, dtype=object)
    return np.where(np.equal(a, None), np.nan, a).astype(float)


class SweepView(SweepPointer, ModelResultView):
    cellClicked = Signal(float, float, float)      # angle (degrees), tx, ty (pixels)
    sliceChanged = Signal(float)                   # the user moved the ty slider to this ty (pixels)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._record: dict | None = None
        self._mode: str | None = None
        self._rot = self._tx = self._ty = np.zeros(0)       # grid values (record units)
        self._rot_e = self._tx_e = np.zeros(0)              # cell edges in plot coordinates
        self._rot_c = self._tx_c = np.zeros(0)              # cell centres in plot coordinates
        self._prob = self._pred = None                      # R x Tx x Ty
        self._worst_idx: tuple[int, int, int] | None = None
        self._samples = np.zeros((0, 3))
        self._sample_prob = self._sample_wrong = np.zeros(0)
        self._colours: PlotColours | None = None
        self._pred_class = None                             # R x Tx x Ty predicted classes
        self._sample_pred = np.zeros(0)
        self._quiet = False                                 # a slice set by code, not by the user
        self.class_name = None          # class index -> name (set by the tab); None: indices

        # Heatmap (grid) or scatter (random) with a 0..1 colour bar; every item made once here.
        self.heat = pg.GraphicsLayoutWidget()
        self.heat.ci.setContentsMargins(2, 2, 2, 2)
        self.plot = self.heat.addPlot(row=0, col=0)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "rotation (\u00b0)")
        self.plot.setLabel("bottom", "tx (px)")
        self.heat_image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.heat_image)
        self.wrong_markers = pg.ScatterPlotItem(symbol="x", size=11, pen=pg.mkPen("k", width=1),
                                                brush=pg.mkBrush("w"), pxMode=True)
        self.plot.addItem(self.wrong_markers)
        self.worst_outline = QtWidgets.QGraphicsRectItem()
        self.worst_outline.setPen(pg.mkPen(C_WORST, width=3))
        self.worst_outline.setZValue(10)
        self.plot.addItem(self.worst_outline)
        self.selected_outline = QtWidgets.QGraphicsRectItem()
        self.selected_outline.setZValue(11)
        self.plot.addItem(self.selected_outline)
        self.points = pg.ScatterPlotItem(size=9, pxMode=True)
        self.plot.addItem(self.points)
        self.worst_point = pg.ScatterPlotItem(symbol="o", size=18, pen=pg.mkPen(C_WORST, width=2.5),
                                              brush=pg.mkBrush(None), pxMode=True)
        self.plot.addItem(self.worst_point)
        self.colour_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=sequential_cmap(), width=10,
                                          interactive=False, label="P(true class)")
        self.colour_bar.setImageItem(self.heat_image, insert_in=self.plot)
        self.heat.scene().sigMouseClicked.connect(self._scene_clicked)
        self.heat.scene().sigMouseMoved.connect(self._scene_hovered)
        self.readout_label = QElidingLabel("")
        self.readout_label.setContentsMargins(4, 0, 4, 0)
        self.empty_hint = EmptyPlotHint(self.plot, "Run a spatial sweep: the true-class probability over "
                                        "rotation × shift appears here", also_hide=[self.colour_bar])
        self.heat.setMinimumHeight(160)

        # Elided in a narrow column (the whole text in its tooltip), so it neither sets the
        # column's minimum width nor squeezes the slider to nothing.
        self.slice_label = ElidingLabel(hint="The ty (vertical shift) slice of the grid shown; "
                                        "the slider moves every column's", asks_whole=True)
        self.slice_slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.slice_slider.setMinimumWidth(48)
        self.slice_slider.setPageStep(1)
        self.slice_slider.setTickPosition(QtWidgets.QSlider.TickPosition.TicksBelow)
        self.slice_slider.setTickInterval(1)
        self.slice_slider.valueChanged.connect(self._show_slice)
        self.axis_combo = QtWidgets.QComboBox()
        self.axis_combo.addItem("rotation vs tx", 1)
        self.axis_combo.addItem("rotation vs ty", 2)
        self.axis_combo.currentIndexChanged.connect(self._show_samples)
        controls = QtWidgets.QHBoxLayout()
        controls.setContentsMargins(4, 0, 4, 0)
        controls.addWidget(self.slice_label)
        controls.addWidget(self.slice_slider, 1)
        controls.addWidget(self.axis_combo)
        controls.addStretch(0)

        self.images = ImageGridWidget()
        lay = self.images.ci
        self.clean_panel = ImagePanel(lay, 0, 0, "Clean", caption=True)
        self.worst_panel = ImagePanel(lay, 0, 1, "Worst transform", caption=True)
        self.selected_panel = ImagePanel(lay, 0, 2, "Selected transform", caption=True)
        for col in range(3):
            lay.layout.setColumnStretchFactor(col, 1)
        link_views(self.image_views())
        self.images.set_grid(1, 3)


        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title_label)
        layout.addWidget(self.heat, 1)
        layout.addWidget(self.readout_label)
        layout.addLayout(controls)
        layout.addWidget(self.images)
        layout.addWidget(self.status_label)
        self.clear()
        self.apply_theme()

    # ------------------------------------------------------------------ public API

    def image_views(self) -> list[pg.ViewBox]:
        """Clean, worst and selected-transform views (linked to each other)."""
        return [self.clean_panel.view, self.worst_panel.view, self.selected_panel.view]

    def current_slice(self) -> int:
        """Index into ``translations_y`` of the ty slice shown (grid mode)."""
        return self.slice_slider.value()

    def set_slice(self, index: int) -> None:
        self.slice_slider.setValue(int(index))

    def current_ty(self) -> float | None:
        """The ty (pixels) of the slice shown; None outside grid mode."""
        return float(self._ty[self.current_slice()]) if self._mode == "grid" and self._ty.size else None

    def show_ty(self, ty: float) -> None:
        """Show the slice nearest ``ty`` pixels (another column's), without ``sliceChanged``."""
        if self._mode == "grid" and self._ty.size:
            self._quiet = True
            try:
                self.set_slice(int(np.argmin(np.abs(self._ty - float(ty)))))
            finally:
                self._quiet = False

    def show_result(self, record: dict, clean: np.ndarray, worst: np.ndarray) -> None:
        """A sweep record with the clean model input and the worst transformed image (C x H x W)."""
        self._record = record
        self.empty_hint.set_empty(False)
        sweep = record.get("sweep") or {}
        label = record.get("label") or {}
        worst_info = sweep.get("worst") or {}
        true_cls = label.get("class")
        self._mode = "grid" if sweep.get("grid_true_prob") is not None else "random"

        clean_d, worst_d = to_display(clean), to_display(worst)
        self.images.set_aspect(clean_d.shape[0] / clean_d.shape[1])
        self.clean_panel.set_image(clean_d)
        self.clean_panel.set_title(f"Clean \u2014 {label.get('label', '?')}")
        self.clean_panel.set_caption("true label" if label.get("source") == "given" else "predicted (reference)")
        self.worst_panel.set_image(worst_d)
        pred = worst_info.get("pred_label") or worst_info.get("pred", "?")
        self.worst_panel.set_title(f"Worst \u2014 {pred}")
        self.worst_panel.set_caption(worst_caption(worst_info))
        self.worst_panel.caption.set_hint(transform_text(worst_info.get("angle") or 0, worst_info.get("tx") or 0,
                                                            worst_info.get("ty") or 0))
        self.selected_panel.clear()
        self.selected_panel.set_caption("click the map")
        self.selected_outline.hide()
        self.colour_bar.getAxis("left").setLabel(f"P(true: {html.escape(ellipsize(label.get('label', '?'), 20))})")

        if self._mode == "grid":
            self._set_grid(sweep, true_cls, worst_info)
        else:
            self._set_random(sweep, true_cls, worst_info, record.get("parameters") or {})
        self.status_label.setText(self._status_html(record))
        self.readout_label.setText(CELL_HINT)
        self.apply_theme()        # the colour bar label is new text: give it the palette's colour

    def show_transformed(self, image: np.ndarray, caption: str) -> None:
        """The transform the user clicked, with its prediction (computed by the caller)."""
        self.selected_panel.set_image(to_display(image))
        self.selected_panel.set_title("Selected transform")
        self.selected_panel.set_caption(caption)

    def clear(self) -> None:
        self._record = None
        self._mode = None
        self.empty_hint.set_empty(True)
        self._prob = self._pred = self._pred_class = None
        self._worst_idx = None
        self._samples = np.zeros((0, 3))
        self.readout_label.setText("")
        self.heat_image.clear()
        self.wrong_markers.setData([], [])
        self.points.setData([], [])
        self.worst_point.setData([], [])
        self.worst_outline.hide()
        self.selected_outline.hide()
        for panel, title in ((self.clean_panel, "Clean"), (self.worst_panel, "Worst transform"),
                             (self.selected_panel, "Selected transform")):
            panel.clear()
            panel.set_title(title)
        self.slice_slider.blockSignals(True)
        self.slice_slider.setRange(0, 0)
        self.slice_slider.blockSignals(False)
        self.slice_label.setText("")
        self.slice_slider.setVisible(False)
        self.slice_label.setVisible(False)
        self.axis_combo.setVisible(False)
        self.colour_bar.getAxis("left").setLabel("P(true class)")    # not the previous image's class
        self.status_label.setText("")
        if self._theme_ready:
            self.apply_theme()        # the label is new text: give it the palette's colour

    # ------------------------------------------------------------------ theming

    def plot_views(self) -> list[pg.GraphicsView]:
        return [self.heat, self.images]

    def theme_changed(self, colours: PlotColours) -> None:
        self._colours = colours
        self.empty_hint.set_colours(colours)
        self.readout_label.setStyleSheet(f"color: {colours.muted.name()}")
        pen = pg.mkPen(colours.text, width=2, style=Qt.PenStyle.DashLine)
        self.selected_outline.setPen(pen)
        if self._record is not None:
            self.status_label.setText(self._status_html(self._record))     # its legend uses accents

    # ------------------------------------------------------------------ grid mode

    def _set_grid(self, sweep: dict, true_cls, worst_info: dict) -> None:
        self._rot = np.asarray(sweep.get("rotations"), dtype=float).ravel()
        self._tx = np.asarray(sweep.get("translations_x"), dtype=float).ravel()
        ty = _floats(sweep.get("translations_y")).ravel()
        self._ty = ty if ty.size else np.zeros(1)
        self._rot_c, self._rot_e, rot_ticks = grid_axis(self._rot)
        self._tx_c, self._tx_e, tx_ticks = grid_axis(self._tx)
        prob = _floats(sweep.get("grid_true_prob"))
        expected = (self._rot.size, self._tx.size, self._ty.size)
        if prob.shape != expected:
            raise ValueError(f"grid_true_prob has shape {prob.shape}, expected {expected}")
        self._prob = prob
        pred = _floats(sweep.get("grid_pred")) if sweep.get("grid_pred") is not None else None
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

    # ------------------------------------------------------------------ random mode

    def _set_random(self, sweep: dict, true_cls, worst_info: dict, params: dict) -> None:
        samples = _floats(sweep.get("samples")).reshape(-1, 3)
        prob = _floats(sweep.get("sample_true_prob")).ravel()
        pred = _floats(sweep.get("sample_pred")).ravel()
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

    # ------------------------------------------------------------------ text

    def _status_html(self, record: dict) -> str:
        worst_c = QtGui.QColor(C_WORST)
        if self._colours is not None:
            worst_c = self._colours.accent(C_WORST)
        grid = (self._rot.size, self._tx.size, self._ty.size) if self._mode == "grid" else None
        blank = self._mode == "grid" and self._prob is not None and bool(np.isnan(self._prob).any())
        return status_html(record, grid, len(self._samples), worst_c.name(), blank)
