"""One model's column for a gradient attack: a headline comparing it with the other columns,
the threat model, original, adversarial and amplified perturbation (linked views, hover
read-outs), top-5 before and after, loss and probabilities per iterate (collapsible; click or
drag on it to see any kept iterate), and a status line.

The view only displays: ``show_clean`` when an image is loaded, ``show_progress`` about 20 times
a second while the attack runs (updates existing items only), ``show_result`` with the final
record, ``set_iterates`` with the run's kept iterates, ``set_scale`` with the colour scale it
shares with the other columns of its threat model. Records are the dicts of
``visualizer.core.results.attack_record``.

Its parts: attack_live.py (drawing the iterates while the attack runs), attack_text.py
(captions, legend and status line), attack_headline.py (the headline), attack_parts.py and
attack_layout.py (the image area, the plot section and their arrangement).
"""

from __future__ import annotations

import numpy as np

from visualizer.core.perturbation_scale import PerturbationScale, perturbation_scale
from visualizer.core.results import saved_outcome
from visualizer.gui.dock_parts import ElidedLabel, ElidingLabel
from visualizer.gui.panels.attack_headline import headline_html, headline_tooltip, threat_text
from visualizer.gui.panels.attack_layout import GAP, choose_arrangement
from visualizer.gui.panels.attack_live import AttackLive
from visualizer.gui.panels.attack_parts import GRID_MARGINS, ImageArea, PlotSection, Top5Block
from visualizer.gui.panels.attack_text import legend_html, status_html, top1_text, top5_entries
from visualizer.gui.panels.image_views import ImageGridWidget, ImagePanel, channel_mean, link_views, to_display
from visualizer.gui.panels.model_view import ModelResultView
from visualizer.gui.panels.perturbation_block import BAR_W, PerturbationBlock
from visualizer.gui.panels.readouts import PIXEL_HINT, HoverTracker, pixel_readout
from visualizer.gui.panels.theme import PlotColours
from visualizer.gui.qt import QtWidgets, Qt, Signal, pg

__all__ = ["AttackView"]

_describe = threat_text


