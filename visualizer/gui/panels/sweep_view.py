"""One model's column for a spatial sweep: true-class probability over rotation x translation.

Grid mode shows one ty slice at a time (slider): rotation on the y axis, tx on the x axis,
misclassified cells marked with x, the worst transform outlined. Random mode shows the drawn
transforms as points (rotation against tx or ty). Clicking a cell or point emits
``cellClicked(angle, tx, ty)``; the main window computes that transform and hands it back
through ``show_transformed``. Records are the dicts of ``visualizer.core.results.sweep_record``.

Its parts: sweep_grid.py (grid mode), sweep_random.py (random mode), sweep_pointer.py
(clicks and hover read-outs), sweep_text.py (captions and the status line).
"""

from __future__ import annotations

import html

import numpy as np

from visualizer.core.formatting import ellipsize
from visualizer.gui.dock_parts import ElidedLabel, ElidingLabel
from visualizer.gui.panels.colormaps import C_WORST, sequential_cmap
from visualizer.gui.panels.image_views import ImageGridWidget, ImagePanel, link_views, to_display
from visualizer.gui.panels.model_view import ModelResultView
from visualizer.gui.panels.placeholder import EmptyPlotHint
from visualizer.gui.panels.readouts import CELL_HINT
from visualizer.gui.panels.sweep_grid import SweepGrid, grid_axis
from visualizer.gui.panels.sweep_pointer import SweepPointer
from visualizer.gui.panels.sweep_random import SweepRandom
from visualizer.gui.panels.sweep_text import status_html, transform_text, worst_caption
from visualizer.gui.panels.theme import PlotColours
from visualizer.gui.qt import QtGui, QtWidgets, Qt, Signal, pg
from visualizer.gui.view_images import ViewImage

__all__ = ["SweepView", "grid_axis"]


class SweepView(SweepGrid, SweepRandom, SweepPointer, ModelResultView):
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
        self.heat_image = ViewImage(axisOrder="row-major")
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
        self.readout_label = ElidedLabel("")
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

    # ------------------------------------------------------------------ text

    def _status_html(self, record: dict) -> str:
        worst_c = QtGui.QColor(C_WORST)
        if self._colours is not None:
            worst_c = self._colours.accent(C_WORST)
        grid = (self._rot.size, self._tx.size, self._ty.size) if self._mode == "grid" else None
        blank = self._mode == "grid" and self._prob is not None and bool(np.isnan(self._prob).any())
        return status_html(record, grid, len(self._samples), worst_c.name(), blank)
