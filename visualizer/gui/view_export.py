"""Render a widget (the current view, as on screen) to PNG at a chosen DPI, or to SVG and
PDF through Qt's vector paint devices. Publication figures are the matplotlib ones
(core/figures/); this is the "what I see" export."""

from __future__ import annotations

from visualizer.gui.qt import QtCore, QtGui, QtWidgets

SCREEN_DPI = 96.0


def render_widget(widget: QtWidgets.QWidget, fmt: str, dpi: int = 300) -> bytes:
    size = widget.size()
    buf = QtCore.QBuffer()
    buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if fmt == "png":
        scale = max(dpi / SCREEN_DPI, 0.25)
        image = QtGui.QImage(int(size.width() * scale), int(size.height() * scale), QtGui.QImage.Format.Format_ARGB32)
        image.setDevicePixelRatio(scale)      # widgets paint at logical size; pixels follow the DPI
        image.setDotsPerMeterX(int(dpi / 0.0254))
        image.setDotsPerMeterY(int(dpi / 0.0254))
        image.fill(widget.palette().color(QtGui.QPalette.ColorRole.Window))
        painter = QtGui.QPainter(image)
        widget.render(painter, QtCore.QPoint(0, 0))
        painter.end()
        image.save(buf, "PNG")
    elif fmt == "pdf":
        writer = QtGui.QPdfWriter(buf)
        writer.setResolution(int(dpi))
        writer.setPageSize(QtGui.QPageSize(QtCore.QSizeF(size.width() / SCREEN_DPI * 72, size.height() / SCREEN_DPI * 72),
                                           QtGui.QPageSize.Unit.Point))
        writer.setPageMargins(QtCore.QMarginsF(0, 0, 0, 0))
        painter = QtGui.QPainter(writer)
        factor = dpi / SCREEN_DPI
        painter.scale(factor, factor)
        widget.render(painter, QtCore.QPoint(0, 0))
        painter.end()
    elif fmt == "svg":
        from PySide6.QtSvg import QSvgGenerator

        gen = QSvgGenerator()
        gen.setOutputDevice(buf)
        gen.setSize(size)
        gen.setViewBox(QtCore.QRect(QtCore.QPoint(0, 0), size))
        gen.setTitle(widget.windowTitle() or "Adversarial Visualizer view")
        painter = QtGui.QPainter(gen)
        widget.render(painter, QtCore.QPoint(0, 0))
        painter.end()
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return bytes(buf.data())
