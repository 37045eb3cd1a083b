"""The Black box tab's steal section: the settings of ``visualizer steal`` (``StealSetup``,
checked as the user types by the core's own parsers and StealConfig) and the curve
(``StealCurve``): the substitute's agreement with the victim (solid) and its test accuracy
(dashed) against the number of queries, a colour per victim-side defence, filled in as each
query count is measured."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.core.blackbox.oracle import SPEC_HELP, check_oracle_fits
from visualizer.core.errors import ParameterError
from visualizer.core.models.architectures import EXAMPLE_NAMES
from visualizer.core.stealing.queries import QUERY_FORMS
from visualizer.core.stealing.spec import DEFENCE_FORMS
from visualizer.gui.dialogs.path_field import path_field
from visualizer.gui.form_parts import make_form
from visualizer.gui.panels.checked_setup import CheckedSetup
from visualizer.gui.panels.plot_legend import LegendEntry, LegendPlot
from visualizer.gui.panels.robustness_plot import RUN_COLOURS
from visualizer.gui.panels.settings_page import keep_narrow, spin_box
from visualizer.gui.panels.train_form import _fresh_folder, default_data_folder, default_runs_folder
from visualizer.gui.qt import Qt, QtWidgets, pg


@dataclass(frozen=True)
class StealRequest:
    config: object            # core StealConfig (out: a fresh subfolder of the runs folder)
    victim: object            # the ModelEntry of the victim


def _default_specs() -> tuple[str, str]:
    """(query data, test data): Fashion-MNIST images to steal an MNIST model, from the
    checkout's ../shared/data when it is there."""
    mnist = default_data_folder()
    if mnist is None:
        return "noise", ""
    fashion = mnist.parent / "fashion-mnist"
    return (f"fashion-mnist:{fashion}" if fashion.is_dir() else "noise"), f"mnist:{mnist}"


