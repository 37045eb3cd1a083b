"""Image panels inside a GraphicsLayout: a title, a ViewBox holding one ImageItem (created once,
updated with setImage) and an optional caption. Images are shown upright (row 0 at the top),
with square pixels, and views can be linked so zooming one zooms them all."""

from __future__ import annotations

import html

import numpy as np

from visualizer.gui.qt import QtCore, QtGui, QtWidgets, pg
from visualizer.gui.view_images import ViewImage

__all__ = ["abbreviate", "FlexLabel", "ImageGridWidget", "ImagePanel", "ImageViewBox", "channel_mean", "link_views", "to_display"]


def to_display(image: np.ndarray) -> np.ndarray:
    """C x H x W (C = 1 or 3), H x W x C or H x W floats -> H x W or H x W x 3 float32 in
    [0, 1], the row-major layout ImageItem expects."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[-1] not in (1, 3):
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] != 3):
        raise ValueError(f"expected a C x H x W, H x W x C or H x W image, got shape {np.shape(image)}")
    return np.ascontiguousarray(np.clip(a, 0.0, 1.0))


def channel_mean(chw: np.ndarray) -> np.ndarray:
    """H x W mean over the channels of a C x H x W array (one signed map for RGB)."""
    a = np.asarray(chw, dtype=np.float32)
    return a.mean(axis=0) if a.ndim == 3 else a


def link_views(views: list[pg.ViewBox]) -> None:
    for view in views[1:]:
        view.setXLink(views[0])
        view.setYLink(views[0])


# Shorter words for panel titles that do not fit (three model columns in a 1000 px window);
# the whole title stays in the tooltip.
ABBREVIATIONS = (("Original", "Orig."), ("Adversarial", "Adv."), ("Perturbation", "\u03b4"),
                 (" at iterate ", " @"), (" transform", ""))


def abbreviate(text: str) -> str:
    for word, short in ABBREVIATIONS:
        text = text.replace(word, short)
    return text


class FlexLabel(pg.LabelItem):
    """A one-line plain-text label that does not widen its layout column: image columns stay
    equally wide, and text that does not fit is elided to the column (full text as tooltip)."""

    def __init__(self, text: str = " ", **args):
        self._full: str | None = None       # set by the base class's setText
        self._hint = ""
        self._shown_width = -1.0
        super().__init__(text, **args)

    def set_hint(self, text: str) -> None:
        """A tooltip explaining the label (otherwise the tooltip is the text, when elided)."""
        self._hint = text
        self._render(force=True)

    def setText(self, text, **args):
        if not args and str(text) == self._full:
            # Unchanged (a running attack sets its titles 20 times a second): setting it again
            # re-laid out the scene and repainted the panel.
            return
        self._full = str(text)
        self._render(force=True, **args)

    def full_text(self) -> str:
        return self._full

    def _render(self, force: bool = False, **args) -> None:
        width = self.size().width()
        if not force and abs(width - self._shown_width) < 0.5:
            return
        self._shown_width = width
        shown = self._full
        if width > 16:
            fm = QtGui.QFontMetricsF(self.item.font())
            if fm.horizontalAdvance(shown) > width - 6:
                shown = abbreviate(shown)      # "Adv." reads better than "Adve…" in a narrow column
            shown = fm.elidedText(shown, QtCore.Qt.TextElideMode.ElideRight, width - 6)
        self.setToolTip(self._hint or (self._full if shown != self._full else ""))
        super().setText(html.escape(shown) if shown.strip() else " ", **args)
        self.text = self._full          # what the theme passes back to setText

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        if ev is not None:
            self._render()

    def updateMin(self):
        super().updateMin()
        height = self._sizeHint[QtCore.Qt.SizeHint.MinimumSize][1]
        self.setMinimumWidth(8)
        self._sizeHint[QtCore.Qt.SizeHint.MinimumSize] = (8, height)
        self._sizeHint[QtCore.Qt.SizeHint.PreferredSize] = (8, height)
        self.updateGeometry()


class ImageViewBox(pg.ViewBox):
    """A ViewBox whose links copy the linked view's centre and scale (data units per screen
    pixel) instead of its range, so linked views of different pixel sizes (columns of unequal
    width, other windows) show the same zoom without fighting the aspect lock.

    A view that shows its whole image keeps showing it whole when it is resized (a panel
    re-arranged, a window enlarged); one the user zoomed into keeps its zoom. A double-click
    shows the whole image again (and the linked views follow)."""

    def reset_zoom(self) -> None:
        self.autoRange(padding=0.0)

    def mouseClickEvent(self, ev):
        if ev.double() and ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self.reset_zoom()
            return
        super().mouseClickEvent(ev)

    def resizeEvent(self, ev):
        fitted = self._shows_whole_image()
        super().resizeEvent(ev)
        if fitted and min(self.width(), self.height()) >= 1:
            self.autoRange(padding=0.0)

    def _shows_whole_image(self) -> bool:
        bounds = self.childrenBoundingRect()
        if bounds.isEmpty():
            return False
        (x0, x1), (y0, y1) = self.viewRange()
        slack = 1e-3 * max(bounds.width(), bounds.height())
        return (x0 <= bounds.left() + slack and x1 >= bounds.right() - slack
                and y0 <= bounds.top() + slack and y1 >= bounds.bottom() - slack)

    def linkedViewChanged(self, view, axis):
        if self.linksBlocked or view is None:
            return
        vr, vg, sg = view.viewRect(), _pixel_rect(view), _pixel_rect(self)
        if vg is None or sg is None or min(vg.width(), vg.height(), sg.width(), sg.height()) < 1:
            return super().linkedViewChanged(view, axis)   # not laid out yet: copy the range
        view.blockLink(True)
        try:
            if axis == pg.ViewBox.XAxis:
                half = sg.width() * vr.width() / vg.width() / 2
                self.enableAutoRange(pg.ViewBox.XAxis, False)
                self.setXRange(vr.center().x() - half, vr.center().x() + half, padding=0)
            else:
                half = sg.height() * vr.height() / vg.height() / 2
                self.enableAutoRange(pg.ViewBox.YAxis, False)
                self.setYRange(vr.center().y() - half, vr.center().y() + half, padding=0)
        finally:
            view.blockLink(False)


def _pixel_rect(view: pg.ViewBox) -> QtCore.QRectF | None:
    """The view's size in its widget's (logical) pixels, unrounded: ViewBox.screenGeometry()
    rounds to whole pixels, which would make linked zooms drift apart by a fraction."""
    widget = view.getViewWidget()
    if widget is None:
        return None
    return widget.transform().mapRect(view.mapRectToScene(view.rect()))   # rect(): what the range spans


class ImagePanel:
    """Title + view + image (+ caption) in a GraphicsLayout column."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int, title: str = "", caption: bool = False):
        self.title = FlexLabel(title or " ")
        layout.addItem(self.title, row=row, col=col)
        self.view = ImageViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view.setDefaultPadding(0.0)
        layout.addItem(self.view, row=row + 1, col=col)
        self.image = ViewImage(axisOrder="row-major")
        self.view.addItem(self.image)
        self.caption = FlexLabel(" ") if caption else None
        if self.caption is not None:
            layout.addItem(self.caption, row=row + 2, col=col)
        self._shape: tuple | None = None

    def set_image(self, array: np.ndarray, levels=(0.0, 1.0)) -> None:
        """Show ``array`` (already in display layout); fit the view when the size changes."""
        self.image.setImage(array, autoLevels=False, levels=levels)
        shape = array.shape[:2]
        if shape != self._shape:
            self._shape = shape
            self.view.autoRange(padding=0.0)

    def set_title(self, text: str) -> None:
        self.title.setText(text or " ")

    def set_caption(self, text: str) -> None:
        if self.caption is not None:
            self.caption.setText(text or " ")

    def clear(self) -> None:
        self.image.clear()
        self._shape = None
        self.set_caption("")


