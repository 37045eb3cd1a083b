"""An image lifted out of a view's recording (view_images.py): drawn by the export's worker,
or by the child process that writes the view's SVG and PDF, so PySide6 alone here (and
core/crisp.py, standard library only)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtCore, QtGui

from visualizer.core.crisp import upsample_factor


@dataclass
class ImagePiece:
    """One lifted image: ``image`` (the whole pixels its view box shows) drawn into ``target``
    (item coordinates) with ``transform`` (item -> the view's pixels; ``offset`` places the
    view in the recorded widget), clipped to ``clip`` (item coordinates), with ``opacity``
    and ``mode``. Cropped rather than drawn from a source rectangle: Qt's SVG generator
    ignores the source rectangle (and clips), so the SVG shows at most the fraction of a
    pixel at each edge that the clip removes elsewhere."""

    image: QtGui.QImage
    transform: QtGui.QTransform
    offset: QtCore.QPoint
    target: QtCore.QRectF
    clip: QtCore.QRectF
    opacity: float
    mode: QtGui.QPainter.CompositionMode

    def bounds(self) -> QtCore.QRectF:
        """Where it lands in the recorded widget's coordinates."""
        return self.transform.mapRect(self.target).translated(QtCore.QPointF(self.offset))

    def draw(self, painter: QtGui.QPainter, crisp: bool = False) -> None:
        """``crisp``: for vector files, whose readers smooth a small image when they enlarge
        it (an 8 px digit became a blur, a 3 x 7 heat map a gradient that looks like data):
        the image goes in with each pixel repeated (core/crisp.py, as the figures do)."""
        painter.save()
        painter.translate(QtCore.QPointF(self.offset))
        painter.setTransform(self.transform, True)
        painter.setOpacity(self.opacity)
        painter.setCompositionMode(self.mode)
        painter.setClipRect(self.clip, QtCore.Qt.ClipOperation.IntersectClip)
        image = self.image
        if crisp:
            k = upsample_factor(image.height(), image.width())
            if k > 1:
                image = image.scaled(image.width() * k, image.height() * k, QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
                                     QtCore.Qt.TransformationMode.FastTransformation)     # nearest: whole pixels
        painter.drawImage(self.target, image)
        painter.restore()

    def to_state(self) -> dict:
        img, t = self.image, self.transform
        return {"size": (img.width(), img.height()), "pixels": bytes(img.constBits()), "stride": img.bytesPerLine(),
                "format": int(img.format().value), "colours": [int(c) for c in img.colorTable()],
                "transform": (t.m11(), t.m12(), t.m13(), t.m21(), t.m22(), t.m23(), t.m31(), t.m32(), t.m33()),
                "offset": (self.offset.x(), self.offset.y()), "opacity": self.opacity, "mode": int(self.mode.value),
                "target": _rect_tuple(self.target), "clip": _rect_tuple(self.clip)}

    @classmethod
    def from_state(cls, d: dict) -> "ImagePiece":
        (w, h), pixels = d["size"], d["pixels"]
        image = QtGui.QImage(pixels, w, h, d["stride"], QtGui.QImage.Format(d["format"])).copy()
        if d["colours"]:                # an indexed image (a colour-mapped one) keeps its table
            image.setColorTable(d["colours"])
        return cls(image, QtGui.QTransform(*d["transform"]), QtCore.QPoint(*d["offset"]), QtCore.QRectF(*d["target"]),
                   QtCore.QRectF(*d["clip"]), d["opacity"], QtGui.QPainter.CompositionMode(d["mode"]))


def _rect_tuple(r: QtCore.QRectF) -> tuple[float, float, float, float]:
    return (r.x(), r.y(), r.width(), r.height())
