"""The saliency figure: every model's map on one shared colour scale, next to the image.
Axes labels: ``image``, ``saliency<i>``.

A map whose gradient was NaN is not drawn: its panel is flat grey with "no gradient (NaN)";
an all-zero gradient is drawn with "zero gradient everywhere" over it. Integrated Gradients
maps carry their completeness gap under the panel, flagged when above the tolerance.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from visualizer.core.figures.drawing import as_hwc, crisp_imshow, image_axes, show_image
from visualizer.core.figures.style import FIG_WIDTH, SMALL_PT, TITLE_PT, figure_style, finalize
from visualizer.core.figures.text import chars_for, ellipsize, wrap_id, wrap_parts
from visualizer.core.formatting import completeness_text, gradient_text
from visualizer.core.palette import C_BAD, C_WARN, DIVERGING, MAGNITUDE
from visualizer.core.saliency import faint_maps

_METHOD_NAMES = {"vanilla": "Vanilla gradient", "smoothgrad": "SmoothGrad", "ig": "Integrated Gradients"}


def _overlay_rgb(gray: np.ndarray, m: np.ndarray, cmap, norm) -> np.ndarray:
    """Map colours composited over a grayscale image with opacity proportional to |value|
    (NaN -> the image alone), so one flat image per panel is embedded."""
    rgba = cmap(norm(np.where(np.isfinite(m), m, 0.0)))
    lo, hi = norm.vmin, norm.vmax
    if lo < 0 < hi:
        strength = np.abs(m) / max(abs(lo), abs(hi))
    else:
        strength = (m - lo) / (hi - lo)
    alpha = 0.85 * np.clip(np.nan_to_num(strength, nan=0.0), 0.0, 1.0)[..., None]
    return gray[..., None] * (1 - alpha) + rgba[..., :3] * alpha


def _broken_gradient(ax, entry: dict, shape: tuple[int, int], cmap, norm) -> None:
    """A flat grey panel saying the gradient was NaN (no map), or the all-zero map with a note."""
    if entry.get("gradient") == "nan":
        crisp_imshow(ax, np.broadcast_to(np.asarray(C_BAD, float), (*shape, 3)))
    else:
        crisp_imshow(ax, np.zeros(shape), cmap=cmap, norm=norm)
    ax.text(0.5, 0.5, gradient_text(entry), transform=ax.transAxes, ha="center", va="center", fontsize=SMALL_PT,
            fontweight="bold", color="black", bbox={"boxstyle": "round,pad=0.3", "facecolor": "white",
                                                    "edgecolor": C_WARN, "linewidth": 0.8})


def saliency_figure(record: dict, image: np.ndarray, maps: list[np.ndarray], overlay: bool = False) -> Figure:
    """All models' saliency maps on one shared scale, next to the image.

    ``image`` is H x W x 3 in [0, 1]; ``maps`` holds one H x W map per entry of
    ``record["saliency"]["maps"]`` on the original image grid, NaN outside that model's crop.
    """
    sal = record.get("saliency") or {}
    entries = list(sal.get("maps") or [])
    maps = [np.asarray(m, dtype=float) for m in maps]
    if len(maps) != len(entries):
        raise ValueError(f"{len(maps)} maps given but the record describes {len(entries)}")
    img = np.clip(as_hwc(image), 0.0, 1.0)
    h, w = img.shape[:2]
    for m in maps:
        if m.shape != (h, w):
            raise ValueError(f"saliency map shape {m.shape} does not match the image ({h} x {w})")
    scale = float(sal.get("shared_scale") or 0.0)
    if not math.isfinite(scale) or scale <= 0:
        scale = 1.0
    absolute = bool(sal.get("absolute"))

    with figure_style():
        if absolute:
            cmap = matplotlib.colormaps[MAGNITUDE].with_extremes(bad=C_BAD)
            norm = mcolors.Normalize(0.0, scale)
        else:
            cmap = matplotlib.colormaps[DIVERGING].with_extremes(bad=C_BAD)
            norm = mcolors.Normalize(-scale, scale)
        # Maps nearly blank on the shared scale come again, after the others, on their own.
        faint = [] if overlay else faint_maps(entries, scale)
        n_panels = 1 + len(maps) + len(faint)
        ncols = min(n_panels, 4)
        nrows = math.ceil(n_panels / ncols)
        cbar_w = 0.8
        panel_w = (FIG_WIDTH - cbar_w) / ncols - 0.06
        # Slightly less height than the panel width asks for: the images are then height-bound,
        # so the shared colour bar is exactly as tall as they are.
        img_h = min(panel_w * h / w * 0.96, 2.6)
        captions = any(completeness_text(e)[0] for e in entries)
        panel_h = img_h + 0.4 + (0.2 if captions else 0.0)
        height = nrows * panel_h + 0.45 + (0.25 if faint else 0.0)     # the note on the repeats
        fig = Figure(figsize=(FIG_WIDTH, round(height, 2)), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        gray = None
        if overlay:
            lum = img @ np.array([0.299, 0.587, 0.114]) if img.ndim == 3 else img
            gray = 0.15 + 0.7 * lum            # compressed so the colours stand out

        ax0 = axes.flat[0]
        show_image(ax0, img, "image")
        ax0.set_title("(a) Image\n" + (f"{w} \u00d7 {h} px"))
        letters = "bcdefghijklmnopqrstuvwxyz"
        any_nan = False
        for i, (m, entry) in enumerate(zip(maps, entries)):
            ax = axes.flat[i + 1]
            if entry.get("gradient") in ("nan", "zero"):
                _broken_gradient(ax, entry, (h, w), cmap, norm)
            elif overlay:
                crisp_imshow(ax, np.clip(_overlay_rgb(gray, m, cmap, norm), 0, 1))
            else:
                any_nan |= bool(np.isnan(m).any())
                crisp_imshow(ax, m, cmap=cmap, norm=norm)
            image_axes(ax, f"saliency{i}")
            caption, flagged = completeness_text(entry)
            if caption:
                ax.set_xlabel(caption, fontsize=SMALL_PT, color=C_WARN if flagged else "black",
                              fontweight="bold" if flagged else "normal")
            room = chars_for(panel_w)
            letter = letters[i] if i < len(letters) else "?"
            model = wrap_id(f"({letter}) {entry.get('model', '?')}", room, max_lines=3)
            cls = entry.get("class")
            suffix = f" ({cls})" if cls is not None else ""
            cls_text = ellipsize(entry.get("label", cls), room - len(suffix)) + suffix
            ax.set_title(f"{model}\n{cls_text}")
        for k, i in enumerate(faint):
            ax = axes.flat[1 + len(maps) + k]
            own = float(entries[i]["own_scale"])
            own_norm = mcolors.Normalize(0.0, own) if absolute else mcolors.Normalize(-own, own)
            crisp_imshow(ax, maps[i], cmap=cmap, norm=own_norm)
            image_axes(ax, f"saliency_own{i}")
            letter = letters[len(maps) + k] if len(maps) + k < len(letters) else "?"
            limits = f"0 \u2026 {own:.2g}" if absolute else f"\u00b1{own:.2g}"
            ax.set_title(wrap_id(f"({letter}) {entries[i].get('model', '?')}", chars_for(panel_w), max_lines=3)
                         + f"\nits own scale {limits}")
        for ax in axes.flat[n_panels:]:
            ax.set_visible(False)
        used = [a for a in axes.flat if a.get_visible()]
        sm = ScalarMappable(norm=norm, cmap=cmap)
        sm.set_array([])
        cbar = fig.colorbar(sm, ax=used, fraction=0.04, pad=0.02, aspect=25,
                            extend="max" if absolute else "both")
        quantity = "|saliency|" if absolute else "saliency"
        # On a short bar (wide images in a full row) the label goes on two lines to fit beside it.
        cbar.set_label(f"{quantity}\n(shared scale)" if img_h < 1.6 else f"{quantity} (shared scale)")
        cbar.outline.set_linewidth(0.5)
        cbar.ax.tick_params(length=2)
        cbar.formatter = FuncFormatter(lambda v, _pos: f"{v:.2g}".replace("-", "\u2212"))
        cbar.update_ticks()

        method = _METHOD_NAMES.get(sal.get("method"), str(sal.get("method", "?")))
        limits = f"0 \u2026 {scale:.3g}" if absolute else f"\u00b1{scale:.3g}"
        line1 = f"{method} saliency \u00b7 one colour scale for all models: {limits}"
        notes = []
        if overlay:
            notes.append("maps over a grayscale image, opacity \u221d |saliency|")
        elif any_nan:
            notes.append("grey: outside the model's input crop")
        if absolute:
            notes.append("absolute values")
        if faint:
            notes.append("faint on the shared scale, so repeated on its own (not the bar's): "
                         + ", ".join(str(entries[i].get("model", "?")) for i in faint))
        if captions:
            tol = max(float((e.get("completeness") or {}).get("tolerance", 0.05)) for e in entries)
            notes.append("gap: completeness |\u03a3 attributions \u2212 \u0394f| / |\u0394f|, \u0394f = f(image) "
                         f"\u2212 f(black); \u26a0 above {100 * tol:.0f}%")
        notes_text = wrap_parts(notes, chars_for(FIG_WIDTH - 0.2, TITLE_PT), sep="; ")
        fig.suptitle(line1 + ("\n" + notes_text if notes else ""), fontsize=TITLE_PT)
    return finalize(fig)
