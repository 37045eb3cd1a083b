"""The Evaluate tab's transfer matrices: a run with several transfer attacks
(``transfer:pgd:linf:0.1,0.2``, or two transfer threats) has one matrix per attack and
budget; a chooser picks which one the table shows (only the first was reachable before,
the others only in the exported files)."""

from __future__ import annotations

from visualizer.gui.panels.chooser import chooser, chooser_column
from visualizer.gui.panels.transfer_table import TransferTable
from visualizer.gui.qt import QtWidgets


def matrix_name(matrix: dict) -> str:
    """'FGSM L∞, ε = 0.2': the attack and its budget, as the chooser and title say it."""
    return f"{matrix['label']}, \u03b5 = {matrix['eps']:g}"


class TransferMatrixView(QtWidgets.QWidget):
    """Title, chooser (shown with two or more matrices) and the table of the chosen matrix.
    A live run refreshes the matrices after every batch; the choice is kept by name."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QtWidgets.QLabel()
        self.title.setWordWrap(True)
        self.choice = chooser("The run has one transfer matrix per transfer attack and budget: choose which to show")
        self.table = TransferTable()
        self._matrices: list[dict] = []
        self._names: dict[str, str] = {}
        _, self.choice_label = chooser_column(self, "Transfer matrix:", self.choice, self.title, self.table)
        self.choice.currentIndexChanged.connect(self._show_chosen)
        self.clear()

    def clear(self) -> None:
        self._matrices = []
        self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.blockSignals(False)
        self.table.clear_rows()
        for widget in (self.title, self.choice, self.choice_label):
            widget.hide()

    def show_matrices(self, matrices: list[dict], names: dict[str, str]) -> None:
        """``matrices``: evaluation.json's ``transfer`` list (core.evaluation.transfer);
        ``names``: short display names by model id."""
        if not matrices:
            self.clear()
            return
        wanted = self.choice.currentText()
        self._matrices, self._names = list(matrices), dict(names)
        labels = [matrix_name(m) for m in matrices]
        self.choice.blockSignals(True)
        if [self.choice.itemText(i) for i in range(self.choice.count())] != labels:
            self.choice.clear()
            self.choice.addItems(labels)
        self.choice.setCurrentIndex(labels.index(wanted) if wanted in labels else 0)
        self.choice.blockSignals(False)
        several = len(matrices) > 1
        self.choice.setVisible(several)
        self.choice_label.setVisible(several)
        self._show_chosen(self.choice.currentIndex())

    def _show_chosen(self, index: int) -> None:
        if not 0 <= index < len(self._matrices):
            return
        matrix = self._matrices[index]
        self.table.show_matrix(matrix, self._names)
        t = self.table                           # as tall as its rows
        t.setFixedHeight(t.horizontalHeader().height() + sum(t.rowHeight(r) for r in range(t.rowCount()))
                         + 2 * t.frameWidth() + 2)
        self.title.setText(f"<b>{matrix_name(matrix)}</b>: attack success rate on the target (column) of the "
                           "examples crafted on the source (row); white-box in bold, 95% interval, n = the "
                           "target's clean-correct examples.")
        self.title.show()
