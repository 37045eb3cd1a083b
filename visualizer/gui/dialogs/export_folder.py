"""Choosing the folder a tab's Export writes its files into (Evaluate, Poison)."""

from __future__ import annotations

from pathlib import Path

from visualizer.gui.qt import QtWidgets


def ask_export_folder(parent: QtWidgets.QWidget, title: str, what: str) -> tuple[str, bool] | None:
    """(folder, overwrite) chosen by the user, or None when cancelled. A folder that already
    holds files is used only after the user agrees to replace them (``what``: "the
    evaluation's files")."""
    folder = QtWidgets.QFileDialog.getExistingDirectory(parent, title)
    if not folder:
        return None
    if not any(Path(folder).iterdir()):
        return folder, False
    answer = QtWidgets.QMessageBox.question(parent, "Replace the folder's contents?",
                                            f"{folder} already holds files. Replace them with {what}?")
    if answer != QtWidgets.QMessageBox.StandardButton.Yes:
        return None
    return folder, True
