"""A top-5 horizontal bar chart painted directly with QPainter: class names stay readable at any
width (elided, full text in the tooltip), unlike rotated or crowded axis ticks, and it scales
with the font on HiDPI screens because every size comes from the font metrics."""

from __future__ import annotations

import math

from visualizer.gui.panels.colormaps import C_REF, C_TGT
from visualizer.core.formatting import prob_text
from visualizer.gui.panels.theme import plot_colours
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Qt

__all__ = ["Top5Bars"]

ROWS = 5


class Top5Bars(QtWidgets.QWidget):
    """Five bars, highest probability on top; the reference class and the target class are
    drawn in their own colours (same as the exported figure) with bold names."""

    def __init__(self, title: str = "", parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._title = title
        self._entries: list[dict] = []
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred)

    # ------------------------------------------------------------------ data

    def set_title(self, title: str) -> None:
        if title != self._title:
            self._title = title
            self.update()

    def title(self) -> str:
        return self._title

    def set_entries(self, entries: list[dict] | None, reference: int | None = None,
                    target: int | None = None) -> None:
        """``entries``: the record's top-5 dicts (class, label, prob)."""
        rows = []
        for e in list(entries or [])[:ROWS]:
            cls = e.get("class")
            role = "target" if target is not None and cls == target else (
                "reference" if reference is not None and cls == reference else "other")
            rows.append({"class": cls, "label": str(e.get("label", cls)), "prob": float(e.get("prob", math.nan)),
                         "role": role})
        self._entries = rows
        self.setToolTip("\n".join(f"{r['label']} ({r['class']}): {r['prob']:.4f}" for r in rows))
        self.update()

    def entries(self) -> list[dict]:
        """What is drawn: class, label, prob and role ('reference', 'target' or 'other')."""
        return [dict(r) for r in self._entries]

    def clear(self) -> None:
        self.set_entries([])

    # ------------------------------------------------------------------ geometry

    def _row_height(self) -> int:
        return int(self.fontMetrics().height() * 1.45)

    def sizeHint(self) -> QtCore.QSize:
        fm = self.fontMetrics()
        return QtCore.QSize(fm.horizontalAdvance("M") * 24, self._row_height() * (ROWS + 1) + 4)

    def minimumSizeHint(self) -> QtCore.QSize:
        fm = self.fontMetrics()
        return QtCore.QSize(fm.horizontalAdvance("M") * 10, self._row_height() * (ROWS + 1))

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        colours = plot_colours(self.palette())
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        fm = self.fontMetrics()
        row_h = self._row_height()
        w = self.width()
        bold = QtGui.QFont(self.font())
        bold.setBold(True)

        p.setFont(bold)
        p.setPen(colours.text)
        p.drawText(QtCore.QRect(0, 0, w, row_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   QtGui.QFontMetrics(bold).elidedText(self._title, Qt.TextElideMode.ElideRight, w))
        if not self._entries:
            p.setFont(self.font())
            p.setPen(colours.muted)
            p.drawText(QtCore.QRect(0, row_h, w, row_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       "no prediction yet")
            p.end()
            return

        gap = fm.horizontalAdvance("  ")
        value_w = fm.horizontalAdvance("<0.00") + gap
        names_w = min(max(QtGui.QFontMetrics(bold).horizontalAdvance(r["label"]) for r in self._entries),
                      int(0.48 * w))
        bar_x = names_w + gap
        bar_w = max(w - bar_x - value_w, 1)
        fill = {"reference": colours.accent(C_REF), "target": colours.accent(C_TGT), "other": colours.muted}
        for i, r in enumerate(self._entries):
            top = row_h * (i + 1)
            colour = fill[r["role"]]
            highlighted = r["role"] != "other"
            p.setFont(bold if highlighted else self.font())
            name_fm = QtGui.QFontMetrics(p.font())
            p.setPen(colour if highlighted else colours.text)
            right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            p.drawText(QtCore.QRect(0, top, names_w, row_h), right,
                       name_fm.elidedText(r["label"], Qt.TextElideMode.ElideRight, names_w))
            prob = r["prob"] if math.isfinite(r["prob"]) else 0.0
            length = max(0.0, min(1.0, prob)) * bar_w
            bar = QtCore.QRectF(bar_x, top + row_h * 0.18, max(length, 1.0), row_h * 0.64)
            p.fillRect(bar, colour)
            p.setFont(self.font())
            p.setPen(colours.text)
            p.drawText(QtCore.QRectF(bar_x + length + gap / 2, top, value_w, row_h),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, prob_text(r["prob"]))
        p.end()
