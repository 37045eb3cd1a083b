"""Qt imports in one place. pyqtgraph (``pg``) is imported the first time something asks
for it (``from visualizer.gui.qt import pg``), not while the window starts: it is about
0.2 s, and the window shows no plot until a model or a tab needs one. PySide6 is imported
here first, so pyqtgraph binds to it."""

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: F401  (first, on purpose)

Signal = QtCore.Signal
Slot = QtCore.Slot
Qt = QtCore.Qt

__all__ = ["QtCore", "QtGui", "QtWidgets", "pg", "Signal", "Slot", "Qt"]


def __getattr__(name: str):
    """``pg``: pyqtgraph, configured for the window's images (row-major, antialiased)."""
    if name != "pg":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import pyqtgraph

    pyqtgraph.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    globals()["pg"] = pyqtgraph
    return pyqtgraph
