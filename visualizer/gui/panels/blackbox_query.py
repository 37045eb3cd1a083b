"""The Black box tab's query-attack section: the settings (``QuerySetup``, checked as the user
types by the core's own parsers: QueryAttackParams, the oracle and defence grammars) and the
live view (``QueryLive``): the query counter, the margin against queries (a line per model,
a point per query batch), the current adversarial image at the last query and its top-5."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visualizer.core.blackbox.oracle import DEFENCE_HELP, SPEC_HELP, check_oracle_fits, parse_defence
from visualizer.core.blackbox.params import QUERY_METHODS, QueryAttackParams
from visualizer.core.numbers import parse_number
from visualizer.gui.form_parts import make_form
from visualizer.gui.panels.checked_setup import CheckedSetup
from visualizer.gui.panels.image_views import ImageGridWidget, ImagePanel, to_display
from visualizer.gui.panels.placeholder import EmptyPlotHint
from visualizer.gui.panels.plot_legend import CurveLegend, LegendEntry
from visualizer.gui.panels.robustness_plot import RUN_COLOURS
from visualizer.gui.panels.theme import PlotColours, ThemedWidget
from visualizer.gui.panels.top5_bars import Top5Bars
from visualizer.gui.qt import Qt, QtWidgets, pg

METHOD_NAMES = {"square": "Square (scores)", "nes": "NES (scores)", "hopskipjump": "HopSkipJump (labels)"}
METHOD_TIPS = {"square": "Square Attack (Andriushchenko et al. 2020): random squares, kept when the margin rises",
               "nes": "NES gradient estimation (Ilyas et al. 2018) driving PGD steps",
               "hopskipjump": "HopSkipJump (Chen et al. 2020): walks the decision boundary from top-1 labels alone"}


@dataclass(frozen=True)
class QueryRequest:
    params: QueryAttackParams
    oracle: str
    defence: str | None


class QuerySetup(CheckedSetup):
    """Attack, norm, eps, oracle, defence, query budget and seed. ``changed`` on every edit."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._model = None          # the model the oracle is checked against (set_model)
        self.attack = QtWidgets.QComboBox()
        for key in QUERY_METHODS:
            self.attack.addItem(METHOD_NAMES[key], key)
            self.attack.setItemData(self.attack.count() - 1, METHOD_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self.attack.setToolTip("Square and NES need the oracle's scores; HopSkipJump works from its top-1 label")
        self.norm = QtWidgets.QComboBox()
        self.norm.addItem("L\u221e", "linf")
        self.norm.addItem("L2", "l2")
        self.eps = QtWidgets.QLineEdit("0.3")
        self.eps.setToolTip("Budget in [0, 1] pixel units: L\u221e largest per-pixel change (8/255 works), "
                            "L2 norm of the whole perturbation")
        self.oracle = QtWidgets.QLineEdit("probs")
        self.oracle.setToolTip(f"What the model reveals per query: {SPEC_HELP}")
        self.defence = QtWidgets.QLineEdit("none")
        self.defence.setToolTip(f"Perturb the oracle's probabilities: {DEFENCE_HELP} (Lee et al. 2019)")
        self.queries = QtWidgets.QSpinBox()
        self.queries.setRange(2, 1_000_000)
        self.queries.setValue(1000)
        self.queries.setToolTip("Query budget for the image, the clean query included")
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Seed of the attack's random draws")
        numbers = QtWidgets.QHBoxLayout()
        for widget, stretch in ((self.norm, 0), (QtWidgets.QLabel("\u03b5"), 0), (self.eps, 1)):
            numbers.addWidget(widget, stretch)
        budget = QtWidgets.QHBoxLayout()
        for widget, stretch in ((self.queries, 1), (QtWidgets.QLabel("seed"), 0), (self.seed, 0)):
            budget.addWidget(widget, stretch)
        form = make_form([("Attack", self.attack), ("Oracle", self.oracle), ("Defence", self.defence)])
        form.addRow("Norm", numbers)
        form.addRow("Queries", budget)
        form.addRow(self.message)
        form.setContentsMargins(0, 0, 0, 0)
        self.setLayout(form)
        for edit in (self.eps, self.oracle, self.defence):
            edit.textChanged.connect(self._changed)
        for combo in (self.attack, self.norm):
            combo.currentIndexChanged.connect(self._changed)
        for box in (self.queries, self.seed):
            box.valueChanged.connect(self._changed)
        self._changed()

    def set_model(self, model) -> None:
        """The model the Attack button attacks (a loaded ClassifierModel, or None): the
        oracle is checked against its classes as the user types (topk:11 of 10)."""
        self._model = model
        self._changed()

    def check(self) -> None:
        request = self.request()
        if self._model is not None:
            check_oracle_fits(request.oracle, self._model.info.num_classes, self._model.info.model_id)

    def request(self) -> QueryRequest:
        """The checked settings. Raises VisualizerError (ParameterError) with the user's words."""
        from visualizer.core.blackbox.run import check_query_request

        params = QueryAttackParams(method=self.attack.currentData(), norm=self.norm.currentData(),
                                   eps=parse_number(self.eps.text(), "Epsilon"), queries=self.queries.value(),
                                   seed=self.seed.value())
        oracle = self.oracle.text().strip().lower()
        check_query_request(params, oracle)
        defence = self.defence.text().strip().lower() or None
        parse_defence(defence)
        return QueryRequest(params, oracle, None if defence in (None, "none") else defence)

    def state(self) -> dict:
        return {"attack": self.attack.currentData(), "norm": self.norm.currentData(), "eps": self.eps.text(),
                "oracle": self.oracle.text(), "defence": self.defence.text(), "queries": self.queries.value(),
                "seed": self.seed.value()}

    def restore_state(self, d) -> None:
        """Tolerant of missing or stale values."""
        if not isinstance(d, dict):
            return
        for key, combo in (("attack", self.attack), ("norm", self.norm)):
            index = combo.findData(d.get(key))
            if index >= 0:
                combo.setCurrentIndex(index)
        for key, edit in (("eps", self.eps), ("oracle", self.oracle), ("defence", self.defence)):
            if isinstance(d.get(key), str):
                edit.setText(d[key])
        for key, box in (("queries", self.queries), ("seed", self.seed)):
            if isinstance(d.get(key), int):
                box.setValue(d[key])


class QueryLive(ThemedWidget):
    """Counter, margin-vs-queries plot, adversarial image and top-5 of one query attack."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.counter = QtWidgets.QLabel("Queries: –")
        font = self.counter.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.counter.setFont(font)
        self.counter.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.counter.setToolTip("Queries the oracle has answered for this image, the clean query included")
        self.outcome = QtWidgets.QLabel("Open an image, choose the settings and press Attack.")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot_view = pg.PlotWidget()
        plot = self.plot = self.plot_view.getPlotItem()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setLabel("bottom", "queries")
        plot.setLabel("left", "margin")
        plot.showGrid(x=False, y=True, alpha=0.25)
        self.zero = pg.InfiniteLine(0, angle=0, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
        plot.addItem(self.zero)
        self.empty_hint = EmptyPlotHint(plot, "The margin appears here, a point per query batch;\n"
                                              "above the dashed line the oracle is fooled", also_hide=[self.zero])
        self.empty_hint.set_empty(True)
        self.legend = CurveLegend()             # above the plot: inside it, it covered the margins
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.images = ImageGridWidget()
        self.panel = ImagePanel(self.images.ci, 0, 0, "Adversarial at the last query")
        self.images.set_grid(1, 1, text_rows=1)
        self.images.setMinimumSize(120, 130)
        self.top5 = Top5Bars("Oracle's top-5 at the last query")
        self.top5.setMinimumWidth(140)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(self.images, 3)
        side.addWidget(self.top5, 1)
        plotted = QtWidgets.QVBoxLayout()
        plotted.setSpacing(0)
        plotted.addWidget(self.legend)
        plotted.addWidget(self.plot_view, 1)
        row = QtWidgets.QHBoxLayout()
        row.addLayout(plotted, 3)
        row.addLayout(side, 2)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.counter)
        head.addWidget(self.outcome, 1)
        box.addLayout(head)
        box.addLayout(row, 1)
        self.apply_theme()

    def plot_views(self) -> list[pg.GraphicsView]:
        return [self.plot_view]

    def theme_changed(self, colours: PlotColours) -> None:
        self.empty_hint.set_colours(colours)
        self.legend.set_colours(colours)

    # -- data ----------------------------------------------------------------------------------
    def clear(self) -> None:
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.curves = {}
        self.empty_hint.set_empty(True)
        self.legend.set_entries([])
        self.panel.clear()
        self.top5.clear()
        self.counter.setText("Queries: –")

    def set_curve(self, name: str, queries: list[float], margins: list[float], loss_name: str = "margin") -> None:
        """The line of model ``name``: one point per query batch (queries so far, margin)."""
        curve = self.curves.get(name)
        if curve is None:
            colour = RUN_COLOURS[len(self.curves) % len(RUN_COLOURS)]
            curve = self.plot.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=4,
                                   symbolPen=pg.mkPen(colour), symbolBrush=colour, name=name)
            self.curves[name] = curve
            self.legend.set_entries([*self.legend.entries(), LegendEntry(name, colour)])
        curve.setData(np.asarray(queries, dtype=float), np.asarray(margins, dtype=float))
        self.plot.setLabel("left", loss_name)
        self.empty_hint.set_empty(not any(self.points(n) for n in self.curves))

    def points(self, name: str) -> int:
        curve = self.curves.get(name)
        x = None if curve is None else curve.getData()[0]
        return 0 if x is None else len(x)

    def show_state(self, queries: int, budget: int, image: np.ndarray | None, top5: list[dict],
                   reference: int | None, caption: str) -> None:
        """The counter, the image (C x H x W in [0, 1]) and the top-5 under ``caption``."""
        self.counter.setText(f"Queries: {queries} / {budget}")
        if image is not None:
            self.panel.set_image(to_display(image))
            self.images.set_aspect(image.shape[-2] / image.shape[-1])
        self.top5.set_title(caption)
        self.top5.set_entries(top5, reference=reference)
