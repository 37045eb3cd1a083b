"""All models' saliency maps for one image, side by side on ONE colour scale (one ColorBarItem
drives every map), so a robust and a standard model can be compared by eye.

"Each model's own scale" divides every map by that model's own scale instead: the honest
comparison of magnitudes is the shared scale (a robust model's gradients are several
times smaller), but a faint map's structure only shows on its own. So on the shared scale,
a map whose own scale is under a third of the shared one (``core.saliency.faint_maps``) is shown a second time, after the
others, on its own scale (its title says so): both scales side by side, never a blank robust
map beside a vivid standard one.

Maps are H x W on the original image grid, NaN outside a model's input crop (drawn
transparent). The overlay switch shows the maps over a grayscale copy of the image with
opacity growing with |saliency|; it only swaps lookup tables, the levels never change.
Records are the dicts of ``visualizer.core.results.saliency_record``. A map whose gradient
was NaN is not drawn (its panel says "no gradient (NaN)"), an all-zero one says so over it,
and Integrated Gradients maps carry their completeness gap in the title; the record's
warnings are listed under the maps.
"""

from __future__ import annotations

import html
import math

import numpy as np

from visualizer.core.formatting import completeness_text, gradient_text
from visualizer.core.saliency import faint_maps
from visualizer.gui.panels.colormaps import diverging_cmap, magnitude_cmap, overlay_lut
from visualizer.gui.panels.image_views import ImageGridWidget, ImagePanel, link_views, to_display
from visualizer.gui.panels.theme import ThemedWidget
from visualizer.gui.qt import QtWidgets, Qt, pg
from visualizer.gui.view_images import ViewImage

__all__ = ["SaliencyView"]

MAX_COLUMNS = 4           # at most this many panels in a row, however wide the tab
NEUTRAL = 0.72          # grey behind maps outside a model's crop, as C_BAD in the figures
EMPTY_HINT = "No maps yet: choose Saliency under Run, then Run on all (every model's map, one scale)."
METHOD_NAMES = {"vanilla": "Vanilla gradient", "smoothgrad": "SmoothGrad", "ig": "Integrated Gradients"}


def _gray(image: np.ndarray) -> np.ndarray:
    """Luminance squeezed into 0.15..0.85 so coloured map pixels stand out on it (as in the
    exported overlay figure)."""
    lum = image @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if image.ndim == 3 else image
    return (0.15 + 0.7 * lum).astype(np.float32)


