"""What an evaluation shows in the Evaluate tab: the accuracy table (rows models, columns
threats, each cell the accuracy with its 95% Wilson interval, filled in as batches finish),
accuracy against epsilon for threats given with several epsilons (a line per model, the
interval as error bars), and the examples of one cell."""

from __future__ import annotations

from visualizer.core.evaluation.presentation import MODEL_COLOURS, budget_text, curve_families, display_names
from visualizer.core.formatting import rate_text
from visualizer.gui.panels.plot_legend import CurveLegend, LegendEntry
from visualizer.gui.panels.theme import PlotColours, ThemedWidget
from visualizer.gui.qt import QtGui, Qt, QtWidgets, Signal, pg

MAX_TABLE_HEIGHT = 320      # px: beyond that the table scrolls (many models)
EXAMPLE_COLUMNS = ("Index", "Label", "Prediction", "Broken", "Margin", "By")
EXAMPLE_TIPS = {"Broken": "yes: the threat made the model misclassify this example (or it already did, clean)",
                "Margin": "true-class logit minus the largest other at the kept point (negative: misclassified)",
                "By": "the attack that broke it ('clean': misclassified without any attack)"}


def cell_text(cell: dict) -> str:
    """'71.3 %' over '[60.1, 80.4]' (percent, 95% Wilson interval)."""
    if cell.get("accuracy") is None:
        return "–"
    low, high = cell["ci95"]
    return f"{100 * cell['accuracy']:.1f} %\n[{100 * low:.1f}, {100 * high:.1f}]"


def cell_tip(cell: dict) -> str:
    parts = [f"{cell['correct']} of {cell['n']} examples still classified correctly "
             f"(95% Wilson interval in brackets)"]
    if cell.get("attack_success_rate") is not None:
        parts.append(f"attack success rate on the clean-correct ones: {100 * cell['attack_success_rate']:.1f} %")
    if cell.get("images_per_s"):
        parts.append(rate_text(cell["images_per_s"]))
    parts += [f"warning: {w}" for w in cell.get("warnings") or []]
    return "\n".join(parts) + "\nClick to list its examples."


