"""Images lifted out of a view's recording (issue 16: the export's GUI-thread stall).

A QPicture stores every image drawn into it PNG-compressed, and the recording is made on
the GUI thread: a 224 px noisy image costs about 9 ms there, so the two-image grid of the
attack column was one 23 ms event. The images of a graphics view are therefore *lifted*:
the view is recorded with them left out, and each is kept as an ``ImagePiece`` (a copy of
the QImage, where it goes, what of it is visible) that the export's worker draws over the
recording, in stacking order. An image is lifted only when nothing but other lifted images
is drawn over it, so the result is the view as painted (test: same pixels as recording it
whole, in PNG and SVG).

``ViewImage`` is the pyqtgraph image item the window's views use: it can be left out of a
recording (``lifted``) without changing anything the scene knows about it.
"""

from __future__ import annotations

from contextlib import contextmanager

from visualizer.gui.image_piece import ImagePiece
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, pg


class ViewImage(pg.ImageItem):
    """pyqtgraph's ImageItem that paints nothing while ``lifted`` (its recording is an
    ImagePiece instead). Lifting changes no geometry and schedules no repaint."""

    lifted = False

    def paint(self, painter, *args):
        if not self.lifted:
            super().paint(painter, *args)


def liftable_images(view: QtWidgets.QGraphicsView) -> list[ViewImage]:
    """The view's visible ViewImages that can be drawn after the rest of it, bottom first:
    every visible item stacked over one (and meeting it) is itself lifted."""
    scene = view.scene()
    if scene is None:
        return []
    candidates = [it for it in scene.items() if isinstance(it, ViewImage) and _rendered(it) and it.border is None
                  and not _paints_nothing(it) and not it.sceneBoundingRect().isEmpty()]
    above = {}
    for item in candidates:
        shown = _shown_scene_rect(item)
        if shown.isEmpty():
            continue
        stack = scene.items(shown, QtCore.Qt.ItemSelectionMode.IntersectsItemBoundingRect,
                            QtCore.Qt.SortOrder.DescendingOrder)
        over = stack[:stack.index(item)] if item in stack else []
        above[item] = [it for it in over if not _paints_nothing(it) and not it.isAncestorOf(item)]
    lifted = set(above)
    changed = True
    while changed:              # drop any image with something not lifted drawn over it
        changed = False
        for item in list(lifted):
            if any(other not in lifted for other in above[item]):
                lifted.discard(item)
                changed = True
    order = scene.items(QtCore.Qt.SortOrder.AscendingOrder)
    return [it for it in order if it in lifted]


def _shown_scene_rect(item: QtWidgets.QGraphicsItem) -> QtCore.QRectF:
    """The part of the item's bounds its clipping ancestors (a view box) let show, in scene
    coordinates."""
    shown = item.sceneBoundingRect()
    parent = item.parentItem()
    while parent is not None:
        if parent.flags() & QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape:
            shown = shown.intersected(parent.mapToScene(parent.shape()).boundingRect())
        parent = parent.parentItem()
    return shown


def _rendered(item: ViewImage) -> bool:
    """The item's QImage is what it would paint now (made here if its paint would make it)."""
    if item.image is None or not item.isVisible():
        return False
    if item.qimage is None or getattr(item, "_renderRequired", True):
        item.render()                 # as its paint() does first
    return item.qimage is not None and not getattr(item, "_unrenderable", False)


def _paints_nothing(item: QtWidgets.QGraphicsItem) -> bool:
    """Hidden, transparent, or a shape with neither pen nor brush (pyqtgraph's layout and
    view-box borders when no border is drawn)."""
    if not item.isVisible() or item.effectiveOpacity() <= 0:
        return True
    if item.flags() & QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemHasNoContents:
        return True
    return (isinstance(item, QtWidgets.QAbstractGraphicsShapeItem)
            and item.pen().style() == QtCore.Qt.PenStyle.NoPen and item.brush().style() == QtCore.Qt.BrushStyle.NoBrush)


def image_piece(view: QtWidgets.QGraphicsView, item: ViewImage, offset: QtCore.QPoint) -> ImagePiece | None:
    """``item`` as an ImagePiece: the part of it its clipping view box shows, in the view's
    pixels (``offset``: the view's top-left in the recorded widget)."""
    shape = item.image.shape[:2] if item.axisOrder == "col-major" else item.image.shape[:2][::-1]
    target = QtCore.QRectF(0, 0, float(shape[0]), float(shape[1]))
    to_view = item.deviceTransform(view.viewportTransform())
    viewport_at = view.viewport().mapTo(view, QtCore.QPoint(0, 0))
    # what its view boxes let show, in the viewport's pixels
    clip = view.viewportTransform().mapRect(_shown_scene_rect(item)).intersected(QtCore.QRectF(view.viewport().rect()))
    inverse, invertible = to_view.inverted()
    if not invertible:
        return None
    visible = inverse.mapRect(clip).intersected(target)
    if visible.isEmpty():
        return None
    qimage = item.qimage
    sx, sy = qimage.width() / target.width(), qimage.height() / target.height()   # pyqtgraph may downsample
    pixels = QtCore.QRectF(visible.x() * sx, visible.y() * sy, visible.width() * sx, visible.height() * sy)
    whole = pixels.toAlignedRect().intersected(qimage.rect())      # every pixel partly shown
    drawn = QtCore.QRectF(whole.x() / sx, whole.y() / sy, whole.width() / sx, whole.height() / sy)
    mode = item.paintMode if item.paintMode is not None else QtGui.QPainter.CompositionMode.CompositionMode_SourceOver
    return ImagePiece(qimage.copy(whole), to_view, offset + viewport_at, drawn, visible, item.effectiveOpacity(), mode)


@contextmanager
def lifted(items: list[ViewImage]):
    """Leave ``items`` out of whatever is painted inside the block."""
    for it in items:
        it.lifted = True
    try:
        yield
    finally:
        for it in items:
            it.lifted = False


@contextmanager
def vector_markers(view: QtWidgets.QGraphicsView):
    """Inside the block, the view's scatter markers are drawn as shapes, not stamped from
    pyqtgraph's shared pixmap atlas: Qt's SVG generator ignores the source rectangle of a
    pixmap fragment, so every marker showed a slice of the atlas (a hook or a bar)."""
    scene = view.scene()
    items = [it for it in (scene.items() if scene is not None else []) if isinstance(it, pg.ScatterPlotItem)
             and it.opts.get("useCache", False)]
    for it in items:
        it.opts["useCache"] = False
    try:
        yield
    finally:
        for it in items:
            it.opts["useCache"] = True
