"""Qt imports in one place: PySide6 must be imported before pyqtgraph so pyqtgraph binds to it."""

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: F401  (first, on purpose)

import pyqtgraph as pg  # noqa: E402

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)

Signal = QtCore.Signal
Slot = QtCore.Slot
Qt = QtCore.Qt

__all__ = ["QtCore", "QtGui", "QtWidgets", "pg", "Signal", "Slot", "Qt"]
