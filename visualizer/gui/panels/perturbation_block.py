"""The perturbation of an attack column: delta = adversarial - clean (channel mean) on a
diverging colour scale with its colour bar, ticked in eps for an L-inf budget and in grey
levels otherwise (core/perturbation_scale.py: the same limits the exported figures use)."""

from __future__ import annotations

import numpy as np

from visualizer.core.perturbation_scale import PerturbationScale, amplification, limit_text, scale_ticks, scale_unit
from visualizer.gui.panels.attack_headline import NORM_NAMES
from visualizer.gui.panels.colormaps import diverging_cmap
from visualizer.gui.panels.image_views import ImageGridWidget, ImagePanel
from visualizer.gui.panels.theme import plot_colours
from visualizer.gui.qt import pg

__all__ = ["BAR_W", "PerturbationBlock"]

BAR_W = 78            # the colour bar: bar, tick labels ("+0.002", "\u2212\u03b5/2") and their unit


class PerturbationBlock(ImageGridWidget):
    """One image panel (``panel``) and its colour bar (``colour_bar``); sized by its owner."""

    def __init__(self, parent=None):
        super().__init__(parent, fit_height=False)
        self.panel = ImagePanel(self.ci, 0, 0, "Perturbation", caption=True)
        self.ci.layout.setColumnStretchFactor(0, 1)
        self.colour_bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=diverging_cmap(), width=10,
                                          interactive=False)
        axis = self.colour_bar.axis
        axis.setWidth(self.fontMetrics().horizontalAdvance("+0.002") + 8)
        axis.setStyle(hideOverlappingLabels=False)     # keep the ±ε end ticks
        axis.enableAutoSIPrefix(False)
        self.colour_bar.setFixedWidth(BAR_W)
        self.ci.addItem(self.colour_bar, row=1, col=1)
        self.colour_bar.setImageItem(self.panel.image)

    def draw(self, delta: np.ndarray, scale: PerturbationScale, channels: int, shared: bool) -> None:
        """Show ``delta`` (H x W) on ``scale``; ``channels``: of the image (1 or 3); ``shared``:
        the scale is the one all columns of its threat model share."""
        limit = scale.limit
        self.panel.set_image(delta, levels=(-limit, limit))
        self.colour_bar.setOpacity(1.0)
        if self.colour_bar.levels() != (-limit, limit):
            # Levels go through the colour bar so the bar and the image can never disagree.
            self.colour_bar.setLevels((-limit, limit))
            self.colour_bar.axis.setTicks([scale_ticks(scale)])
            if scale_unit(scale) != self.colour_bar.axis.labelText:
                # In the palette's text colour at once: re-theming the whole column for this
                # new text took 10-20 ms of the GUI thread inside a progress event.
                self.colour_bar.axis.setLabel(scale_unit(scale), color=plot_colours(self.palette()).text.name())
        self.panel.set_title(f"Perturbation {amplification(limit)}")
        what = "RGB mean" if channels == 3 else "1 channel"
        norm = NORM_NAMES.get(scale.norm, scale.norm or "")
        self.panel.set_caption(f"{what}, {scale.name}" + (f", one scale for all {norm}" if shared else ""))
        how = "averaged over the colour channels" if channels == 3 else "one channel"
        self.panel.caption.set_hint(
            f"adversarial \u2212 clean, {how}; colours span {scale.name} = \u00b1{limit_text(scale)}"
            + (f", the scale every {norm} column shares" if shared else "") + f", amplified {amplification(limit)}")

    def reset(self) -> None:
        """No perturbation shown. (Not ``clear``: GraphicsLayoutWidget sets ``self.clear`` to
        its layout's, which would remove the items.)"""
        self.panel.clear()
        self.panel.set_title("Perturbation")
        self.colour_bar.setLevels((-1.0, 1.0))
        self.colour_bar.axis.setTicks(None)
        self.colour_bar.axis.setLabel("")
        self.colour_bar.setOpacity(0.0)      # no perturbation: no scale to read (its room kept)