class ImageGridWidget(pg.GraphicsLayoutWidget):
    """A GraphicsLayoutWidget that asks its layout for the height its images need at the
    current width (height-for-width), so a narrow column does not leave empty bands above
    and below aspect-locked images and the space goes to the plots instead.
    ``fit_height=False``: the owner sets the size itself (the attack column's arrangement)."""

    def __init__(self, parent=None, fit_height: bool = True):
        super().__init__(parent)
        self._fit_height = fit_height
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.ci.setSpacing(3)
        self._grid = (1, 1)          # rows, columns of images
        self._aspect = 1.0           # image height / width
        self._reserved_w = 0         # pixels taken by colour bars etc.
        self._text_rows = 2          # title and caption lines per image row
        policy = QtWidgets.QSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred,
                                       QtWidgets.QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(fit_height)
        self.setSizePolicy(policy)

    def set_grid(self, rows: int, columns: int, reserved_width: int = 0, text_rows: int = 2) -> None:
        self._grid = (max(rows, 1), max(columns, 1))
        self._reserved_w = reserved_width
        self._text_rows = text_rows
        self.updateGeometry()

    def set_aspect(self, height_over_width: float) -> None:
        if height_over_width > 0 and abs(height_over_width - self._aspect) > 1e-6:
            self._aspect = float(height_over_width)
            self.updateGeometry()

    def hasHeightForWidth(self) -> bool:
        return self._fit_height

    def heightForWidth(self, width: int) -> int:
        rows, cols = self._grid
        line = self.fontMetrics().height() + 6
        cell_w = max(width - self._reserved_w - 8 - 3 * cols, 10) / cols
        return int(rows * (cell_w * self._aspect + self._text_rows * line) + 8)

    def set_preferred_size(self, width: int, height: int) -> None:
        """The size to take when the owner lays it out itself (``fit_height=False``)."""
        self._preferred = QtCore.QSize(width, height)
        self.updateGeometry()

    def sizeHint(self) -> QtCore.QSize:
        if getattr(self, "_preferred", None) is not None:
            return self._preferred
        width = 120 * self._grid[1] + self._reserved_w
        return QtCore.QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(60 * self._grid[1], 80)
