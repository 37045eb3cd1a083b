"""Small image grids of the Poison panel: the trigger preview, the triggered test images with
their predictions, and the detector's most suspect training images. Tiny data-set images
(28 x 28) are scaled up by whole pixels (nearest neighbour), so a 4-pixel trigger stays a
crisp 4 x 4 block; a coloured frame marks what a reader should notice."""

from __future__ import annotations

import html

import numpy as np

from visualizer.gui.panels.image_views import to_display
from visualizer.gui.qt import Qt, QtCore, QtGui, QtWidgets

POISON_COLOUR = "#c62828"       # a true poison, a triggered image sent to the target
FALSE_POSITIVE = "#9a6700"      # flagged but clean
GOOD = "#1a7f37"


def to_qimage(image: np.ndarray) -> QtGui.QImage:
    """C x H x W (or H x W) pixels in [0, 1] -> an 8-bit QImage (grayscale or RGB), a copy."""
    a = np.round(to_display(image) * 255).astype(np.uint8)
    h, w = a.shape[:2]
    if a.ndim == 2:
        return QtGui.QImage(np.ascontiguousarray(a).data, w, h, w, QtGui.QImage.Format.Format_Grayscale8).copy()
    return QtGui.QImage(np.ascontiguousarray(a).data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()


class Thumb(QtWidgets.QWidget):
    """One image scaled to ``side`` pixels (whole multiples where it fits), a frame, and a
    caption of one or two short lines under it."""

    def __init__(self, side: int = 64, parent=None):
        super().__init__(parent)
        self.side = side
        self.image = QtWidgets.QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedSize(side + 6, side + 6)
        self.caption = QtWidgets.QLabel()
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        font = self.caption.font()
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
        self.caption.setFont(font)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(1, 1, 1, 1)
        box.setSpacing(1)
        box.addWidget(self.image, 0, Qt.AlignmentFlag.AlignHCenter)
        box.addWidget(self.caption)
        self.pixels: np.ndarray | None = None
        self._frame: str | None = None

    def set_side(self, side: int) -> None:
        """Redraw at ``side`` pixels (the grid fits its width)."""
        if side != self.side:
            self.side = side
            self.image.setFixedSize(side + 6, side + 6)
            if self.pixels is not None:
                self._draw()

    def show_image(self, pixels: np.ndarray, caption: str = "", frame: str | None = None, tip: str = "") -> None:
        """``pixels`` C x H x W in [0, 1]; ``caption`` rich text; ``frame`` a colour or None."""
        self.pixels = np.asarray(pixels, dtype=np.float32)
        self._frame = frame
        self._draw()
        self.caption.setText(caption)
        self.setToolTip(tip)

    def _draw(self) -> None:
        qimage = to_qimage(self.pixels)
        factor = self.side // max(qimage.width(), qimage.height())
        size = QtCore.QSize(qimage.width() * factor, qimage.height() * factor)
        if factor < 2:     # whole-pixel blocks no longer fit: fill the cell (still nearest neighbour)
            size = qimage.size().scaled(self.side, self.side, Qt.AspectRatioMode.KeepAspectRatio)
        pixmap = QtGui.QPixmap.fromImage(qimage.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                                       Qt.TransformationMode.FastTransformation))
        self.image.setPixmap(pixmap)
        self.image.setStyleSheet(f"border: 3px solid {self._frame or 'transparent'};")

    def clear(self) -> None:
        self.pixels = None
        self.image.clear()
        self.image.setStyleSheet("")
        self.caption.setText("")
        self.setToolTip("")


class ThumbGrid(QtWidgets.QWidget):
    """Thumbnails in rows of ``columns``, with a line of text above them; the thumbnails
    shrink (down to ``MIN_SIDE``) to fit the grid's width."""

    MIN_SIDE = 28
    CELL_PADDING = 11         # frame, margins and spacing around each thumbnail

    def __init__(self, title: str, columns: int = 8, side: int = 64, parent=None):
        super().__init__(parent)
        self.columns, self.side, self.max_side = columns, side, side
        self.title = QtWidgets.QLabel(title)
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.grid = QtWidgets.QGridLayout()
        self.grid.setSpacing(2)
        self.grid.setContentsMargins(0, 0, 0, 0)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        # the grid may be narrower than its thumbnails at their size: they shrink (resizeEvent)
        box.setSizeConstraint(QtWidgets.QLayout.SizeConstraint.SetNoConstraint)
        box.addWidget(self.title)
        box.addLayout(self.grid)
        box.addStretch(1)
        self.thumbs: list[Thumb] = []

    def set_items(self, items: list[tuple[np.ndarray, str, str | None, str]]) -> None:
        """(pixels, caption, frame colour or None, tooltip) per thumbnail."""
        for thumb in self.thumbs:
            thumb.deleteLater()
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None and item.widget() not in self.thumbs:
                item.widget().deleteLater()
        self.thumbs = []
        offset = 0
        self.side = self._fitting_side(self.width())
        for i, (pixels, caption, frame, tip) in enumerate(items):
            thumb = Thumb(self.side)
            thumb.show_image(pixels, caption, frame, tip)
            self.grid.addWidget(thumb, i // self.columns, offset + i % self.columns)
            self.thumbs.append(thumb)
        for column in range(self.columns + 2):       # only the column after the thumbnails takes spare room
            self.grid.setColumnStretch(column, 1 if column == offset + self.columns else 0)

    def _fitting_side(self, width: int) -> int:
        return int(max(self.MIN_SIDE, min(self.max_side, width // self.columns - self.CELL_PADDING)))

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 (Qt name)
        return QtCore.QSize(self.columns * (self.MIN_SIDE + self.CELL_PADDING), super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        side = self._fitting_side(event.size().width())
        if side != self.side:
            self.side = side
            for thumb in self.thumbs:
                thumb.set_side(side)

    def captions(self) -> list[str]:
        """Each thumbnail's caption as plain text (tests, accessibility)."""
        return [QtGui.QTextDocumentFragment.fromHtml(t.caption.text()).toPlainText() for t in self.thumbs]


class TriggerPreview(QtWidgets.QWidget):
    """A sample image and the same image with the trigger stamped, side by side."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.before = Thumb(56)
        self.after = Thumb(56)
        box = QtWidgets.QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.before)
        box.addWidget(self.after)
        box.addStretch(1)

    def set_images(self, sample: np.ndarray | None, triggered: np.ndarray | None, note: str = "") -> None:
        if sample is None or triggered is None:
            self.before.clear()
            self.after.clear()
            self.after.caption.setText(html.escape(note))
            return
        self.before.show_image(sample, "sample")
        self.after.show_image(triggered, "with trigger", POISON_COLOUR, note)

    def triggered_pixels(self) -> np.ndarray | None:
        return self.after.pixels
