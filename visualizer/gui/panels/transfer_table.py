"""A small table showing how other models classify one model's adversarial image, or, for a
data set, an evaluation record's transfer matrix (rows sources, columns targets)."""

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
        self.setColumnCount(len(COLUMNS))
        self.setHorizontalHeaderLabels(COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (row["source"], row["model"], f"{row['clean']['label']} ({row['clean']['prob']:.2f})",
                     f"{row['adversarial']['label']} ({row['adversarial']['prob']:.2f})",
                     "yes" if row["changed"] else "no")
            for c, text in enumerate(cells):
                self.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.resizeColumnsToContents()
        self.setVisible(bool(rows))

    def show_matrix(self, matrix: dict, names: dict[str, str] | None = None) -> None:
        """One transfer matrix of evaluation.json's ``transfer`` list: per source (row) and
        target (column) the attack success rate on the target, its 95% interval and n; the
        diagonal (white-box) in bold. ``names``: short display names by model id."""
        names = names or {}
        self.rows = []
        sources, targets = matrix["sources"], matrix["targets"]
        self.setColumnCount(len(targets))
        self.setRowCount(len(sources))
        self.setHorizontalHeaderLabels([f"on {names.get(t, t)}" for t in targets])
        self.setVerticalHeaderLabels([f"from {names.get(s, s)}" for s in sources])
        self.verticalHeader().setVisible(True)
        for i, row in enumerate(matrix["cells"]):
            for j, cell in enumerate(row):
                if cell is None or cell["success_rate"] is None:
                    item = QtWidgets.QTableWidgetItem("n/a")
                else:
                    low, high = cell["success_ci95"]
                    item = QtWidgets.QTableWidgetItem(f"{100 * cell['success_rate']:.1f}%  [{100 * low:.0f}, "
                                                      f"{100 * high:.0f}]  n = {cell['clean_correct']}")
                if sources[i] == targets[j]:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                    item.setToolTip("white-box: crafted on and scored on the same model")
                self.setItem(i, j, item)
        self.setToolTip(f"{matrix['label']}: attack success rate on the target (column) of examples crafted on "
                        "the source (row); 95% Wilson interval; n = the target's correctly classified examples")
        self.resizeColumnsToContents()
        self.setVisible(bool(sources))

    def clear_rows(self) -> None:
        self.rows = []
        self.setRowCount(0)
        self.hide()
