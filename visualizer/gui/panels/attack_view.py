"""One model's column for a gradient attack: original, adversarial and amplified perturbation
(linked views), top-5 before and after, loss and probabilities per iterate, and a status line.

The view only displays: ``show_clean`` when an image is loaded, ``show_progress`` about 20 times
a second while the attack runs (updates existing items only), ``show_result`` with the final
record. Records are the dicts of ``visualizer.core.results.attack_record``.
"""

from __future__ import annotations

import html

import numpy as np

from visualizer.gui.panels.colormaps import C_REF, C_TGT, diverging_cmap
from visualizer.core.formatting import eps_text, num, over_255, prob_text
from visualizer.core.results import saved_outcome
from visualizer.gui.panels.history_plot import HistoryPlot
from visualizer.gui.panels.image_views import ImageGridWidget, ImagePanel, channel_mean, link_views, to_display
from visualizer.gui.panels.model_view import ModelResultView
from visualizer.gui.panels.theme import PlotColours
from visualizer.gui.panels.top5_bars import Top5Bars
from visualizer.gui.qt import QtWidgets, pg

__all__ = ["AttackView", "perturbation_limit"]

NORM_NAMES = {"linf": "L\u221e", "l2": "L2"}
# eps and |delta| are float32 on the device: allow their rounding when testing |delta| <= eps.
EPS_TOLERANCE = 1e-4


def perturbation_limit(delta: np.ndarray, params: dict | None) -> tuple[float, str]:
    """(colour limit L, what L is). An L-inf attack's map spans exactly its budget ±eps; any
    other map (L2, or an L-inf map that exceeds eps) spans ±max|delta|."""
    params = params or {}
    finite = np.abs(delta[np.isfinite(delta)])
    max_abs = float(finite.max()) if finite.size else 0.0
    eps = params.get("eps")
    if params.get("norm") == "linf" and eps and float(eps) > 0 and max_abs <= float(eps) * (1 + EPS_TOLERANCE):
        return float(eps), "\u00b1\u03b5"
    if max_abs > 0:
        return max_abs, "\u00b1max|\u03b4|"
    return (float(eps) if eps else 1.0), "\u00b1\u03b5"


def _amplification(limit: float) -> str:
    factor = 1.0 / limit
    return f"\u00d7{factor:.0f}" if factor >= 10 else f"\u00d7{factor:.2g}"


def _describe(params: dict) -> str:
    method = str(params.get("method", "?")).lower()
    norm = params.get("norm")
    steps = params.get("steps")
    head = (f"PGD-{steps}" if steps else "PGD") if method == "pgd" else method.upper()
    parts = [f"{head} {NORM_NAMES.get(norm, norm)}", f"\u03b5 = {eps_text(params.get('eps'), norm)}"]
    if params.get("restarts") and int(params["restarts"]) > 1:
        parts.append(f"{int(params['restarts'])} restarts")
    parts.append("targeted" if params.get("targeted") else "untargeted")
    return " \u00b7 ".join(parts)


