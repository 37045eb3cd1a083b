"""A small table showing how other models classify one model's adversarial image."""

from __future__ import annotations

from visualizer.gui.qt import QtWidgets

COLUMNS = ("Source", "Model", "Clean prediction", "On the adversarial image", "Fooled")


class TransferTable(QtWidgets.QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.setToolTip("Transfer: the selected model's adversarial image (8-bit) shown to every other model")
        self.rows: list[dict] = []
        self.setMaximumHeight(180)
        self.hide()                      # only takes room once there is a transfer to show

    def show_rows(self, rows: list[dict]) -> None:
        self.rows = list(rows)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (row["source"], row["model"], f"{row['clean']['label']} ({row['clean']['prob']:.2f})",
                     f"{row['adversarial']['label']} ({row['adversarial']['prob']:.2f})",
                     "yes" if row["changed"] else "no")
            for c, text in enumerate(cells):
                self.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.resizeColumnsToContents()
        self.setVisible(bool(rows))

    def clear_rows(self) -> None:
        self.rows = []
        self.setRowCount(0)
        self.hide()