class StealSetup(CheckedSetup):
    """The victim, oracle, defence, query counts, query and test data, how the queries are
    chosen, architecture, epochs, how many images measure, and the runs folder. ``changed`` on
    every edit."""

    def __init__(self, parent=None):
        super().__init__(parent)
        query_data, test_data = _default_specs()
        self.victim = QtWidgets.QComboBox()
        self.victim.setToolTip("The loaded model to steal; the thief sees it only through the oracle")
        self.oracle = QtWidgets.QLineEdit("label")
        self.oracle.setToolTip(f"What the victim reveals per query: {SPEC_HELP}")
        self.defence = QtWidgets.QLineEdit("none")
        self.defence.setToolTip("Victim-side defence: " + ", ".join(DEFENCE_FORMS)
                                + "; a comma list steals once per defence to compare what each costs the thief")
        self.queries = QtWidgets.QLineEdit("500,1000,5000")
        self.queries.setToolTip("Query counts, increasing: one substitute each, trained on the first N answers")
        self.query_data, data_row = path_field("noise, jacobian or a data set spec",
                                               "What the thief sends: " + ", ".join(QUERY_FORMS), self._browse_query)
        self.query_data.setText(query_data)
        self.select = QtWidgets.QComboBox()
        self.select.addItem("in order", "order")
        self.select.addItem("least sure first (uncertainty)", "uncertainty")
        self.select.setToolTip("Which images are asked: the data set's in order, or, after the first query count, "
                               "those the substitute of the count before is least sure of (ActiveThief, Pal et al. "
                               "2020). Needs two or more query counts and a fair first substitute (e.g. 1000 "
                               "queries): then its copy transfers better at the same number of queries; after a "
                               "poor first substitute it may ask mostly one class")
        self.test_data, test_row = path_field("mnist:DIR", "The victim's task: its test split measures accuracy "
                                              "and agreement (and seeds jacobian)", self._browse_test)
        self.test_data.setText(test_data)
        self.arch = QtWidgets.QComboBox()
        self.arch.setEditable(True)
        self.arch.addItems(["mnist-cnn", "mnist-cnn-wide", *[n for n in EXAMPLE_NAMES if not n.startswith("mnist")]])
        self.arch.setToolTip("The substitute's architecture (its input must be the victim's)")
        self.epochs = spin_box(1, 1000, 10, "Training epochs per substitute")
        self.test_limit = spin_box(1, 1_000_000, 1000, "First N test images for accuracy and agreement")
        self.attack_limit = spin_box(1, 100_000, 200, "PGD on the first N test images the victim gets right")
        self.folder, folder_row = path_field("folder for the runs", "Each steal writes a new subfolder here: "
                                             "one trained model per substitute", self._browse_folder)
        self.folder.setText(str(default_runs_folder().parent / "steal-runs"))
        form = make_form([("Victim", self.victim), ("Oracle", self.oracle), ("Defence", self.defence),
                          ("Queries", self.queries), ("Arch", self.arch), ("Epochs", self.epochs),
                          ("Test images", self.test_limit), ("PGD images", self.attack_limit)])
        form.insertRow(4, "Query data", data_row)
        form.insertRow(5, "Choose queries", self.select)
        form.insertRow(6, "Test data", test_row)
        form.addRow("Folder", folder_row)
        form.addRow(self.message)
        form.setContentsMargins(0, 0, 0, 0)
        self.setLayout(form)
        for edit in (self.oracle, self.defence, self.queries, self.query_data, self.test_data, self.folder):
            edit.setMinimumWidth(80)
            edit.textChanged.connect(self._changed)
        self.select.currentIndexChanged.connect(self._changed)
        keep_narrow((self.arch, self.victim))      # a long model id (a stolen copy's) must not widen the tab
        self.arch.currentTextChanged.connect(self._changed)
        self.victim.currentIndexChanged.connect(self._changed)
        self._changed()

    # -- victims ----------------------------------------------------------------------------------
    def set_models(self, entries: list) -> None:
        """The ready models as victims; the chosen one stays chosen while it is loaded."""
        current = self.victim.currentData()
        self.victim.blockSignals(True)
        self.victim.clear()
        for entry in entries:
            self.victim.addItem(entry.model.info.model_id, entry)
        index = next((i for i, e in enumerate(entries) if e is current), 0)
        self.victim.setCurrentIndex(index if entries else -1)
        self.victim.blockSignals(False)
        self._changed()

    # -- browsing ---------------------------------------------------------------------------------
    def _browse_into(self, edit: QtWidgets.QLineEdit, title: str) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, title)
        if path:
            kind = edit.text().partition(":")[0].strip().lower()
            edit.setText(f"{kind if kind in ('mnist', 'fashion-mnist') else 'folder'}:{path}")

    def _browse_query(self) -> None:
        self._browse_into(self.query_data, "The thief's images (a data set folder)")

    def _browse_test(self) -> None:
        self._browse_into(self.test_data, "The victim's test data")

    def _browse_folder(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder for steal runs", self.folder.text())
        if path:
            self.folder.setText(path)

    # -- checking ---------------------------------------------------------------------------------
    def request(self, fresh_folder: bool = True) -> StealRequest:
        """The checked settings. Raises VisualizerError in the user's words."""
        from visualizer.core.data.spec import parse_data_spec
        from visualizer.core.models.arch import resolve_arch
        from visualizer.core.stealing import StealConfig, parse_defences, parse_query_counts, parse_query_source

        entry = self.victim.currentData()
        if entry is None or entry.model is None:
            raise ParameterError("Load the model to steal first (Models > Add model…) and choose it as the victim.")
        queries = tuple(parse_query_counts(self.queries.text()))
        source = str(parse_query_source(self.query_data.text()))
        if not self.test_data.text().strip():
            raise ParameterError("Choose the victim's test data (e.g. mnist:DIR): it measures accuracy and agreement.")
        test = str(parse_data_spec(self.test_data.text()))
        arch = self.arch.currentText().strip()
        if ":" not in arch:
            resolve_arch(arch)
        runs = self.folder.text().strip()
        if not runs:
            raise ParameterError("Choose a folder for the steal runs.")
        out = _fresh_folder(Path(runs).expanduser(), f"steal-{entry.model.info.model_id}") if fresh_folder else runs
        config = StealConfig(victim=entry.model.info.model_id, oracle=self.oracle.text().strip().lower(),
                             queries=queries, query_data=source, arch=arch, test_data=test, out=str(out),
                             defences=tuple(parse_defences(self.defence.text())), epochs=self.epochs.value(),
                             test_limit=self.test_limit.value(), attack_limit=self.attack_limit.value(),
                             seed_size=min(100, queries[0]), query_select=self.select.currentData())
        info = entry.model.info      # topk:11 of 10 classes: refused as it is typed, not after the white-box PGD
        check_oracle_fits(config.oracle, info.num_classes, info.model_id)
        return StealRequest(config, entry)

    def check(self) -> None:
        self.request(fresh_folder=False)

    def state(self) -> dict:
        d = {name: getattr(self, name).text() for name in ("oracle", "defence", "queries", "query_data", "test_data",
                                                           "folder")}
        d.update(arch=self.arch.currentText(), epochs=self.epochs.value(), test_limit=self.test_limit.value(),
                 attack_limit=self.attack_limit.value(), query_select=self.select.currentData())
        return d

    def restore_state(self, d) -> None:
        if not isinstance(d, dict):
            return
        for name in ("oracle", "defence", "queries", "query_data", "test_data", "folder"):
            if isinstance(d.get(name), str):
                getattr(self, name).setText(d[name])
        if isinstance(d.get("arch"), str):
            self.arch.setCurrentText(d["arch"])
        for name in ("epochs", "test_limit", "attack_limit"):
            if isinstance(d.get(name), int):
                getattr(self, name).setValue(d[name])
        index = self.select.findData(d.get("query_select"))
        if index >= 0:
            self.select.setCurrentIndex(index)


class StealCurve(LegendPlot):
    """Agreement (solid) and test accuracy (dashed) against queries, a colour per defence."""

    def __init__(self, parent=None):
        super().__init__(parent)
        view = pg.PlotWidget()
        plot = self.plot = view.getPlotItem()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.vb.setMouseEnabled(x=False, y=False)
        plot.setLabel("bottom", "queries to the victim")
        plot.setLabel("left", "share of test images")
        plot.setLogMode(x=True, y=False)
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.setYRange(0, 1.02, padding=0)
        # the legend above the plot (plot_legend.py): inside it, it covered the rising curves
        self.stack(view, plot, "Agreement with the victim (solid) and test accuracy (dashed)\n"
                               "appear here as each query count is measured", 180)
        self.lines: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self.data: dict[str, list[dict]] = {}
        self.apply_theme()

    def clear(self) -> None:
        for agree, accuracy in self.lines.values():
            for curve in (agree, accuracy):
                self.plot.removeItem(curve)
        self.lines, self.data = {}, {}
        self.plot.getAxis("bottom").setTicks(None)
        self.empty_hint.set_empty(True)
        self.legend.set_entries([])

    def add_point(self, defence: str, point: dict) -> None:
        """A measured point (steal.json's ``runs[].points[]`` entry) of ``defence``."""
        self.data.setdefault(defence, []).append(dict(point))
        self._draw(defence)

    def set_runs(self, runs: list[dict]) -> None:
        """Every run of a steal.json record (a restored session, a finished experiment)."""
        self.clear()
        for run in runs:
            self.data[run["defence"]] = [dict(p) for p in run.get("points", [])]
            self._draw(run["defence"])

    def _draw(self, defence: str) -> None:
        if defence not in self.lines:
            colour = RUN_COLOURS[len(self.lines) % len(RUN_COLOURS)]
            name = "no defence" if defence == "none" else defence
            agree = self.plot.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=7, symbolBrush=colour,
                                   symbolPen=pg.mkPen(colour), name=f"{name}: agreement")
            accuracy = self.plot.plot(pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine), symbol="t",
                                      symbolSize=7, symbolBrush=colour, symbolPen=pg.mkPen(colour),
                                      name=f"{name}: test accuracy")
            self.lines[defence] = (agree, accuracy)
            # one entry per defence, the two line styles said once: four entries took four
            # lines of a narrow column, and the plot the rest
            self.legend.set_entries([*self.legend.entries(), LegendEntry(name, colour, None)],
                                    "solid \u25cf: agreement, dashed \u25bc: test accuracy")
        points = self.data.get(defence, [])
        x = np.asarray([p["queries"] for p in points], dtype=float)
        agree, accuracy = self.lines[defence]
        agree.setData(x, np.asarray([p["agreement"] for p in points], dtype=float))
        accuracy.setData(x, np.asarray([p["test_accuracy"] for p in points], dtype=float))
        self.empty_hint.set_empty(not any(self.data.values()))
        self.plot.setYRange(0, 1.02, padding=0)      # shares: always the whole 0-1 scale
        counts = [p["queries"] for points in self.data.values() for p in points]
        if counts:                                   # log10 coordinates; room for the end markers
            low, high = np.log10(min(counts)), np.log10(max(counts))
            self.plot.setXRange(low - 0.08, high + 0.08, padding=0)
            ticks = [(float(np.log10(q)), f"{q:,}") for q in sorted(set(counts))]
            self.plot.getAxis("bottom").setTicks([ticks, []])      # the query counts asked for, no crowding

    def points(self, defence: str) -> list[tuple[float, float]]:
        """(queries, agreement) as plotted."""
        return [(p["queries"], p["agreement"]) for p in self.data.get(defence, [])]
