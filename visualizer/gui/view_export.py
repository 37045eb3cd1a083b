"""The "what I see" export: a widget (the current view, as on screen) to PNG at a chosen DPI,
or to SVG and PDF through Qt's vector paint devices. Publication figures are the matplotlib
ones (core/figures/).

Painting a widget must happen on the GUI thread, but rasterising it at 300 dpi and encoding
the PNG take most of a second. So the widget's painting is first *recorded* (QPicture: a
list of paint commands, cheap to make) one child widget at a time, each in its own turn of
the event loop (``ViewRecorder``), and the recording is then played back into the image, SVG
or PDF by the export's worker (view_playback.py: the PNG in short bands, SVG and PDF in a
child process, as playing a recording holds Python's GIL)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Callable

from visualizer.gui.qt import QtCore, QtGui, QtWidgets
from visualizer.gui.view_images import image_piece, liftable_images, lifted, vector_markers
from visualizer.gui.view_playback import Piece, ViewSnapshot, render_snapshot

__all__ = ["ViewRecorder", "ViewSnapshot", "paint_units", "record_unit", "render_snapshot", "render_widget",
           "snapshot_now"]

_Flag = QtWidgets.QWidget.RenderFlag


def paint_units(widget: QtWidgets.QWidget) -> list[tuple[QtWidgets.QWidget, bool]]:
    """The widget and its visible descendants as (widget, with its children) units, each
    cheap to record (a few ms; a graphics view with images the most, as each image is
    PNG-compressed into the recording): a container is recorded without its children and
    they follow it; a leaf, or a scroll area or graphics view (whose viewport is a child),
    is recorded whole."""
    kids = [c for c in widget.findChildren(QtWidgets.QWidget, options=QtCore.Qt.FindChildOption.FindDirectChildrenOnly)
            if c.isVisible() and not c.isWindow()]
    if not kids or isinstance(widget, QtWidgets.QAbstractScrollArea):
        return [(widget, True)]
    return [(widget, False)] + [u for child in kids for u in paint_units(child)]


def record_unit(root: QtWidgets.QWidget, unit: QtWidgets.QWidget, whole: bool) -> list[Piece]:
    """``unit``'s painting as pieces of ``root``'s recording: (where, recording), then, for a
    graphics view, the images lifted out of that recording (view_images.py), to be drawn
    over it in this order."""
    images = liftable_images(unit) if isinstance(unit, QtWidgets.QGraphicsView) else []
    at = unit.mapTo(root, QtCore.QPoint(0, 0))
    picture = QtGui.QPicture()
    painter = QtGui.QPainter(picture)
    flags = _Flag.DrawWindowBackground | (_Flag.DrawChildren if whole else _Flag(0))
    markers = vector_markers(unit) if isinstance(unit, QtWidgets.QGraphicsView) else nullcontext()
    with lifted(images), markers:
        # QWidget.render explicitly: graphics views override render() to draw their scene.
        QtWidgets.QWidget.render(unit, painter, QtCore.QPoint(0, 0), QtGui.QRegion(), flags)
    painter.end()
    lifted_pieces = [image_piece(unit, item, at) for item in images]
    return [(QtCore.QRect(at, unit.size()), picture)] + [p for p in lifted_pieces if p is not None]


def _empty_snapshot(widget: QtWidgets.QWidget) -> ViewSnapshot:
    return ViewSnapshot(widget.width(), widget.height(), widget.palette().color(QtGui.QPalette.ColorRole.Window),
                        widget.windowTitle() or "Adversarial Visualizer view",
                        picture_dpi=QtGui.QPicture().logicalDpiX())


def snapshot_now(widget: QtWidgets.QWidget) -> ViewSnapshot:
    """The whole recording at once (scripts and small widgets)."""
    snap = _empty_snapshot(widget)
    snap.pieces = [piece for unit in paint_units(widget) for piece in record_unit(widget, *unit)]
    return snap


class ViewRecorder(QtCore.QObject):
    """Records ``widget`` one unit per event-loop turn (each takes a few ms, so the window
    never stalls for long), then calls ``done(snapshot)``; ``None`` if the widget went away."""

    def __init__(self, widget: QtWidgets.QWidget, done: Callable[[ViewSnapshot | None], None]):
        super().__init__(widget)
        self._widget = widget
        self._done = done
        self._units = paint_units(widget)
        self._snapshot = _empty_snapshot(widget)
        self._turn()

    def _turn(self) -> None:
        # A real 1 ms timer, not a 0 ms one: Qt posts a 0 ms single shot as an event, and
        # posted events run back to back before any timer or input, so two units' recordings
        # (tens of ms together) fell into one gap of the window's responsiveness.
        QtCore.QTimer.singleShot(1, self._next)

    def _next(self) -> None:
        if not self._units:
            self._done(self._snapshot)
            self.deleteLater()
            return
        unit = self._units.pop(0)
        try:
            self._snapshot.pieces.extend(record_unit(self._widget, *unit))
        except RuntimeError:          # a unit was deleted meanwhile (a model removed): record without it
            pass
        self._turn()


def render_widget(widget: QtWidgets.QWidget, fmt: str, dpi: int = 300) -> bytes:
    """The widget as it looks now, in one go on the GUI thread (scripts, tests)."""
    return render_snapshot(snapshot_now(widget), fmt, dpi)
