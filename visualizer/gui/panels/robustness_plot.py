"""Clean and robust accuracy against epoch, one line pair per training run (clean solid,
robust dashed, one colour per run), so standard and adversarial training are compared on
one plot while they train. Redrawn from each run's full history on every update: a few
points per run, and no epoch can be missed when progress events are throttled."""

from __future__ import annotations

from dataclasses import dataclass, field

from visualizer.gui.panels.plot_legend import LegendEntry, LegendPlot
from visualizer.gui.panels.plot_parts import fixed_plot
from visualizer.gui.panels.theme import PlotColours
from visualizer.gui.qt import Qt, pg

__all__ = ["RobustnessPlot", "RUN_COLOURS"]

# Okabe & Ito's colour-blind-safe qualitative palette (2008), in order of contrast on white.
RUN_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")


@dataclass
class _Run:
    name: str
    attack: str                # what measured robust accuracy, e.g. "PGD-10 L∞ 0.3"
    colour: str
    history: list[dict] = field(default_factory=list)
    clean: pg.PlotDataItem | None = None
    robust: pg.PlotDataItem | None = None


class RobustnessPlot(LegendPlot):
    """``add_run(name)`` starts a line pair; ``set_history(run, records)`` redraws it from the
    trainer's epoch records (``epoch``, ``test_clean_accuracy``, ``test_robust_accuracy``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        # The legend sits above the plot (plot_legend.py): inside, it hid the low robust lines.
        view = pg.GraphicsLayoutWidget()
        plot = fixed_plot(view, "epoch", "held-out accuracy", (-0.02, 1.02))
        self.plot_item = plot
        plot.getAxis("bottom").setTickSpacing(major=1, minor=1)
        self.runs: list[_Run] = []
        self.stack(view, plot, "Clean and robust accuracy appear here after each epoch of a run", 220)
        self.apply_theme()

    def theme_changed(self, colours: PlotColours) -> None:
        super().theme_changed(colours)
        for run in self.runs:
            self._style(run, colours)

    def _style(self, run: _Run, colours: PlotColours) -> None:
        colour = colours.accent(run.colour)
        for curve, style, symbol in ((run.clean, Qt.PenStyle.SolidLine, "o"), (run.robust, Qt.PenStyle.DashLine, "t")):
            curve.setPen(pg.mkPen(colour, width=2, style=style))
            curve.setSymbol(symbol)
            curve.setSymbolSize(8)
            curve.setSymbolPen(pg.mkPen(colour))
            curve.setSymbolBrush(colour if symbol == "o" else colours.window)

    # ------------------------------------------------------------------ data
    def add_run(self, name: str, attack: str = "") -> int:
        """A new line pair (empty until its first epoch); returns its index. ``attack`` names
        what measured robust accuracy ("PGD-10 L∞ 0.3"): under the legend while every run shares
        it, else beside each run's robust line."""
        run = _Run(name, attack, RUN_COLOURS[len(self.runs) % len(RUN_COLOURS)])
        run.clean = self.plot_item.plot()
        run.robust = self.plot_item.plot()
        self.runs.append(run)
        self._style(run, self.apply_theme())
        self._label_attacks()
        return len(self.runs) - 1

    def _label_attacks(self) -> None:
        attacks = {run.attack for run in self.runs}
        shared = len(attacks) == 1
        # a note of the legend, which wraps: as the plot's title it was cut off in a narrow window
        note = f"dashed: robust accuracy under {next(iter(attacks))}" if shared and self.runs[0].attack else ""
        entries = []
        for run in self.runs:           # a run's robust line right after its clean line
            robust = "robust" if shared or not run.attack else f"robust ({run.attack})"
            entries += [LegendEntry(f"{run.name}: clean", run.colour),
                        LegendEntry(robust, run.colour, "t", dashed=True, hollow=True)]
        self.legend.set_entries(entries, note)
        self.apply_theme()

    def drop_last_if_empty(self) -> None:
        """The newest run goes if it never finished an epoch (failed, or cancelled early)."""
        if self.runs and not self.runs[-1].history:
            run = self.runs.pop()
            for curve in (run.clean, run.robust):
                self.plot_item.removeItem(curve)
            self._label_attacks()

    def set_history(self, index: int, history: list[dict]) -> None:
        run = self.runs[index]
        run.history = [dict(r) for r in history]
        epochs = [r["epoch"] for r in run.history]
        run.clean.setData(epochs, [r["test_clean_accuracy"] for r in run.history])
        robust = [(r["epoch"], r["test_robust_accuracy"]) for r in run.history if "test_robust_accuracy" in r]
        run.robust.setData([e for e, _ in robust], [a for _, a in robust])
        last = max((r["epoch"] for run in self.runs for r in run.history), default=0)
        self.plot_item.setXRange(0.7, max(last, 2) + 0.3, padding=0)
        self.empty_hint.set_empty(last == 0)

    def points(self, index: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """(clean, robust) points of run ``index`` as plotted: (epoch, accuracy) pairs."""
        run = self.runs[index]
        pairs = []
        for curve in (run.clean, run.robust):
            x, y = curve.getData()
            pairs.append([] if x is None else [(float(a), float(b)) for a, b in zip(x, y)])
        return pairs[0], pairs[1]

    def clear(self) -> None:
        for run in self.runs:
            self.plot_item.removeItem(run.clean)
            self.plot_item.removeItem(run.robust)
        self.runs = []
        self._label_attacks()
        self.empty_hint.set_empty(True)
