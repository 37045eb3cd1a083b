"""The Help menu: the tutorial, the keyboard shortcuts (read from the window's actions, so
the list is always true) and About (versions and the compute device)."""

from __future__ import annotations

from visualizer.gui.qt import QtCore, QtGui, QtWidgets


def shortcut_table(window: QtWidgets.QWidget) -> list[tuple[str, str]]:
    rows = []
    for a in window.findChildren(QtGui.QAction):
        if not a.shortcut().isEmpty():
            rows.append((a.shortcut().toString(QtGui.QKeySequence.NativeText), a.text().replace("&", "")))
    return sorted(set(rows), key=lambda r: r[1])


def show_tutorial(window: QtWidgets.QWidget) -> QtWidgets.QDialog:
    from visualizer.gui.dialogs.tutorial import TutorialDialog

    dialog = TutorialDialog(window)
    dialog.show()
    return dialog


def show_shortcuts(window: QtWidgets.QWidget) -> QtWidgets.QMessageBox:
    text = "\n".join(f"{keys:<18} {what}" for keys, what in shortcut_table(window))
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, "Keyboard shortcuts", text,
                                QtWidgets.QMessageBox.StandardButton.Ok, window)
    box.setStyleSheet("QLabel { font-family: monospace; }")
    box.open()
    return box


def about_text() -> str:
    import PySide6
    import torch

    from visualizer import __version__
    from visualizer.core.device import pick_device
    from visualizer.gui.qt import pg         # configured as the views need it, whoever imports it first

    return (f"Adversarial Visualizer {__version__}\n\n"
            f"torch {torch.__version__}, Qt {QtCore.qVersion()} (PySide6 {PySide6.__version__}), "
            f"pyqtgraph {pg.__version__}\nCompute device: {pick_device(None)}\n\n"
            "Adversarial examples (FGSM, PGD), spatial sweeps (Engstrom et al. 2018) and saliency of "
            "standard vs robust models (Tsipras et al. 2018).")


def show_about(window: QtWidgets.QWidget) -> QtWidgets.QMessageBox:
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, "About", about_text(),
                                QtWidgets.QMessageBox.StandardButton.Ok, window)
    box.open()
    return box