class AttackView(ModelResultView):
    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._clean: np.ndarray | None = None       # C x H x W, kept to form live perturbations
        self._params: dict = {}
        self._reference: int | None = None
        self._target: int | None = None
        self._limit = 0.0

        # Images: one GraphicsLayoutWidget, three linked views, one colour bar for the perturbation.
        self.images = ImageGridWidget()
        lay = self.images.ci
        self.original = ImagePanel(lay, 0, 0, "Original", caption=True)
        self.adversarial = ImagePanel(lay, 0, 1, "Adversarial", caption=True)
        self.perturbation = ImagePanel(lay, 0, 2, "Perturbation", caption=True)
        link_views(self.image_views())
        self.colour_bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=diverging_cmap(), width=10,
                                          interactive=False)
        # Room for "+12/255" in the current font (the bar's default 45 px drops wider labels).
        self.colour_bar.axis.setWidth(self.fontMetrics().horizontalAdvance("\u221200/255") + 14)
        lay.addItem(self.colour_bar, row=1, col=3)
        self.colour_bar.setImageItem(self.perturbation.image)
        for col in range(3):
            lay.layout.setColumnStretchFactor(col, 1)
        self.images.set_grid(1, 3, reserved_width=self.colour_bar.axis.width() + 20)

        self.bars_before = Top5Bars("Top-5 clean")
        self.bars_after = Top5Bars("Top-5 adversarial")
        self.legend_label = QtWidgets.QLabel()
        self.legend_label.setWordWrap(True)
        bars = QtWidgets.QGridLayout()
        bars.setContentsMargins(4, 2, 4, 0)
        bars.setHorizontalSpacing(12)
        bars.setVerticalSpacing(0)
        bars.addWidget(self.bars_before, 0, 0)
        bars.addWidget(self.bars_after, 0, 1)
        bars.addWidget(self.legend_label, 1, 0, 1, 2)

        self.history = HistoryPlot()


        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title_label)
        layout.addWidget(self.images)
        layout.addLayout(bars)
        layout.addWidget(self.history, 1)
        layout.addWidget(self.status_label)
        self.clear()
        self.apply_theme()

    # ------------------------------------------------------------------ public API

    def image_views(self) -> list[pg.ViewBox]:
        """Original, adversarial and perturbation views (linked to each other); the main window
        links them across columns whose inputs have the same size."""
        return [self.original.view, self.adversarial.view, self.perturbation.view]

    def show_clean(self, clean: np.ndarray, top5: list[dict], reference: int | None = None,
                   target: int | None = None, params: dict | None = None) -> None:
        """The loaded image before any attack. ``reference`` defaults to the clean top-1 (what
        the engine attacks when no label is given); ``params`` (an AttackParams dict) sets the
        live perturbation's colour range to ±eps for L-inf."""
        self._clean = np.asarray(clean, dtype=np.float32)
        if self._clean.ndim == 2:
            self._clean = self._clean[None]
        self._params = dict(params or {})
        self._reference = reference if reference is not None else (top5[0]["class"] if top5 else None)
        self._target = target
        self._limit = 0.0
        self.images.set_aspect(self._clean.shape[1] / self._clean.shape[2])
        self.original.set_image(to_display(self._clean))
        self.original.set_caption(self._top1_text(top5))
        self.adversarial.clear()
        self.perturbation.clear()
        self.adversarial.set_title("Adversarial")
        self.perturbation.set_title("Perturbation")
        self.bars_before.set_entries(top5, self._reference, self._target)
        self.bars_after.set_entries([], self._reference, self._target)
        self.bars_after.set_title("Top-5 adversarial")
        self.history.reset()
        self._set_legend(None)
        self.status_label.setText(_describe(self._params) if self._params else "")

    def show_progress(self, step: int, total: int, loss: float, ref_prob: float, target_prob: float | None,
                      top5: list[dict], adversarial: np.ndarray | None = None) -> None:
        """One live iterate. ``step`` is the x position (iterate over all restarts, i.e.
        ``AttackStep.done - 1``), ``total`` the iterates the whole attack will evaluate."""
        self.history.append(step, loss, ref_prob, target_prob, total)
        self.bars_after.set_entries(top5, self._reference, self._target)
        self.bars_after.set_title(f"Top-5 at iterate {step + 1}/{total}")
        if adversarial is not None and self._clean is not None:
            adv = np.asarray(adversarial, dtype=np.float32)
            if adv.ndim == 4:
                adv = adv[0]
            self.adversarial.set_image(to_display(adv))
            self.adversarial.set_caption(self._top1_text(top5))
            delta = channel_mean(adv - self._clean)
            limit, _ = perturbation_limit(delta, self._params)
            self._show_perturbation(delta, limit)
        self.status_label.setText(f"Running: iterate {step + 1} of {total} \u00b7 loss {loss:.3g} \u00b7 "
                                  f"P(reference) {prob_text(ref_prob)}")

    def show_result(self, record: dict, clean: np.ndarray, adversarial: np.ndarray) -> None:
        """Final state from an attack record and the C x H x W images it was computed on."""
        clean = np.asarray(clean, dtype=np.float32)
        adversarial = np.asarray(adversarial, dtype=np.float32)
        if clean.ndim == 2:
            clean, adversarial = clean[None], adversarial[None]
        if clean.shape != adversarial.shape:
            raise ValueError(f"clean {clean.shape} and adversarial {adversarial.shape} differ in shape")
        self._clean = clean
        self._params = dict(record.get("parameters") or {})
        label = record.get("label") or {}
        target = record.get("target") if self._params.get("targeted") else None
        self._reference = label.get("class")
        self._target = target.get("class") if target else None

        clean_top5 = (record.get("clean") or {}).get("top5") or []
        adv_top5 = saved_outcome(record)["top5"]     # of the saved 8-bit image shown here
        self.images.set_aspect(clean.shape[1] / clean.shape[2])
        self.original.set_image(to_display(clean))
        self.original.set_caption(self._top1_text(clean_top5))
        self.adversarial.set_image(to_display(adversarial))
        self.adversarial.set_caption(self._top1_text(adv_top5))
        delta = channel_mean(adversarial - clean)
        limit, limit_name = perturbation_limit(delta, self._params)
        self._show_perturbation(delta, limit)
        what = "RGB mean" if clean.shape[0] == 3 else "1 channel"
        self.perturbation.set_caption(f"{what}, {limit_name}")
        channels = "averaged over the colour channels" if clean.shape[0] == 3 else "one channel"
        self.perturbation.caption.set_hint(f"adversarial \u2212 clean, {channels}; colours span {limit_name} = "
                                           f"\u00b1{num(limit)}, amplified {_amplification(limit)}")

        self.bars_before.set_entries(clean_top5, self._reference, self._target)
        self.bars_after.set_entries(adv_top5, self._reference, self._target)
        self.bars_after.set_title("Top-5 adversarial")
        self._set_legend(record)
        history = record.get("history") or {}
        self.history.set_history(history.get("loss"), history.get("reference_prob"),
                                 history.get("target_prob") if self._target is not None else None)
        self.status_label.setText(self._status_html(record))

    def clear(self) -> None:
        self._clean = None
        self._limit = 0.0
        for panel, title in ((self.original, "Original"), (self.adversarial, "Adversarial"),
                             (self.perturbation, "Perturbation")):
            panel.clear()
            panel.set_title(title)
        self.colour_bar.setLevels((-1.0, 1.0))
        self.colour_bar.axis.setTicks(None)
        self.bars_before.clear()
        self.bars_after.clear()
        self.bars_after.set_title("Top-5 adversarial")
        self.history.reset()
        self.legend_label.setText("")
        self.status_label.setText("")

    # ------------------------------------------------------------------ theming

    def plot_views(self) -> list[pg.GraphicsView]:
        return [self.images, self.history]

    def theme_changed(self, colours: PlotColours) -> None:
        self.history.set_colours(colours)
        self._colours = colours
        self._set_legend(getattr(self, "_legend_record", None))

    # ------------------------------------------------------------------ helpers

    def _show_perturbation(self, delta: np.ndarray, limit: float) -> None:
        self.perturbation.set_image(delta, levels=(-limit, limit))
        if limit != self._limit:
            # Levels go through the colour bar so the bar and the image can never disagree.
            self._limit = limit
            self.colour_bar.setLevels((-limit, limit))
            # Just inside the ends: the axis drops ticks that rounding puts past its range.
            edge = limit * 0.999
            self.colour_bar.axis.setTicks([[(-edge, "\u2212" + self._level_text(limit)), (0.0, "0"),
                                            (edge, "+" + self._level_text(limit))]])
            self.perturbation.set_title(f"Perturbation {_amplification(limit)}")

    @staticmethod
    def _level_text(value: float) -> str:
        return over_255(value) if value * 255 >= 0.95 else num(value)

    @staticmethod
    def _top1_text(top5: list[dict] | None) -> str:
        if not top5:
            return " "
        return f"{top5[0].get('label', '?')} ({prob_text(top5[0].get('prob', float('nan')))})"

    def _set_legend(self, record: dict | None) -> None:
        self._legend_record = record
        colours = getattr(self, "_colours", None)
        if record is None or colours is None:
            self.legend_label.setText("")
            return
        label = record.get("label") or {}
        source = {"given": "true label", "predicted": "clean prediction"}.get(label.get("source"), "")
        ref = colours.accent(C_REF).name()
        parts = [f"<span style='color:{ref}'>\u25a0</span> reference: {html.escape(str(label.get('label', '?')))}"
                 + (f" ({source})" if source else "")]
        target = record.get("target")
        if self._target is not None and target:
            tgt = colours.accent(C_TGT).name()
            parts.append(f"<span style='color:{tgt}'>\u25a0</span> target: {html.escape(str(target.get('label')))}")
        self.legend_label.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def _status_html(self, record: dict) -> str:
        """Outcome and norms of the adversarial image shown (and saved): 8-bit, inside eps."""
        saved = saved_outcome(record)
        head = "<b>Attack succeeded</b>" if saved["success"] else "<b>Attack failed</b>"
        parts = [head, html.escape(_describe(self._params))]
        if saved["linf"] is not None:
            parts.append(f"\u2016\u03b4\u2016\u221e = {over_255(saved['linf'])} ({num(saved['linf'])})")
        if saved["l2"] is not None:
            parts.append(f"\u2016\u03b4\u2016\u2082 = {num(saved['l2'])}")
        if saved["within_budget"] is not None:
            parts.append("8-bit image " + ("within \u03b5" if saved["within_budget"] else "<b>outside \u03b5</b>"))
        if record.get("iterates") is not None:
            parts.append(f"{record['iterates']} iterates")
        lines = [" \u00b7 ".join(parts)]
        if record.get("cancelled"):
            lines.append("<b>Cancelled</b>: showing the best iterate found before stopping.")
        if record.get("success") is not None and bool(record["success"]) != bool(saved["success"]):
            verdict = "succeeded" if record["success"] else "failed"
            lines.append(f"The attack's float result {verdict}; the 8-bit image shown (and saved) is what counts.")
        warnings = [str(w) for w in record.get("warnings") or []]
        if saved["note"] and saved["note"] not in warnings:
            lines.append(html.escape(saved["note"]))
        for warning in warnings:
            lines.append("\u26a0 " + html.escape(warning))
        return "<br>".join(lines)
