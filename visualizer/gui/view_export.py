"""The "what I see" export: a widget (the current view, as on screen) to PNG at a chosen DPI,
or to SVG and PDF through Qt's vector paint devices. Publication figures are the matplotlib
ones (core/figures/).

Painting a widget must happen on the GUI thread, but rasterising it at 300 dpi and encoding
the PNG take most of a second. So the widget's painting is first *recorded* (QPicture: a
list of paint commands, cheap to make) one child widget at a time, each in its own turn of
the event loop (``ViewRecorder``), and the recording is then played back into the image, SVG
or PDF on a worker thread (``render_snapshot``; QPainter may paint on QImage, QPicture, SVG
and PDF devices from any thread). Playing a recording holds Python's GIL (PySide does not
release it there), which would stall the GUI thread's Python slots: the PNG is therefore
painted in bands of rows, each call short, the GIL free between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from visualizer.gui.qt import QtCore, QtGui, QtWidgets

SCREEN_DPI = 96.0
BAND_ROWS = 192        # device pixels painted per call when rasterising
_Flag = QtWidgets.QWidget.RenderFlag


@dataclass
class ViewSnapshot:
    """A widget's painting as recorded pieces: (where in the widget, recording)."""

    width: int
    height: int
    background: QtGui.QColor
    title: str
    pieces: list[tuple[QtCore.QRect, QtGui.QPicture]] = field(default_factory=list)


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


def record_unit(root: QtWidgets.QWidget, unit: QtWidgets.QWidget, whole: bool) -> tuple[QtCore.QRect, QtGui.QPicture]:
    """``unit``'s painting recorded, and where it goes in ``root``."""
    picture = QtGui.QPicture()
    painter = QtGui.QPainter(picture)
    flags = _Flag.DrawWindowBackground | (_Flag.DrawChildren if whole else _Flag(0))
    # QWidget.render explicitly: graphics views override render() to draw their scene.
    QtWidgets.QWidget.render(unit, painter, QtCore.QPoint(0, 0), QtGui.QRegion(), flags)
    painter.end()
    return QtCore.QRect(unit.mapTo(root, QtCore.QPoint(0, 0)), unit.size()), picture


def _empty_snapshot(widget: QtWidgets.QWidget) -> ViewSnapshot:
    return ViewSnapshot(widget.width(), widget.height(), widget.palette().color(QtGui.QPalette.ColorRole.Window),
                        widget.windowTitle() or "Adversarial Visualizer view")


def snapshot_now(widget: QtWidgets.QWidget) -> ViewSnapshot:
    """The whole recording at once (scripts and small widgets)."""
    snap = _empty_snapshot(widget)
    snap.pieces = [record_unit(widget, *unit) for unit in paint_units(widget)]
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
        QtCore.QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        if not self._units:
            self._done(self._snapshot)
            self.deleteLater()
            return
        unit = self._units.pop(0)
        try:
            self._snapshot.pieces.append(record_unit(self._widget, *unit))
        except RuntimeError:          # a unit was deleted meanwhile (a model removed): record without it
            pass
        QtCore.QTimer.singleShot(0, self._next)


def _play(painter: QtGui.QPainter, snap: ViewSnapshot, within: QtCore.QRectF | None = None) -> None:
    """Draw the pieces (those meeting ``within``, in widget coordinates), one call each."""
    for rect, picture in snap.pieces:
        if within is None or within.intersects(QtCore.QRectF(rect)):
            painter.drawPicture(rect.topLeft(), picture)


def render_snapshot(snap: ViewSnapshot, fmt: str, dpi: int = 300) -> bytes:
    """PNG (``dpi`` sets the pixels), SVG or PDF bytes of a recorded view. Any thread."""
    buf = QtCore.QBuffer()
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    size = QtCore.QSize(snap.width, snap.height)
    if fmt == "png":
        scale = max(dpi / SCREEN_DPI, 0.25)
        image = QtGui.QImage(int(size.width() * scale), int(size.height() * scale), QtGui.QImage.Format.Format_ARGB32)
        image.setDotsPerMeterX(int(dpi / 0.0254))
        image.setDotsPerMeterY(int(dpi / 0.0254))
        # Not filled first (filling the whole image is one call of 10 ms holding the GIL at
        # 300 dpi): each band is filled and copied over its rows, and the bands cover them all.
        for top in range(0, image.height(), BAND_ROWS):
            rows = min(BAND_ROWS, image.height() - top)
            band = QtGui.QImage(image.width(), rows, QtGui.QImage.Format.Format_ARGB32)
            band.fill(snap.background)
            painter = QtGui.QPainter(band)       # the band's own bounds clip what is drawn
            painter.translate(0, -top)
            painter.scale(scale, scale)
            _play(painter, snap, QtCore.QRectF(0, top / scale, size.width(), rows / scale))
            painter.end()
            painter = QtGui.QPainter(image)
            painter.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_Source)
            painter.drawImage(0, top, band)
            painter.end()
        image.save(buf, "PNG")
    elif fmt == "pdf":
        writer = QtGui.QPdfWriter(buf)
        writer.setResolution(int(dpi))
        writer.setPageSize(QtGui.QPageSize(QtCore.QSizeF(size.width() / SCREEN_DPI * 72,
                                                         size.height() / SCREEN_DPI * 72), QtGui.QPageSize.Unit.Point))
        writer.setPageMargins(QtCore.QMarginsF(0, 0, 0, 0))
        painter = QtGui.QPainter(writer)
        factor = dpi / SCREEN_DPI
        painter.scale(factor, factor)
        _play(painter, snap)
        painter.end()
    elif fmt == "svg":
        from PySide6.QtSvg import QSvgGenerator

        gen = QSvgGenerator()
        gen.setOutputDevice(buf)
        gen.setSize(size)
        gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
        gen.setTitle(snap.title)
        painter = QtGui.QPainter(gen)
        _play(painter, snap)
        painter.end()
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return bytes(buf.data())


def render_widget(widget: QtWidgets.QWidget, fmt: str, dpi: int = 300) -> bytes:
    """The widget as it looks now, in one go on the GUI thread (scripts, tests)."""
    return render_snapshot(snapshot_now(widget), fmt, dpi)
