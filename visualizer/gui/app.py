"""Starting the desktop app."""

from __future__ import annotations

import sys


def run_app(argv: list[str] | None = None, open_path: str | None = None) -> int:
    """Start the app; ``open_path`` (an image or a .advsession file) is opened at once
    instead of the bundled defaults."""
    from visualizer import __version__
    from visualizer.gui.qt import QtCore, QtGui, QtWidgets

    QtWidgets.QApplication.setHighDpiScaleFactorRoundingPolicy(
        QtCore.Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Adversarial Visualizer")
    app.setOrganizationName("adversarial-visualizer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("adversarial-visualizer")
    icon = _icon_path()
    if icon is not None:
        app.setWindowIcon(QtGui.QIcon(str(icon)))

    from visualizer.gui.main_window import MainWindow

    window = MainWindow(load_defaults=open_path is None)
    window.show()
    if open_path is not None:
        QtCore.QTimer.singleShot(0, lambda: window.open_path(open_path))
    return app.exec()


def _icon_path():
    from visualizer.core.resources import resource_path

    try:
        path = resource_path("icons", "visualizer.svg")
    except FileNotFoundError:
        return None
    return path if path.is_file() else None