class AttackView(AttackLive, ModelResultView):
    iterateShown = Signal(object)        # the kept iterate shown after a click on the plot; None: the result

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._clean: np.ndarray | None = None       # C x H x W, kept to form live perturbations
        self._shown_adv: np.ndarray | None = None   # C x H x W: the adversarial image on screen
        self._params: dict = {}
        self._reference: int | None = None
        self._target: int | None = None
        self._record: dict | None = None
        self._final_adv: np.ndarray | None = None
        self._own_scale: PerturbationScale | None = None   # the result's own colour scale
        self._scale: PerturbationScale | None = None       # the one drawn (shared with like columns)
        self._iterates = None                                # KeptIterates of the result, or None
        self._class_names: list[str] | None = None
        self._aspect = 1.0
        self._init_live()

        self.threat_label = ElidingLabel(hint="The threat model of the run shown: attack, norm, budget \u03b5")
        self.headline_label = QtWidgets.QLabel()
        self.headline_label.setWordWrap(True)
        self.headline_label.setContentsMargins(4, 0, 4, 0)
        font = self.headline_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.headline_label.setFont(font)

        # Images: Original | Adversarial in one GraphicsLayoutWidget, the perturbation and its
        # colour bar in another, so the arrangement can put them side by side or one above.
        self.images = ImageGridWidget(fit_height=False)
        self.original = ImagePanel(self.images.ci, 0, 0, "Original", caption=True)
        self.adversarial = ImagePanel(self.images.ci, 0, 1, "Adversarial", caption=True)
        self.perturbation_images = PerturbationBlock()
        self.perturbation, self.colour_bar = self.perturbation_images.panel, self.perturbation_images.colour_bar
        for col in (0, 1):
            self.images.ci.layout.setColumnStretchFactor(col, 1)
        link_views(self.image_views())

        self.top5 = Top5Block()
        self.bars_before, self.bars_after, self.legend_label = self.top5.before, self.top5.after, self.top5.legend
        self.image_area = ImageArea(self.images, self.perturbation_images, self.top5)

        self.readout_label = ElidedLabel(PIXEL_HINT)
        self.readout_label.setContentsMargins(4, 0, 4, 0)
        self.hover = HoverTracker([self.images, self.perturbation_images], self.image_views(), self._image_shape, self)
        self.hover.hovered.connect(self._show_readout)

        self.plot_section = PlotSection()
        self.history = self.plot_section.plot
        self.history.iterateRequested.connect(self.show_iterate)
        self.plot_section.result_button.clicked.connect(self.show_final)
        self.plot_section.toggled.connect(lambda _on: self._arrange(force=True))

        title_row = QtWidgets.QHBoxLayout()
        title_row.setContentsMargins(0, 0, 4, 0)
        # Both elide when the column is narrow; the threat model gets the room to spare.
        self.threat_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        title_row.addWidget(self.title_label)
        title_row.addWidget(self.threat_label, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(title_row)
        layout.addWidget(self.headline_label)
        layout.addWidget(self.image_area)
        layout.addWidget(self.readout_label)
        layout.addWidget(self.plot_section, 1)
        layout.addWidget(self.status_label)
        self.clear()
        self.apply_theme()
        self._arrange(force=True)

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
        self._set_clean(clean)
        self._params = dict(params or {})
        self._reference = reference if reference is not None else (top5[0]["class"] if top5 else None)
        self._target = target
        self._forget_result()
        self._stop_live()
        self.original.set_caption(top1_text(top5))
        self.adversarial.clear()
        self.perturbation.clear()
        self.colour_bar.setOpacity(0.0)           # no perturbation yet: no scale to read (its room kept)
        self.adversarial.set_title("Adversarial")
        self.perturbation.set_title("Perturbation")
        self.bars_before.set_entries(top5, self._reference, self._target)
        self.bars_after.set_entries([], self._reference, self._target)
        self.bars_after.set_title("Top-5 adversarial")
        self.history.reset()
        self.history.set_objective(self._target is not None)
        self._set_legend(None)
        self.headline_label.setText("")
        self.threat_label.setText(_describe(self._params) if self._params else "")
        self.status_label.setText(_describe(self._params) if self._params else "")

    def show_result(self, record: dict, clean: np.ndarray, adversarial: np.ndarray) -> None:
        """Final state from an attack record and the C x H x W images it was computed on."""
        clean = np.asarray(clean, dtype=np.float32)
        adversarial = np.asarray(adversarial, dtype=np.float32)
        if clean.ndim == 2:
            clean, adversarial = clean[None], adversarial[None]
        if clean.shape != adversarial.shape:
            raise ValueError(f"clean {clean.shape} and adversarial {adversarial.shape} differ in shape")
        self._stop_live()
        self._set_clean(clean)
        self._record = record
        self._final_adv = adversarial
        self._iterates = None
        self._params = dict(record.get("parameters") or {})
        label = record.get("label") or {}
        target = record.get("target") if self._params.get("targeted") else None
        self._reference = label.get("class")
        self._target = target.get("class") if target else None
        self._own_scale = perturbation_scale(channel_mean(adversarial - clean), self._params)
        self._scale = self._own_scale

        clean_top5 = (record.get("clean") or {}).get("top5") or []
        self.original.set_caption(top1_text(clean_top5))
        self.bars_before.set_entries(clean_top5, self._reference, self._target)
        self._set_legend(record)
        history = record.get("history") or {}
        self.history.set_history(history.get("loss"), history.get("reference_prob"),
                                 history.get("target_prob") if self._target is not None else None)
        self.history.set_objective(self._target is not None)
        self.plot_section.set_state(targeted=self._target is not None, scrubbable=False, shown=None)
        self.show_final()
        self.threat_label.setText(_describe(self._params))
        self._set_headline()
        self.status_label.setText(status_html(record, self._params))

    def set_iterates(self, iterates, class_names: list[str] | None) -> None:
        """The result's kept iterates (core KeptIterates) and the model's class names, so a
        click on the plot can show any of them; None: nothing to show."""
        self._iterates = iterates if iterates is not None and len(iterates) else None
        self._class_names = class_names
        self.plot_section.set_state(targeted=self._target is not None, scrubbable=self._iterates is not None,
                                    shown=None)

    def show_iterate(self, index: int) -> int | None:
        """Show the kept iterate nearest ``index``: its adversarial image, perturbation (on the
        result's scale) and top-5. Returns the iterate shown, None when none is kept."""
        if self._iterates is None or self._record is None:
            return None
        it = self._iterates.nearest(index)
        top5 = top5_entries(it.topk_prob[0], it.topk_class[0], self._class_names)
        last = self.history.point_count() - 1
        self._show_adversarial(self._iterates.adversarial(it), top5, title=f"Adversarial at iterate {it.index}")
        self.bars_after.set_entries(top5, self._reference, self._target)
        self.bars_after.set_title(f"Top-5 at iterate {it.index}/{last}")
        self.history.set_cursor(it.index)
        self.plot_section.set_state(targeted=self._target is not None, scrubbable=True, shown=it.index)
        self.iterateShown.emit(it.index)
        return it.index

    def show_final(self) -> None:
        """Back from a kept iterate to the result (the best iterate the attack found)."""
        if self._record is None or self._final_adv is None:
            return
        adv_top5 = saved_outcome(self._record)["top5"]     # of the saved 8-bit image shown here
        self._show_adversarial(self._final_adv, adv_top5, title="Adversarial")
        self.bars_after.set_entries(adv_top5, self._reference, self._target)
        self.bars_after.set_title("Top-5 adversarial")
        self.history.set_cursor(None)
        self.plot_section.set_state(targeted=self._target is not None, scrubbable=self._iterates is not None,
                                    shown=None)
        self.iterateShown.emit(None)

    def own_scale(self) -> PerturbationScale | None:
        """The colour scale this column's result needs on its own (None: no result shown)."""
        return self._own_scale

    def scale(self) -> PerturbationScale | None:
        return self._scale

    def set_scale(self, scale: PerturbationScale | None, shared: bool = False) -> None:
        """Draw the perturbation on ``scale``; ``shared``: the scale every column of this
        threat model uses (captions say so). None: on the result's own."""
        if self._own_scale is None:
            return
        self._scale = scale or self._own_scale
        self._shared = shared and scale is not None
        if self._shown_adv is not None and self._clean is not None:
            self._draw_perturbation(channel_mean(self._shown_adv - self._clean))

    def clear(self) -> None:
        self._clean = None
        self._stop_live()
        self._shown_adv = None
        self._forget_result()
        for panel, title in ((self.original, "Original"), (self.adversarial, "Adversarial")):
            panel.clear()
            panel.set_title(title)
        self.perturbation_images.reset()
        self.bars_before.clear()
        self.bars_after.clear()
        self.bars_after.set_title("Top-5 adversarial")
        self.history.reset()
        self.history.set_objective(False)
        self.legend_label.setText("")
        self.headline_label.setText("")
        self.threat_label.setText("")
        self.status_label.setText("")
        self.readout_label.setText(PIXEL_HINT)

    # ------------------------------------------------------------------ theming and layout

    def plot_views(self) -> list[pg.GraphicsView]:
        return [self.images, self.perturbation_images, self.history]

    def theme_changed(self, colours: PlotColours) -> None:
        self.history.set_colours(colours)
        self._colours = colours
        self._set_legend(getattr(self, "_legend_record", None))
        self._set_headline()
        self.readout_label.setStyleSheet(f"color: {colours.muted.name()}")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self, force: bool = False) -> None:
        """Give the images the space: the arrangement (row or grid, attack_layout.py) that
        makes them largest once the plot has its share; the plot takes what is left."""
        width, height = max(self.width(), 50), max(self.height(), 50)
        lay = self.layout()
        fixed = sum(_height(w, width) for w in (self.headline_label, self.readout_label, self.status_label))
        fixed += max(self.title_label.sizeHint().height(), self.threat_label.sizeHint().height())
        fixed += self.plot_section.header_height() + 5 * lay.spacing()
        if self.plot_section.expanded():
            fixed += min(max(110, int(0.22 * height)), 240)      # the plot's share; it gets any rest too
        # A title or caption line of an image panel, with the layout's spacing and margins.
        text_h = int(self.original.title.minimumHeight()) + 4
        bar_w = BAR_W + GRID_MARGINS
        a = choose_arrangement(width, height - fixed, self._aspect, text_h, bar_w,
                               self.top5.height_for("row"), self.top5.height_for("grid"))
        self.image_area.arrange(a, GAP)

    def arrangement(self) -> str:
        """'row' or 'grid' (see attack_layout.py)."""
        return self.image_area.mode()

    # ------------------------------------------------------------------ helpers

    def _set_clean(self, clean: np.ndarray) -> None:
        self._clean = np.asarray(clean, dtype=np.float32)
        if self._clean.ndim == 2:
            self._clean = self._clean[None]
        aspect = self._clean.shape[1] / self._clean.shape[2]
        if abs(aspect - self._aspect) > 1e-6:
            self._aspect = aspect
            self._arrange()
        self.original.set_image(to_display(self._clean))

    def _forget_result(self) -> None:
        self._record = self._final_adv = self._own_scale = self._scale = self._iterates = None
        self._shared = False
        self.plot_section.set_state(targeted=False, scrubbable=False, shown=None)

    def _image_shape(self, _index: int):
        return None if self._clean is None else self._clean.shape[1:]

    def _show_readout(self, where) -> None:
        if where is None or self._clean is None:
            self.readout_label.setText(PIXEL_HINT)
            return
        _i, x, y = where
        scale = self._scale or (perturbation_scale(np.zeros(1), self._params) if self._params else None)
        self.readout_label.setText(pixel_readout(x, y, self._clean, self._shown_adv, scale))

    def _show_adversarial(self, adv: np.ndarray, top5: list[dict], title: str = "Adversarial") -> None:
        self._shown_adv = adv
        self.adversarial.set_image(to_display(adv))
        self.adversarial.set_title(title)
        self.adversarial.set_caption(top1_text(top5))
        self._draw_perturbation(channel_mean(adv - self._clean))

    def _draw_perturbation(self, delta: np.ndarray) -> None:
        # A result keeps its (shared) scale; a live iterate uses its own (±eps for L-inf).
        scale = self._scale or perturbation_scale(delta, self._params)
        shared = self._scale is not None and self._shared
        self.perturbation_images.draw(delta, scale, self._clean.shape[0], shared)

    def _set_headline(self) -> None:
        record = self._record
        self.headline_label.setText(headline_html(record, getattr(self, "_colours", None)) if record else "")
        self.headline_label.setToolTip(headline_tooltip(record) if record else "")

    def _set_legend(self, record: dict | None) -> None:
        self._legend_record = record
        colours = getattr(self, "_colours", None)
        if record is None or colours is None:
            self.legend_label.setText("")
            return
        self.legend_label.setText(legend_html(record, colours, self._target is not None))


def _height(widget: QtWidgets.QWidget, width: int) -> int:
    if widget.isHidden():
        return 0
    if widget.hasHeightForWidth():
        return widget.heightForWidth(width)
    return widget.sizeHint().height()
