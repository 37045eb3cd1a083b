"""Starting the desktop app."""

from __future__ import annotations

import sys


def run_app(argv: list[str] | None = None, open_path: str | None = None) -> int:
    """Start the app; ``open_path`` (an image or a .advsession file) is opened at once
    instead of the bundled defaults."""
    from visualizer import __version__
    from visualizer.gui.qt import QtCore, QtWidgets

    QtWidgets.QApplication.setHighDpiScaleFactorRoundingPolicy(
        QtCore.Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Adversarial Visualizer")
    app.setOrganizationName("adversarial-visualizer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("adversarial-visualizer")
    app.setWindowIcon(app_icon())

    from visualizer.gui.main_window import MainWindow

    window = MainWindow(load_defaults=open_path is None)
    tune_for_responsiveness(window)
    window.show()
    if open_path is not None:
        QtCore.QTimer.singleShot(0, lambda: window.open_path(open_path))
    return app.exec()


def tune_for_responsiveness(window) -> None:
    """What the app's process does to keep its window responsive (the benchmarks do it too):
    garbage collection on the GUI thread, off what lives on (gc_policy); the GIL back to the
    GUI thread within 1 ms (gil_policy); export libraries imported once the window is idle."""
    from visualizer.gui import gc_policy, gil_policy

    gc_policy.enable()
    gil_policy.favour_gui_thread()
    window.exporter.warm_up()


def app_icon():
    """The window icon: the hicolor PNGs (crisp at 16-48 px, where a scaled SVG blurs),
    the SVG if they are missing, an empty icon if both are."""
    from visualizer.core.resources import resource_path
    from visualizer.gui.qt import QtCore, QtGui

    icon = QtGui.QIcon()
    try:
        icons = resource_path("icons")
    except FileNotFoundError:
        return icon
    for png in sorted(icons.glob("hicolor/*x*/apps/adversarial-visualizer.png")):
        side = int(png.parts[-3].split("x")[0])
        icon.addFile(str(png), QtCore.QSize(side, side))
    if icon.isNull() and (icons / "visualizer.svg").is_file():
        icon = QtGui.QIcon(str(icons / "visualizer.svg"))
    return icon
