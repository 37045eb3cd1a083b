"""Playing a recorded view (``ViewSnapshot``: the widget's painting as QPicture pieces, made by
view_export.py on the GUI thread) into PNG, SVG or PDF bytes.

PySide holds Python's GIL while a QPainter plays a recording, and playing the view into SVG
or PDF is a few calls of 10-30 ms (each image is PNG-compressed into the file): the GUI
thread, waiting for the GIL, stalled that long while an export ran. So ``render_view``
plays vector formats in a child process (the recording travels as bytes; the child imports
PySide6 only and starts in a fraction of a second), where no lock is shared with the
window; the PNG is painted here in bands of rows, each call short. If the child cannot run
(a frozen app, a failure), the file is rendered here as before.

Run as ``python -m visualizer.gui.view_playback FORMAT DPI`` it is that child: a pickled
snapshot on stdin, the file's bytes on stdout."""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import dataclass, field

from PySide6 import QtCore, QtGui

from visualizer.core.child_process import lower_priority, run_child
from visualizer.gui.image_piece import ImagePiece
from visualizer.gui.svg_cosmetic import bake_cosmetic_paths, name_fonts

SCREEN_DPI = 96.0
BAND_ROWS = 192           # device pixels painted per call when rasterising
VECTOR = ("svg", "pdf")
CHILD_DPI = 96


# A recorded piece: (where in the widget, recording), or an image lifted out of a recording.
Piece = "tuple[QtCore.QRect, QtGui.QPicture] | ImagePiece"


@dataclass
class ViewSnapshot:
    """A widget's painting as recorded pieces, drawn in order."""

    width: int
    height: int
    background: QtGui.QColor
    title: str
    pieces: list = field(default_factory=list)
    picture_dpi: int = 96      # the recordings' resolution (fonts are sized by it)


def _play(painter: QtGui.QPainter, snap: ViewSnapshot, within: QtCore.QRectF | None = None,
          vector: bool = False) -> None:
    """Draw the pieces (those meeting ``within``, in widget coordinates), one call each;
    ``vector``: into an SVG or PDF (images enlarged by whole pixels, ImagePiece.draw)."""
    for piece in snap.pieces:
        if isinstance(piece, ImagePiece):
            if within is None or within.intersects(piece.bounds()):
                piece.draw(painter, crisp=vector)
            continue
        rect, picture = piece
        if within is None or within.intersects(QtCore.QRectF(rect)):
            painter.drawPicture(rect.topLeft(), picture)


def render_snapshot(snap: ViewSnapshot, fmt: str, dpi: int = 300) -> bytes:
    """PNG (``dpi`` sets the pixels), SVG or PDF bytes of a recorded view, in this process.
    Any thread."""
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
        # Vector: the page is the view's size in points and the writer works at the
        # recording's 96 dpi. QPicture playback scales by the device's dpi over 96 itself,
        # so a 300 dpi writer with the painter scaled to match drew the text and lines 3.1 x
        # too large (images, drawn directly, were right). ``dpi`` matters to PNG only.
        writer = QtGui.QPdfWriter(buf)
        writer.setResolution(int(SCREEN_DPI))
        writer.setPageSize(QtGui.QPageSize(QtCore.QSizeF(size.width() / SCREEN_DPI * 72,
                                                         size.height() / SCREEN_DPI * 72), QtGui.QPageSize.Unit.Point))
        writer.setPageMargins(QtCore.QMarginsF(0, 0, 0, 0))
        painter = QtGui.QPainter(writer)
        # Qt writes images into a PDF as JPEG unless told otherwise: a perturbation map lost up
        # to 27 of 255 levels and a zoomed heat map showed cells that are not in the data.
        painter.setRenderHint(QtGui.QPainter.RenderHint.LosslessImageRendering)
        _play(painter, snap, vector=True)
        painter.end()
    elif fmt == "svg":
        from PySide6.QtSvg import QSvgGenerator

        # SVG 1.1, not the default SVG Tiny 1.2, which drops every clip: a field's scrolled
        # text ran out of its box. (Images are cropped to their view boxes anyway, as some
        # readers, Qt's own and MuPDF, ignore clip paths on images.)
        gen = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
        gen.setOutputDevice(buf)
        gen.setSize(size)
        gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
        gen.setResolution(int(SCREEN_DPI))     # as the PDF's writer, and for the same reason
        gen.setTitle(snap.title)
        painter = QtGui.QPainter(gen)
        _play(painter, snap, vector=True)
        painter.end()
        svg = bake_cosmetic_paths(bytes(buf.data()).decode("utf-8"))
        return name_fonts(svg, lambda alias: QtGui.QFontInfo(QtGui.QFont(alias)).family()).encode("utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return bytes(buf.data())


# ---------------------------------------------------------------------------------- the child
def snapshot_to_bytes(snap: ViewSnapshot) -> bytes:
    pieces = [("image", piece.to_state()) if isinstance(piece, ImagePiece)
              else ((piece[0].x(), piece[0].y(), piece[0].width(), piece[0].height()), bytes(piece[1].data()))
              for piece in snap.pieces]
    return pickle.dumps({"width": snap.width, "height": snap.height, "background": snap.background.rgba(),
                         "title": snap.title, "pieces": pieces})


def snapshot_from_bytes(data: bytes) -> ViewSnapshot:
    d = pickle.loads(data)        # our own child's input, written by snapshot_to_bytes
    snap = ViewSnapshot(d["width"], d["height"], QtGui.QColor.fromRgba(d["background"]), d["title"])
    for where, raw in d["pieces"]:
        if where == "image":
            snap.pieces.append(ImagePiece.from_state(raw))
            continue
        x, y, w, h = where
        picture = QtGui.QPicture()
        picture.setData(raw)
        snap.pieces.append((QtCore.QRect(x, y, w, h), picture))
    return snap


def render_view(snap: ViewSnapshot, fmt: str, dpi: int = 300) -> bytes:
    """The file's bytes: SVG and PDF played in a child process (see the module docstring),
    PNG here in short bands; here too if the child fails."""
    # The child (offscreen, 96 dpi) plays recordings made at 96 dpi exactly as this process
    # would (test); recordings at another resolution (a high-DPI screen) are played here.
    if fmt in VECTOR and snap.picture_dpi == CHILD_DPI:
        try:
            return render_in_child(snap, fmt, dpi)
        except (OSError, subprocess.SubprocessError, RuntimeError):
            pass                   # rendered here instead: the window may stall, the file is right
    return render_snapshot(snap, fmt, dpi)


def render_in_child(snap: ViewSnapshot, fmt: str, dpi: int) -> bytes:
    return run_child("visualizer.gui.view_playback", [fmt, str(int(dpi))], snapshot_to_bytes(snap),
                     env={"QT_QPA_PLATFORM": "offscreen"})


def main(argv: list[str]) -> int:
    fmt, dpi = argv[0], int(argv[1])
    lower_priority()       # CPU-bound for about a second: importing PySide6, then painting
    app = QtGui.QGuiApplication(["view-playback"])          # fonts need an application
    data = render_snapshot(snapshot_from_bytes(sys.stdin.buffer.read()), fmt, dpi)
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