class AccuracyTable(QtWidgets.QTableWidget):
    """Rows models, columns threats. ``cellChosen(model, threat)`` on a click."""

    cellChosen = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(0, 0, parent)
        self.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.setWordWrap(True)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignCenter)
        self.model_ids: list[str] = []
        self.threat_ids: list[str] = []
        self.cellClicked.connect(lambda r, c: self.cellChosen.emit(r, c))

    def set_layout(self, model_ids: list[str], threats: list, input_side: int | None) -> None:
        """Empty cells for ``threats`` (core Threat objects) of ``model_ids``."""
        self.clear()
        self.model_ids, self.threat_ids = list(model_ids), [t.text for t in threats]
        self.setRowCount(len(model_ids))
        self.setColumnCount(len(threats))
        self.setVerticalHeaderLabels(display_names(self.model_ids))
        headers = []
        for t in threats:
            budget = budget_text(t.to_dict(), input_side)
            headers.append(t.label() + (f"\n{budget}" if budget else ""))
        self.setHorizontalHeaderLabels(headers)
        for c, t in enumerate(threats):
            self.horizontalHeaderItem(c).setToolTip(t.text)
        for r in range(len(model_ids)):
            for c in range(len(threats)):
                item = QtWidgets.QTableWidgetItem("…")
                item.setTextAlignment(Qt.AlignCenter)
                self.setItem(r, c, item)
        self.resizeColumnsToContents()
        self.resizeRowsToContents()
        self._fit_height()

    def show_cells(self, cells: list[dict]) -> None:
        """Summaries (Evaluation.summary dicts) into their cells."""
        for cell in cells:
            if cell["model"] not in self.model_ids or cell["threat"] not in self.threat_ids:
                continue
            item = self.item(self.model_ids.index(cell["model"]), self.threat_ids.index(cell["threat"]))
            item.setText(cell_text(cell))
            item.setToolTip(cell_tip(cell))
            if cell.get("warnings"):
                item.setForeground(QtGui.QColor("#9a6700"))
        self.resizeColumnsToContents()
        self.resizeRowsToContents()
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as its rows (up to MAX_TABLE_HEIGHT): no scrolling for a few models, no
        empty band under them."""
        rows = sum(self.rowHeight(r) for r in range(self.rowCount()))
        wide = self.horizontalHeader().length() + self.verticalHeader().width() > self.width() - 2 * self.frameWidth()
        bar = self.horizontalScrollBar().sizeHint().height() if wide else 0
        height = self.horizontalHeader().sizeHint().height() + rows + 2 * self.frameWidth() + bar
        self.setFixedHeight(min(height, MAX_TABLE_HEIGHT))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit_height()            # a narrower window may need room for the scroll bar

    def text_at(self, model: int, threat: int) -> str:
        return self.item(model, threat).text()


class CurvesPlot(ThemedWidget):
    """Accuracy (%) against epsilon: a panel per curve (threats that differ only in epsilon,
    e.g. PGD L-inf and PGD L2 each on their own epsilon scale), a line per model, the 95%
    interval as error bars. Hidden while no threat has two epsilons. Curves and legend are
    redrawn in the palette's colours when it changes (light/dark switch)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.families: list[list[dict]] = []
        self.plots: list[pg.PlotItem] = []
        self._shown: tuple[list[str], list[dict]] | None = None     # (model ids, cells) drawn
        # The legend is a line of text above the panels (plot_legend.py): inside a panel it
        # would hide points (no corner is free for every model's curve).
        self.legend = CurveLegend()
        self.canvas = pg.GraphicsLayoutWidget()
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.legend)
        box.addWidget(self.canvas, 1)
        self.setMinimumHeight(180)
        self.hide()

    def plot_views(self) -> list[pg.GraphicsView]:
        return [self.canvas]

    def theme_changed(self, colours: PlotColours) -> None:
        self.legend.set_colours(colours)
        if self._shown is not None:
            self._draw(*self._shown, colours)

    def set_layout(self, threats: list) -> None:
        self.families = curve_families({"threats": [t.to_dict() for t in threats]})
        # Clean accuracy is every curve's point at epsilon 0, as in the exported curves figure.
        self.clean_id = next((t.text for t in threats if t.is_clean), None)
        self.canvas.clear()
        self.plots = []
        self._shown = None
        self.legend.set_entries([])
        for family in self.families:
            plot = self.canvas.addPlot(title=family[0]["label"])
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.vb.setMouseEnabled(x=False, y=False)
            plot.setLabel("bottom", "\u03b5 (pixels in [0, 1])")
            plot.getAxis("bottom").enableAutoSIPrefix(False)     # 0.05, not "50 (x0.001)"
            plot.setLabel("left", "accuracy (%)")
            plot.showGrid(x=False, y=True, alpha=0.25)
            plot.setYRange(0, 100, padding=0.03)
            self.plots.append(plot)
        self.setVisible(bool(self.families))
        self.apply_theme()

    def show_cells(self, model_ids: list[str], cells: list[dict]) -> None:
        """Redraw every line from ``cells`` (points only where a cell has results)."""
        self._shown = (list(model_ids), list(cells))
        self.apply_theme()

    def _draw(self, model_ids: list[str], cells: list[dict], colours: PlotColours) -> None:
        by_key = {(c["model"], c["threat"]): c for c in cells if c.get("accuracy") is not None}
        names = display_names(model_ids)
        self.legend.set_entries([LegendEntry(name, MODEL_COLOURS[m % len(MODEL_COLOURS)])
                                 for m, name in enumerate(names)], "bars: 95% interval")
        for plot, family in zip(self.plots, self.families):
            plot.clear()
            for m, model_id in enumerate(model_ids):
                colour = colours.accent(MODEL_COLOURS[m % len(MODEL_COLOURS)])    # as the legend draws it
                members = [(t["eps"], t["id"]) for t in family]
                if self.clean_id is not None:
                    members.insert(0, (0.0, self.clean_id))
                points = [(eps, by_key[(model_id, tid)]) for eps, tid in members if (model_id, tid) in by_key]
                if not points:
                    continue
                x = _array([p[0] for p in points])
                y = _array([100 * p[1]["accuracy"] for p in points])
                low = y - _array([100 * p[1]["ci95"][0] for p in points])
                high = _array([100 * p[1]["ci95"][1] for p in points]) - y
                plot.plot(x, y, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6, symbolBrush=colour,
                          symbolPen=None)
                plot.addItem(pg.ErrorBarItem(x=x, y=y, bottom=low, top=high, beam=0, pen=pg.mkPen(colour, width=1)))
            plot.setYRange(0, 100, padding=0.03)

    def point_count(self) -> int:
        """Points drawn, over every panel."""
        return sum(len(item.xData) for plot in self.plots for item in plot.listDataItems() if item.xData is not None)


def _array(values):
    import numpy as np

    return np.asarray(values, dtype=float)


class ExamplesTable(QtWidgets.QTableWidget):
    """One cell's examples. ``exampleChosen(row)`` on a click (row in the listed order)."""

    exampleChosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(0, len(EXAMPLE_COLUMNS), parent)
        self.setHorizontalHeaderLabels(EXAMPLE_COLUMNS)
        for c, name in enumerate(EXAMPLE_COLUMNS):
            if name in EXAMPLE_TIPS:
                self.horizontalHeaderItem(c).setToolTip(EXAMPLE_TIPS[name])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QtWidgets.QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SingleSelection)
        self.horizontalHeader().setStretchLastSection(True)
        self.setToolTip("Click an example to open it in the Attack view (gradient threats) or the Sweep view "
                        "(spatial threats) with the threat's parameters")
        self.cellClicked.connect(lambda r, _c: self.exampleChosen.emit(r))

    def show_rows(self, rows: dict, class_names: list[str]) -> None:
        """``rows``: Evaluation.cell_rows columns."""
        def name(k):
            known = 0 <= k < len(class_names) and class_names[k] != str(k)
            return f"{k}: {class_names[k]}" if known else str(k)

        n = len(rows["index"])
        self.setRowCount(n)
        for r in range(n):
            margin = rows["margin"][r]
            values = (str(rows["index"][r]), name(rows["label"][r]), name(rows["prediction"][r]),
                      "yes" if rows["success"][r] else "no", "" if margin is None else f"{margin:+.3f}",
                      rows["attack"][r] or "")
            for c, text in enumerate(values):
                item = QtWidgets.QTableWidgetItem(text)
                if c in (0, 4):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.setItem(r, c, item)
        self.resizeColumnsToContents()