def _finite_positive(value) -> float:
    """A map's own scale, or 1 where it is missing or zero (an all-zero map stays zero)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 1.0
    return v if math.isfinite(v) and v > 0 else 1.0


class SaliencyView(ThemedWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._record: dict | None = None
        self._panels: list[ImagePanel] = []       # [image, map 1, ..., map n, faint maps on their own scale]
        self._bases: list[pg.ImageItem] = []      # grayscale image under each map (overlay)
        self._states: list[pg.TextItem] = []      # "no gradient (NaN)" over each map, when so
        self._absolute = False
        self._cmap = diverging_cmap()
        self._gray = self._neutral = None         # H x W arrays drawn under the maps
        self._maps: list[np.ndarray] = []
        self._n_maps = 0                          # maps the panels were built for (kept by clear)
        self._entries: list[dict] = []
        self._scale = 1.0                         # the shared scale
        self._columns = 0                         # panels per row (see _best_columns)
        self._image = None                        # H x W x 3, as given to show_result

        self.header_label = QtWidgets.QLabel()
        self.header_label.setWordWrap(True)
        self.overlay_box = QtWidgets.QCheckBox("Overlay on image")
        self.overlay_box.setToolTip("Show the maps over a grayscale copy of the image, "
                                    "more opaque where |saliency| is larger")
        self.overlay_box.toggled.connect(self._apply_overlay)
        self.own_scale_box = QtWidgets.QCheckBox("Each model's own scale")
        self.own_scale_box.setToolTip("Scale every map to its own 99.5th percentile of |saliency| to see the "
                                      "structure of faint maps. Magnitudes are then no longer comparable: "
                                      "the shared scale is the fair comparison.")
        self.own_scale_box.toggled.connect(self._apply_scale)
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(4, 0, 4, 0)
        top.addWidget(self.header_label, 1)
        top.addWidget(self.own_scale_box, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.overlay_box, 0, Qt.AlignmentFlag.AlignTop)

        self.maps = ImageGridWidget()
        self.colour_bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=self._cmap, width=10, interactive=False,
                                          label="saliency (shared scale)")
        self.note_label = QtWidgets.QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setTextFormat(Qt.TextFormat.RichText)     # warnings are escaped, lines joined by <br>
        self.note_label.setContentsMargins(4, 0, 4, 2)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.maps)
        layout.addWidget(self.note_label)
        layout.addStretch(1)
        self.clear()
        self.apply_theme()

    # ------------------------------------------------------------------ public API

    def image_views(self) -> list[pg.ViewBox]:
        """The image's view and every map's view (all linked)."""
        return [p.view for p in self._panels]

    def map_items(self) -> list[pg.ImageItem]:
        """One image item per model's map, all on the colour bar's levels."""
        return [p.image for p in self._panels[1:1 + self._n_maps]]

    def own_scale_items(self) -> list[pg.ImageItem]:
        """The faint maps repeated on their own scale (shared-scale view only), in map order."""
        return [p.image for p in self._panels[1 + self._n_maps:]]

    def _faint(self) -> list[int]:
        """Maps to repeat on their own scale: on the shared scale only, and only the faint ones."""
        if self.own_scale_box.isChecked():
            return []
        return faint_maps(self._entries, self._scale)

    def show_result(self, record: dict, image: np.ndarray, maps: list[np.ndarray], overlay: bool = False) -> None:
        """``image`` H x W x 3 in [0, 1]; ``maps`` one H x W array per ``record["saliency"]["maps"]``."""
        sal = record.get("saliency") or {}
        entries = list(sal.get("maps") or [])
        maps = [np.asarray(m, dtype=np.float32) for m in maps]
        if len(maps) != len(entries):
            raise ValueError(f"{len(maps)} maps given but the record describes {len(entries)}")
        img = to_display(image)
        for m in maps:
            if m.shape != img.shape[:2]:
                raise ValueError(f"saliency map shape {m.shape} does not match the image {img.shape[:2]}")
        self._record = record
        scale = float(sal.get("shared_scale") or 0.0)
        if not math.isfinite(scale) or scale <= 0:
            scale = 1.0
        absolute = bool(sal.get("absolute"))

        self._maps, self._entries, self._scale, self._n_maps = maps, entries, scale, len(maps)
        shown = len(maps) + len(self._faint())
        cols = self._best_columns(shown + 1, img.shape[0] / img.shape[1])
        if len(self._panels) != shown + 1 or cols != self._columns:
            self._build(shown, cols)
        if absolute != self._absolute:
            self._absolute = absolute
            self._cmap = magnitude_cmap() if absolute else diverging_cmap()
            self.colour_bar.setColorMap(self._cmap)

        h, w = img.shape[:2]
        self.maps.set_aspect(h / w)
        self._panels[0].set_image(img)
        self._panels[0].set_title(f"Image \u2014 {w} \u00d7 {h} px")
        self._gray = _gray(img)
        self._neutral = np.full((h, w), NEUTRAL, dtype=np.float32)
        self._maps, self._entries, self._scale, self._image = maps, entries, scale, image
        self._apply_scale(self.own_scale_box.isChecked())
        # Grey outside a crop needs a note; a NaN gradient's panel says so itself.
        self._has_nan = any(bool(np.isnan(m).any()) for m, e in zip(maps, entries) if e.get("gradient", "ok") == "ok")
        self.overlay_box.blockSignals(True)
        self.overlay_box.setChecked(overlay)
        self.overlay_box.blockSignals(False)
        self._apply_overlay(overlay)
        self.apply_theme()

    def clear(self) -> None:
        self._record = None
        self._maps, self._entries = [], []
        self._has_nan = False
        for panel in self._panels:
            panel.clear()
        for base in self._bases:
            base.clear()
        for state in self._states:
            state.setVisible(False)
        self._gray = self._neutral = None
        self.header_label.setText(EMPTY_HINT)
        self.note_label.setText("")

    # ------------------------------------------------------------------ helpers

    def plot_views(self) -> list[pg.GraphicsView]:
        return [self.maps]

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        """Panels re-flow to stay as large as the tab allows (one row when wide, a grid when
        tall): the maps fill the tab, not a strip at its top."""
        super().resizeEvent(event)
        if self._record is not None and self._maps:
            h, w = self._maps[0].shape
            if self._best_columns(len(self._panels), h / w) != self._columns:
                self.show_result(self._record, self._image, self._maps, self.overlay_box.isChecked())

    def _best_columns(self, panels: int, aspect: float) -> int:
        """The number of columns that makes ``panels`` images of height/width ``aspect``
        largest in the space this view has below its header."""
        width = max(self.width() - self.colour_bar.axis.width() - 40, 50)
        height = max(self.height() - self.header_label.sizeHint().height() - 2 * self.note_label.sizeHint().height(),
                     50)
        line = self.fontMetrics().height() + 10           # a panel's title
        best, best_cell = 1, -1.0
        for cols in range(1, min(panels, MAX_COLUMNS) + 1):
            rows = math.ceil(panels / cols)
            cell = min(width / cols - 4, (height / rows - line) / aspect)
            if cell > best_cell + 0.5:
                best, best_cell = cols, cell
        return best

    def _build(self, n_maps: int, cols: int) -> None:
        """(Re)create the panels for ``n_maps`` maps in ``cols`` columns: only when the number
        of models or the arrangement changes."""
        lay = self.maps.ci
        lay.clear()
        self._panels, self._bases, self._states = [], [], []
        self._columns = cols
        rows = math.ceil((n_maps + 1) / cols)
        for i in range(n_maps + 1):
            r, c = divmod(i, cols)
            panel = ImagePanel(lay, 2 * r, c)
            if i > 0:
                base = ViewImage(axisOrder="row-major")
                base.setZValue(-1)
                panel.view.addItem(base)
                self._bases.append(base)
                state = pg.TextItem(anchor=(0.5, 0.5), color="k", fill=pg.mkBrush(255, 255, 255, 230),
                                    border=pg.mkPen("#9a6700"))
                state.setZValue(10)
                panel.view.addItem(state)
                self._states.append(state)
            self._panels.append(panel)
        for c in range(cols):
            lay.layout.setColumnStretchFactor(c, 1)
        for r in range(rows):      # height goes to the images, not to the titles between them
            lay.layout.setRowStretchFactor(2 * r, 0)
            lay.layout.setRowStretchFactor(2 * r + 1, 1)
            for panel in self._panels[r * cols:(r + 1) * cols]:
                panel.title.setMaximumHeight(panel.title.minimumHeight())
        lay.addItem(self.colour_bar, row=1, col=cols, rowspan=2 * rows - 1)
        self.colour_bar.setImageItem(self.map_items())
        link_views(self.image_views())
        self.maps.set_grid(rows, cols, reserved_width=self.colour_bar.axis.width() + 40, text_rows=1)

    def _apply_scale(self, own: bool) -> None:
        """Draw the maps on the shared scale, or each divided by its model's own scale."""
        if not self._maps:
            return
        if len(self._panels) != len(self._maps) + len(self._faint()) + 1:    # repeats appear or go
            self.show_result(self._record, self._image, self._maps, self.overlay_box.isChecked())
            return
        sal = (self._record or {}).get("saliency") or {}
        absolute = self._absolute
        levels = ((0.0, 1.0) if absolute else (-1.0, 1.0)) if own else \
            ((0.0, self._scale) if absolute else (-self._scale, self._scale))
        for panel, state, m, entry in zip(self._panels[1:], self._states, self._maps, self._entries):
            own_scale = _finite_positive(entry.get("own_scale"))
            broken = gradient_text(entry)
            if entry.get("gradient") == "nan":
                m = np.full_like(m, np.nan)        # never draw a partly NaN gradient as a map
            panel.set_image(m / own_scale if own else m, levels=levels)
            state.setText(broken)
            state.setVisible(bool(broken))
            state.setPos(m.shape[1] / 2, m.shape[0] / 2)
            title = f"{entry.get('model', '?')} \u2014 {entry.get('label', entry.get('class', '?'))}"
            if own:
                title += f" (\u00b1{own_scale:.3g})" if not absolute else f" (0 \u2026 {own_scale:.3g})"
            gap, _flagged = completeness_text(entry)
            if gap:
                title += f" \u00b7 {gap}"
            panel.set_title(title)
            source = "given label" if entry.get("label_source") == "given" else "model's top-1"
            panel.title.set_hint(f"{title} (class {entry.get('class')}, {source}); "
                                 f"this model's own scale \u00b1{own_scale:.3g}, shared \u00b1{self._scale:.3g}")
        self.colour_bar.setLevels(levels)   # one bar, one set of levels for every map
        quantity = "|saliency|" if absolute else "saliency"
        self.colour_bar.getAxis("left").setLabel(f"{quantity} / own scale" if own else f"{quantity} (shared scale)")
        method = METHOD_NAMES.get(sal.get("method"), str(sal.get("method", "?")))
        if own:
            what = "each map on its own model's scale (magnitudes not comparable)"
        else:
            limits = f"0 \u2026 {self._scale:.3g}" if absolute else f"\u00b1{self._scale:.3g}"
            what = f"one colour scale for all models: {limits}"
        self.header_label.setText(f"<b>{method} saliency</b> \u00b7 {what}")
        self._draw_own_scale_repeats()

    def _draw_own_scale_repeats(self) -> None:
        """The faint maps again, each on its own levels (not the colour bar's)."""
        faint = self._faint()
        for state in self._states[len(self._maps):]:
            state.setVisible(False)
        for panel, i in zip(self._panels[1 + len(self._maps):], faint):
            entry, own_scale = self._entries[i], _finite_positive(self._entries[i].get("own_scale"))
            levels = (0.0, own_scale) if self._absolute else (-own_scale, own_scale)
            panel.set_image(self._maps[i], levels=levels)
            limits = f"0 … {own_scale:.3g}" if self._absolute else f"±{own_scale:.3g}"
            title = f"{entry.get('model', '?')} — its own scale {limits}"
            panel.set_title(title)
            panel.title.set_hint(f"{title}: {own_scale / self._scale:.0%} of the shared scale, too faint to see "
                                 "there; the colours here are not comparable with the other maps'")
        if faint:
            names = ", ".join(str(self._entries[i].get("model", "?")) for i in faint)
            self.header_label.setText(self.header_label.text() + f"; faint on it, repeated on its own scale: {names}")

    def _apply_overlay(self, on: bool) -> None:
        """Swap lookup tables and what lies under the maps; the levels (the shared scale) stay
        as they are. Under the maps: a grayscale image (overlay) or neutral grey, which shows
        through NaN pixels outside a model's crop."""
        under = self._gray if on else self._neutral
        for base in self._bases:
            if under is not None:
                base.setImage(under, autoLevels=False, levels=(0.0, 1.0))
        lut = overlay_lut(self._cmap, signed=not self._absolute) if on else self._cmap.getLookupTable(nPts=256)
        for item in self.map_items() + self.own_scale_items():
            item.setLookupTable(lut)
        notes = []
        if on:
            notes.append("maps over a grayscale copy of the image, opacity \u221d |saliency|")
        elif self._has_nan:
            notes.append("grey: outside that model's input crop")
        if self._absolute:
            notes.append("absolute values")
        lines = ["; ".join(notes)] if notes else []
        if any(completeness_text(e)[0] for e in self._entries):
            lines.append("gap: how far the map's sum is from f(image) \u2212 f(black) (completeness); "
                         "\u26a0 when above 5 %")
        lines += ["\u26a0 " + html.escape(str(w)) for w in (self._record or {}).get("warnings") or []]
        self.note_label.setText("<br>".join(lines))
