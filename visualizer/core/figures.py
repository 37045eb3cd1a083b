"""Publication figures for attacks, spatial sweeps and saliency, shared by the CLI and the GUI.

Everything here uses matplotlib's object-oriented API on a bare ``matplotlib.figure.Figure``:
no pyplot, no GUI backend, no global state. Styling is applied with ``matplotlib.rc_context``
while a figure is built and again while it is saved (some settings, such as the SVG and PDF
font handling, are read at save time), never through global rcParams.

Image pixels stay crisp in every format: images are drawn with ``interpolation='none'``
(exact nearest-neighbour in the Agg/PNG renderer, and an unresampled embedded image in
PDF/SVG), and small images are first upsampled by an integer factor with ``np.repeat`` so a
PDF or SVG viewer that smooths embedded images cannot blur their pixels. The extent in data
coordinates is unchanged, so axes keep their pixel (or degree, or px-shift) units.

Axes that tests and the GUI may want to find carry a label (``ax.get_label()``):
attack: ``clean``, ``adversarial``, ``perturbation``, ``top5_clean``, ``top5_adversarial``,
``history`` and its twin ``history_prob``; sweep: ``clean``, ``worst``, ``heatmap_ty<i>``
(grid) or ``scatter_tx``, ``scatter_ty`` (random); saliency: ``image``, ``saliency<i>``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

from visualizer.core.atomic import write_atomically
from visualizer.core.formatting import num, signed
from visualizer.core.errors import OutputError
from visualizer.core.results import saved_outcome
from visualizer.core.palette import (C_BAD, C_LOSS, C_OTHER, C_REF, C_TGT, C_WORST, DIVERGING, MAGNITUDE,
                                       SEQUENTIAL)

__all__ = [
    "FIG_WIDTH",
    "FORMATS",
    "STYLE",
    "attack_figure",
    "figure_style",
    "saliency_figure",
    "save_figure",
    "sweep_figure",
]

FIG_WIDTH = 7.0              # inches: a full-width figure in a two-column paper
FORMATS = ("png", "pdf", "svg")
BASE_PT = 8.0
SMALL_PT = 7.0
TITLE_PT = 9.0

STYLE = {
    "font.size": BASE_PT,
    "axes.titlesize": BASE_PT,
    "axes.labelsize": BASE_PT,
    "xtick.labelsize": SMALL_PT,
    "ytick.labelsize": SMALL_PT,
    "legend.fontsize": SMALL_PT,
    "figure.titlesize": TITLE_PT,
    "axes.titlepad": 3.0,
    "axes.labelpad": 2.0,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "xtick.major.pad": 2.0,
    "ytick.major.pad": 2.0,
    "lines.linewidth": 1.2,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "legend.columnspacing": 1.2,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "figure.constrained_layout.h_pad": 0.03,
    "figure.constrained_layout.w_pad": 0.03,
    "figure.constrained_layout.hspace": 0.02,
    "figure.constrained_layout.wspace": 0.02,
    # Text stays text in SVG; TrueType fonts are embedded in PDF/PS.
    "svg.fonttype": "none",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    # Deterministic SVG ids, and never merge several images of one axes into one resampled image.
    "svg.hashsalt": "adversarial-visualizer",
    "image.composite_image": False,
}

# Embedded images are upsampled until their longer side is at least this many pixels.
CRISP_MIN_SIDE = 512
CRISP_MAX_FACTOR = 64


def figure_style():
    """The local rc context every figure here is built and saved under."""
    return matplotlib.rc_context(STYLE)


# --------------------------------------------------------------------------- small helpers


def _ellipsize(text, limit: int, middle: bool = False) -> str:
    """At most ``limit`` characters; ``middle`` keeps both ends (model ids differ at the end)."""
    text = str(text)
    if len(text) <= limit:
        return text
    if middle and limit >= 9:
        head = (limit - 1) // 2
        tail = limit - 1 - head
        return text[:head].rstrip() + "\u2026" + text[len(text) - tail:].lstrip()
    return text[: max(1, limit - 1)].rstrip() + "\u2026"


def _wrap_id(text, limit: int, max_lines: int = 2) -> str:
    """Break a long identifier after '/', '_', '-' or '.' into at most ``max_lines`` lines of
    ``limit`` characters; what still does not fit loses its middle."""
    text = str(text)
    lines = []
    while len(text) > limit and len(lines) < max_lines - 1:
        cut = max((i + 1 for i, ch in enumerate(text[:limit]) if ch in "/_-."), default=0)
        if cut < limit // 3:
            cut = limit
        lines.append(text[:cut])
        text = text[cut:]
    lines.append(_ellipsize(text, limit, middle=True))
    return "\n".join(lines)


def _chars_for(width_in: float, size_pt: float = BASE_PT) -> int:
    """Roughly how many characters of DejaVu Sans at ``size_pt`` fit in ``width_in`` inches."""
    return max(8, int(width_in * 72.0 / (0.56 * size_pt)))


def _wrap_parts(parts: Sequence[str], limit: int, sep: str = " \u00b7 ") -> str:
    """Join ``parts`` with ``sep`` into as few lines of at most ``limit`` characters as it can."""
    lines: list[str] = []
    for part in (p for p in parts if p):
        if lines and len(lines[-1]) + len(sep) + len(part) <= limit:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return "\n".join(lines)


def _prob_is(p) -> str:
    """'= 0.123' or '< 0.001', to follow a name such as P(true)."""
    text = _prob(p)
    return text.replace("<", "< ") if text.startswith("<") else "= " + text


def _prob(p) -> str:
    p = float(p)
    if not math.isfinite(p):
        return "n/a"
    if p >= 0.9995:
        return "1.000"
    return f"{p:.3f}" if p >= 0.001 else "<0.001"


def _short_prob(p) -> str:
    p = float(p)
    return f"{p:.2f}" if p >= 0.005 else "<0.01"


def _over_255(value) -> int | None:
    """k when ``value`` is (very nearly) k/255 for an integer k >= 1."""
    if value is None:
        return None
    scaled = float(value) * 255.0
    k = round(scaled)
    return int(k) if k >= 1 and abs(scaled - k) < 0.02 else None


def _eps_text(value, norm: str | None) -> str:
    if value is None:
        return "?"
    k = _over_255(value) if norm == "linf" else None
    return f"{num(value)} ({k}/255)" if k is not None else num(value)


def _floats(values) -> np.ndarray:
    """A float array from a (nested) JSON list, None entries -> NaN; None -> empty."""
    if values is None:
        return np.zeros(0)
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values.astype(float)
    a = np.asarray(values, dtype=object)
    return np.where(np.equal(a, None), np.nan, a).astype(float)


def _as_chw(arr) -> np.ndarray:
    a = np.asarray(arr, dtype=float)
    if a.ndim == 2:
        a = a[None]
    elif a.ndim == 3 and a.shape[0] not in (1, 3) and a.shape[-1] in (1, 3):
        a = np.moveaxis(a, -1, 0)
    if a.ndim != 3 or a.shape[0] not in (1, 3):
        raise ValueError(f"expected a C x H x W image with C = 1 or 3, got shape {a.shape}")
    return a


def _as_hwc(arr) -> np.ndarray:
    a = np.asarray(arr, dtype=float)
    if a.ndim == 3 and a.shape[-1] not in (1, 3) and a.shape[0] in (1, 3):
        a = np.moveaxis(a, 0, -1)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        return a
    if a.ndim != 3 or a.shape[-1] != 3:
        raise ValueError(f"expected an H x W x 3 (or H x W) image, got shape {a.shape}")
    return a


def _upsample_factor(h: int, w: int) -> int:
    side = max(int(h), int(w), 1)
    return int(min(CRISP_MAX_FACTOR, max(1, math.ceil(CRISP_MIN_SIDE / side))))


def _crisp_imshow(ax, data, *, extent=None, origin: str = "upper", **kwargs):
    """imshow that stays pixel-crisp in PNG, PDF and SVG (see the module docstring)."""
    data = np.asarray(data)
    h, w = data.shape[:2]
    if extent is None:
        extent = (-0.5, w - 0.5, h - 0.5, -0.5) if origin == "upper" else (-0.5, w - 0.5, -0.5, h - 0.5)
    k = _upsample_factor(h, w)
    if k > 1:
        data = np.repeat(np.repeat(data, k, axis=0), k, axis=1)
    return ax.imshow(data, extent=extent, origin=origin, interpolation="none", resample=False, **kwargs)


def _image_axes(ax, label: str) -> None:
    """An image panel: no ticks or frame, but room for a title and an x label caption."""
    ax.set_label(label)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _show_image(ax, chw_or_hwc, label: str):
    img = np.asarray(chw_or_hwc, dtype=float)
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = np.moveaxis(img, 0, -1)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    img = np.clip(img, 0.0, 1.0)
    if img.ndim == 2:
        im = _crisp_imshow(ax, img, cmap="gray", vmin=0.0, vmax=1.0)
    else:
        im = _crisp_imshow(ax, img)
    _image_axes(ax, label)
    return im


def _plain_axes(ax) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)


def _halo(width: float = 2.2, colour="black"):
    return [patheffects.withStroke(linewidth=width, foreground=colour)]


def _finalize(fig: Figure) -> Figure:
    """Pin tick label sizes on every axes (ticks can be created lazily at draw time), then lay
    the figure out once: constrained layout only settles after a first pass, and without this
    the first format saved would be laid out slightly differently from the next ones."""
    for ax in fig.get_axes():
        ax.tick_params(labelsize=SMALL_PT, which="both")
    with figure_style():
        fig.draw_without_rendering()
    return fig


def _class_text(entry: dict | None, limit: int = 26) -> str:
    if not entry:
        return "?"
    return _ellipsize(entry.get("label", entry.get("class", "?")), limit)


def _top1(block: dict | None, key: str = "top5") -> dict | None:
    if not block:
        return None
    entries = block.get(key) or []
    return entries[0] if entries else None


# --------------------------------------------------------------------------- attack


def _attack_description(params: dict) -> list[str]:
    """Title parts: method and norm, eps, step size, targeted or not."""
    method = str(params.get("method", "?")).lower()
    norm = params.get("norm")
    norm_text = {"linf": "L\u221e", "l2": "L2"}.get(norm, str(norm))
    steps = params.get("steps")
    head = (f"PGD-{steps}" if steps else "PGD") if method == "pgd" else method.upper()
    parts = [f"{head} {norm_text}", f"\u03b5 = {_eps_text(params.get('eps'), norm)}"]
    if method == "pgd" and params.get("step_size") is not None:
        parts.append(f"\u03b1 = {_eps_text(params['step_size'], norm)}")
    restarts = params.get("restarts")
    if restarts and int(restarts) > 1:
        parts.append(f"{int(restarts)} restarts")
    parts.append("targeted" if params.get("targeted") else "untargeted")
    return parts


def _perturbation_limit(delta: np.ndarray, params: dict) -> tuple[float, int | None, str]:
    """(colour limit L, k if L = k/255, what L is). L-inf attacks use L = eps so the colour
    range is exactly the threat ball; otherwise L = max |delta| of the shown map."""
    finite = np.abs(delta[np.isfinite(delta)])
    max_abs = float(finite.max()) if finite.size else 0.0
    eps = params.get("eps")
    # float32 projection can leave |delta| a few ulps above eps: still the eps ball.
    if params.get("norm") == "linf" and eps is not None and float(eps) > 0 and max_abs <= float(eps) + 1e-5:
        eps = float(eps)
        return eps, _over_255(eps), "\u00b1\u03b5"
    if max_abs > 0:
        return max_abs, None, "\u00b1max|\u03b4|"
    return (float(eps) if eps else 1.0), None, "\u00b1\u03b5"


def perturbation_ticks(cbar, limit: float, k255: int | None, fractions) -> None:
    """Ticks of a perturbation colour bar: k/255 labels when the limit is a whole number of
    grey levels (at ``fractions`` of it), else -limit, 0, +limit as numbers."""
    if k255 is not None:
        ticks = np.array(fractions, dtype=float) * limit
        cbar.set_ticks(ticks)
        cbar.set_ticklabels(["0" if t == 0 else signed(t * 255) + "/255" for t in ticks])
    else:
        cbar.set_ticks(np.array([-1, 0, 1]) * limit)
        cbar.formatter = FuncFormatter(lambda v, _pos: signed(v) if v else "0")
        cbar.update_ticks()
    cbar.outline.set_linewidth(0.5)
    cbar.ax.tick_params(length=2)


def _amplification(limit: float) -> str:
    factor = 1.0 / limit
    return f"\u00d7{factor:.0f}" if factor >= 10 else f"\u00d7{factor:.2g}"


def _top5_panel(ax, entries: Sequence[dict], title: str, ref_cls, tgt_cls, label: str) -> None:
    ax.set_label(label)
    entries = list(entries or [])[:5]
    names = [_ellipsize(e.get("label", e.get("class")), 20) for e in entries]
    probs = [float(e.get("prob", float("nan"))) for e in entries]
    classes = [e.get("class") for e in entries]
    y = np.arange(len(entries))
    colours = [C_TGT if (tgt_cls is not None and c == tgt_cls) else C_REF if c == ref_cls else C_OTHER
               for c in classes]
    ax.barh(y, np.nan_to_num(probs), height=0.68, color=colours)
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    for tick, colour in zip(ax.get_yticklabels(), colours):
        if colour != C_OTHER:
            tick.set_color(colour)
            tick.set_fontweight("bold")
    for yi, p, colour in zip(y, probs, colours):
        text = _short_prob(p) if math.isfinite(p) else "n/a"
        if math.isfinite(p) and p > 0.7:
            ax.text(p - 0.02, yi, text, ha="right", va="center", fontsize=SMALL_PT,
                    color="white" if colour != C_OTHER else "black")
        else:
            ax.text((p if math.isfinite(p) else 0) + 0.02, yi, text, ha="left", va="center", fontsize=SMALL_PT)
    ax.set_ylim(max(len(entries), 1) - 0.5, -0.5)     # highest probability on top
    ax.set_xlim(0, 1)
    ax.set_xticks([0, 0.5, 1])
    ax.set_xticklabels(["0", "0.5", "1"])
    ax.set_xlabel("probability")
    ax.tick_params(axis="y", length=0)
    _plain_axes(ax)
    ax.set_title(title, loc="left")
    if not entries:
        ax.text(0.5, 0.5, "no top-5 recorded", ha="center", va="center", transform=ax.transAxes)


def _history_panel(ax, history: dict | None, targeted: bool, restarts) -> list:
    ax.set_label("history")
    history = history or {}
    loss = _floats(history.get("loss"))
    ref = _floats(history.get("reference_prob"))
    tgt = _floats(history.get("target_prob")) if targeted else None
    n = max(loss.size, ref.size, tgt.size if tgt is not None else 0)
    marker = "o" if n <= 12 else None
    handles = []
    ax.set_title("(e) Attack progress", loc="left")
    _plain_axes(ax)
    if n == 0:
        ax.text(0.5, 0.5, "no history recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return handles
    if loss.size:
        (line,) = ax.plot(np.arange(loss.size), loss, color=C_LOSS, marker=marker, ms=3, label="loss")
        handles.append(line)
    ax.set_ylabel("loss")
    ax.set_xlabel("iterate" + (" (all restarts)" if restarts and int(restarts) > 1 else ""))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
    prob_ax = ax.twinx()
    prob_ax.set_label("history_prob")
    prob_ax.spines["top"].set_visible(False)
    if ref.size:
        (line,) = prob_ax.plot(np.arange(ref.size), ref, color=C_REF, marker=marker, ms=3, label="P(ref.)")
        handles.append(line)
    if tgt is not None and tgt.size:
        (line,) = prob_ax.plot(np.arange(tgt.size), tgt, color=C_TGT, ls="--", marker=marker, ms=3,
                               label="P(target)")
        handles.append(line)
    prob_ax.set_ylim(-0.03, 1.03)
    prob_ax.set_yticks([0, 0.5, 1])
    prob_ax.set_yticklabels(["0", "0.5", "1"])
    prob_ax.set_ylabel("probability")
    if n == 1:
        ax.set_xlim(-0.5, 0.5)
    return handles


def _attack_title(record: dict, params: dict) -> str:
    """Model, outcome, attack, eps (float and k/255), then the norms: all of the saved 8-bit
    adversarial image (see results.saved_outcome)."""
    saved = saved_outcome(record)
    model_id = _ellipsize((record.get("model") or {}).get("id", "?"), 48, middle=True)
    outcome = "attack succeeded" if saved["success"] else "attack failed"
    if record.get("cancelled"):
        outcome += " (cancelled early)"
    parts = [model_id, outcome, *_attack_description(params)]
    if saved["linf"] is not None:
        parts.append(f"\u2016\u03b4\u2016\u221e = {_eps_text(saved['linf'], 'linf')}")
    if saved["l2"] is not None:
        parts.append(f"\u2016\u03b4\u2016\u2082 = {num(saved['l2'])}")
    if record.get("success") is not None and bool(record["success"]) != bool(saved["success"]):
        parts.append(f"the float result {'succeeded' if record['success'] else 'failed'} before 8-bit rounding")
    return _wrap_parts(parts, _chars_for(FIG_WIDTH - 0.2, TITLE_PT))


def attack_figure(record: dict, clean: np.ndarray, adversarial: np.ndarray) -> Figure:
    """Original, adversarial, amplified perturbation, top-5 before/after and attack progress.

    ``clean`` and ``adversarial`` are C x H x W floats in [0, 1] (C = 1 or 3) at model-input size.
    """
    clean = _as_chw(clean)
    adversarial = _as_chw(adversarial)
    if clean.shape != adversarial.shape:
        raise ValueError(f"clean {clean.shape} and adversarial {adversarial.shape} differ in shape")
    params = record.get("parameters") or {}
    label = record.get("label") or {}
    target = record.get("target")
    targeted = bool(params.get("targeted")) and target is not None
    ref_cls = label.get("class")
    tgt_cls = target.get("class") if targeted else None
    c, h, w = clean.shape

    with figure_style():
        image_side = 1.9                         # inches: the three image panels are height-bound
        top_h = image_side * min(1.0, max(h / w, 0.5)) + 0.42
        bottom_h = 1.95
        title = _attack_title(record, params)
        title_h = 0.06 + 0.17 * (title.count("\n") + 1)
        fig = Figure(figsize=(FIG_WIDTH, round(top_h + bottom_h + title_h, 2)), layout="constrained")
        top, bottom = fig.subfigures(2, 1, height_ratios=[top_h, bottom_h])
        ax_a, ax_b, ax_c = top.subplots(1, 3)

        # (a), (b): images with top-1.
        clean_top = _top1(record.get("clean"))
        adv_top5 = saved_outcome(record)["top5"]      # of the saved 8-bit image shown in (b)
        adv_top = adv_top5[0] if adv_top5 else None
        _show_image(ax_a, clean, "clean")
        _show_image(ax_b, adversarial, "adversarial")
        ax_a.set_title("(a) Original\n" + (f"{_class_text(clean_top)} ({_prob(clean_top.get('prob'))})"
                                           if clean_top else "?"))
        ax_b.set_title("(b) Adversarial\n" + (f"{_class_text(adv_top)} ({_prob(adv_top.get('prob'))})"
                                              if adv_top else "?"))

        # (c): signed perturbation on a diverging map, symmetric limits.
        delta = (adversarial - clean).mean(axis=0)
        limit, k255, limit_name = _perturbation_limit(delta, params)
        cmap = matplotlib.colormaps[DIVERGING]
        im = _crisp_imshow(ax_c, delta, cmap=cmap, vmin=-limit, vmax=limit)
        _image_axes(ax_c, "perturbation")
        ax_c.set_title(f"(c) Perturbation {_amplification(limit)}\ncolour range {limit_name}")
        ax_c.set_xlabel("mean over RGB channels (signed)" if c == 3 else "single channel (signed)",
                        fontsize=SMALL_PT)
        cbar = top.colorbar(im, ax=ax_c, fraction=0.08, pad=0.03, aspect=22)
        perturbation_ticks(cbar, limit, k255, [-1, -0.5, 0, 0.5, 1])
        cbar.set_label("\u03b4 = adversarial \u2212 clean")

        # (d): top-5 before and after; (e): loss and probabilities per iterate.
        bars_sf, hist_sf = bottom.subfigures(1, 2, width_ratios=[2.05, 1.0], wspace=0.0)
        d_clean, d_adv = bars_sf.subplots(1, 2)
        _top5_panel(d_clean, (record.get("clean") or {}).get("top5"), "(d) Top-5 clean", ref_cls, tgt_cls,
                    "top5_clean")
        _top5_panel(d_adv, adv_top5, "Top-5 adversarial", ref_cls,
                    tgt_cls, "top5_adversarial")
        source = {"given": "true", "predicted": "clean prediction"}.get(label.get("source"), label.get("source"))
        bar_handles = [Patch(color=C_REF, label=f"reference: {_class_text(label, 24)} ({source})")]
        if targeted:
            bar_handles.append(Patch(color=C_TGT, label=f"target: {_class_text(target, 24)}"))
        bars_sf.legend(handles=bar_handles, loc="outside lower center", ncols=len(bar_handles),
                       handlelength=1.0, handleheight=0.8)

        ax_e = hist_sf.subplots()
        line_handles = _history_panel(ax_e, record.get("history"), targeted, params.get("restarts"))
        if line_handles:
            hist_sf.legend(handles=line_handles, loc="outside lower center", ncols=len(line_handles),
                           handlelength=1.4, columnspacing=0.8)

        fig.suptitle(title, fontsize=TITLE_PT)
    return _finalize(fig)


# --------------------------------------------------------------------------- sweep


def _grid_axis(values) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(cell centres, cell edges, tick labels or None) for one sweep axis. Evenly spaced values
    are drawn in their own units; uneven ones on an index axis labelled with the values."""
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 1:
        return v, np.array([v[0] - 0.5, v[0] + 0.5]), None
    d = np.diff(v)
    if d[0] > 0 and np.allclose(d, d[0], rtol=1e-3, atol=1e-9):
        edges = np.concatenate([[v[0] - d[0] / 2], v + d[0] / 2])
        return v, edges, None
    idx = np.arange(v.size, dtype=float)
    return idx, np.concatenate([[-0.5], idx + 0.5]), v


def _mask_outline(mask: np.ndarray, x_edges: np.ndarray, y_edges: np.ndarray) -> list:
    """Line segments between True and False cells of ``mask`` (rows = y, columns = x). The
    grid's outer border is left to the axes frame."""
    m = mask.astype(bool)
    segments = []
    for i, j in zip(*np.nonzero(m[:, 1:] != m[:, :-1])):       # vertical edge left of column j+1
        x = x_edges[j + 1]
        segments.append([(x, y_edges[i]), (x, y_edges[i + 1])])
    for i, j in zip(*np.nonzero(m[1:, :] != m[:-1, :])):       # horizontal edge below row i+1
        y = y_edges[i + 1]
        segments.append([(x_edges[j], y), (x_edges[j + 1], y)])
    return segments


def _draw_misclassified(ax, wrong: np.ndarray, prob: np.ndarray, x_c, y_c, x_e, y_e, cmap, norm) -> None:
    """Outline the misclassified region and put a small x in each misclassified cell, black or
    white for contrast with the cell's colour."""
    segs = _mask_outline(wrong, x_e, y_e)
    if segs:
        # Two passes (dark under light) so joints between segments stay clean.
        ax.add_collection(LineCollection(segs, colors="black", linewidths=2.0, capstyle="projecting", zorder=3))
        ax.add_collection(LineCollection(segs, colors="white", linewidths=0.8, capstyle="projecting", zorder=3.1))
    rows, cols = np.nonzero(wrong)
    rgba = cmap(norm(np.nan_to_num(prob[rows, cols], nan=0.0)))
    lum = rgba[:, :3] @ np.array([0.2126, 0.7152, 0.0722])
    marker_colours = np.where(lum[:, None] > 0.45, np.array([[0.0, 0.0, 0.0, 1.0]]), np.array([[1.0, 1.0, 1.0, 1.0]]))
    ax.scatter(np.asarray(x_c)[cols], np.asarray(y_c)[rows], s=5, marker="x", c=marker_colours, linewidths=0.6,
               zorder=3.2)


def _apply_axis_labels(axis, centres: np.ndarray, labels: np.ndarray | None) -> None:
    if labels is None:
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        return
    step = max(1, math.ceil(len(centres) / 6))
    chosen = np.arange(0, len(centres), step)
    axis.set_major_locator(FixedLocator(centres[chosen]))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{labels[round(v)]:g}"
                                           if 0 <= round(v) < len(labels) else ""))


def _worst_title(worst: dict) -> str:
    return "(b) Worst transform\n" + _ellipsize(worst.get("pred_label", worst.get("pred", "?")), 22)


def _worst_caption(worst: dict) -> str:
    deg = "\u00b0"
    verdict = "misclassified" if worst.get("fooled") else "still correct"
    angle, tx, ty = (worst.get(k) or 0.0 for k in ("angle", "tx", "ty"))
    p_true = worst.get("true_prob")
    return (f"rot {signed(angle, deg)}, tx {signed(tx)}, ty {signed(ty)} px\n"
            f"{verdict}, P(true) {_prob_is(float('nan') if p_true is None else p_true)}")


def sweep_figure(record: dict, clean: np.ndarray, worst: np.ndarray) -> Figure:
    """True-class probability over rotation x translation (grid: one heatmap per ty; random:
    scatter of the draws), with the clean image and the worst transform."""
    clean = _as_chw(clean)
    worst_img = _as_chw(worst)
    sweep = record.get("sweep") or {}
    params = record.get("parameters") or {}
    label = record.get("label") or {}
    worst_info = sweep.get("worst") or {}
    true_cls = label.get("class")
    grid_mode = sweep.get("rotations") is not None and sweep.get("grid_true_prob") is not None

    with figure_style():
        cmap = matplotlib.colormaps[SEQUENTIAL].with_extremes(bad=C_BAD)
        norm = mcolors.Normalize(0.0, 1.0)
        if grid_mode:
            rot_c, rot_e, rot_l = _grid_axis(sweep["rotations"])
            tx_c, tx_e, tx_l = _grid_axis(sweep["translations_x"])
            ty_values = _floats(sweep.get("translations_y")).ravel()
            if ty_values.size == 0:
                ty_values = np.zeros(1)
            prob = np.asarray(sweep["grid_true_prob"], dtype=float)
            pred = np.asarray(sweep.get("grid_pred"), dtype=float) if sweep.get("grid_pred") is not None else None
            expected = (rot_c.size, tx_c.size, ty_values.size)
            if prob.shape != expected:
                raise ValueError(f"grid_true_prob has shape {prob.shape}, expected {expected}")
            n_panels = ty_values.size
            ncols = min(n_panels, 5)
            nrows = math.ceil(n_panels / ncols)
            panel_h = 2.35 if nrows == 1 else 1.75
            height = 0.45 + nrows * panel_h + 0.35
        else:
            n_panels, ncols, nrows = 2, 2, 1
            height = 0.45 + 2.45 + 0.35
        height = max(height, 3.3)
        fig = Figure(figsize=(FIG_WIDTH, round(height, 2)), layout="constrained")
        left_w = 1.8
        left, right = fig.subfigures(1, 2, width_ratios=[left_w, FIG_WIDTH - left_w], wspace=0.0)

        ax_clean, ax_worst = left.subplots(2, 1)
        _show_image(ax_clean, clean, "clean")
        ax_clean.set_title(f"(a) Clean\n{_class_text(label, 22)}")
        ax_clean.set_xlabel("true class" if label.get("source") == "given" else "predicted class (reference)",
                            fontsize=SMALL_PT)
        _show_image(ax_worst, worst_img, "worst")
        ax_worst.set_title(_worst_title(worst_info))
        ax_worst.set_xlabel(_worst_caption(worst_info), fontsize=SMALL_PT)

        legend_handles: list = []
        legend_labels: list[str] = []
        worst_pe = _halo(2.8)
        if grid_mode:
            axes = right.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
            extent = (tx_e[0], tx_e[-1], rot_e[0], rot_e[-1])
            wrong_any = nan_any = False
            wa, wx, wy = (worst_info.get("angle"), worst_info.get("tx"), worst_info.get("ty"))
            worst_idx = None
            if wa is not None and wx is not None and wy is not None:
                ri = int(np.argmin(np.abs(np.asarray(sweep["rotations"], float) - float(wa))))
                xi = int(np.argmin(np.abs(np.asarray(sweep["translations_x"], float) - float(wx))))
                yi = int(np.argmin(np.abs(ty_values - float(wy))))
                worst_idx = (ri, xi, yi)
            im = None
            for k in range(nrows * ncols):
                ax = axes.flat[k]
                if k >= n_panels:
                    ax.set_visible(False)
                    continue
                ax.set_label(f"heatmap_ty{k}")
                panel = prob[:, :, k]
                im = _crisp_imshow(ax, panel, extent=extent, origin="lower", cmap=cmap, norm=norm, aspect="auto")
                nan_any |= bool(np.isnan(panel).any())
                if pred is not None and true_cls is not None:
                    pp = pred[:, :, k]
                    wrong = np.isfinite(pp) & (pp >= 0) & (pp != true_cls)
                    if wrong.any():
                        wrong_any = True
                        _draw_misclassified(ax, wrong, panel, tx_c, rot_c, tx_e, rot_e, cmap, norm)
                if worst_idx is not None and worst_idx[2] == k:
                    ri, xi, _ = worst_idx
                    ax.add_patch(Rectangle((tx_e[xi], rot_e[ri]), tx_e[xi + 1] - tx_e[xi], rot_e[ri + 1] - rot_e[ri],
                                           fill=False, edgecolor=C_WORST, linewidth=1.5, zorder=4,
                                           path_effects=worst_pe))
                ax.set_title(f"ty = {signed(ty_values[k], ' px')}")
                ax.set_xlim(extent[0], extent[1])
                ax.set_ylim(extent[2], extent[3])
                _apply_axis_labels(ax.xaxis, tx_c, tx_l)
                _apply_axis_labels(ax.yaxis, rot_c, rot_l)
                if k % ncols == 0:
                    ax.set_ylabel("rotation (\u00b0)")
                if k // ncols == nrows - 1 or k + ncols >= n_panels:     # nothing drawn below it
                    ax.set_xlabel("tx (px)")
                    ax.xaxis.set_tick_params(labelbottom=True)
            used = [a for a in axes.flat if a.get_visible()]
            cbar = right.colorbar(im, ax=used, fraction=0.05, pad=0.02, aspect=30)
            if wrong_any:
                legend_handles.append((Line2D([], [], color="black", lw=2.0), Line2D([], [], color="white", lw=0.8),
                                       Line2D([], [], ls="none", marker="x", color="black", markersize=3.5,
                                              markeredgewidth=0.7)))
                legend_labels.append("misclassified (\u00d7)")
            if worst_idx is not None:
                legend_handles.append(Patch(facecolor="none", edgecolor=C_WORST, linewidth=1.5))
                legend_labels.append("worst transform")
            if nan_any:
                legend_handles.append(Patch(facecolor=C_BAD, edgecolor="none"))
                legend_labels.append("not evaluated")
            sub = (f"(c) grid {rot_c.size} rotations \u00d7 {tx_c.size} tx \u00d7 {ty_values.size} ty; "
                   "one panel per vertical shift ty")
        else:
            samples = _floats(sweep.get("samples")).reshape(-1, 3)
            sp = _floats(sweep.get("sample_true_prob")).ravel()
            if sp.size != len(samples):
                sp = np.full(len(samples), np.nan)
            spred = _floats(sweep.get("sample_pred")).ravel()
            wrong = None
            if spred.size == len(samples) and spred.size and true_cls is not None:
                wrong = np.isfinite(spred) & (spred >= 0) & (spred != true_cls)
            axes = right.subplots(1, 2, sharey=True, squeeze=False)
            im = None
            for k, (col, name) in enumerate(((1, "tx"), (2, "ty"))):
                ax = axes[0, k]
                ax.set_label(f"scatter_{name}")
                ok = np.ones(len(samples), bool) if wrong is None else ~wrong
                im = ax.scatter(samples[ok, col], samples[ok, 0], c=sp[ok], cmap=cmap, norm=norm, s=10,
                                linewidths=0, zorder=2, plotnonfinite=True)
                if wrong is not None and wrong.any():
                    ax.scatter(samples[wrong, col], samples[wrong, 0], c=sp[wrong], cmap=cmap, norm=norm, s=22,
                               marker="X", edgecolors="white", linewidths=0.4, zorder=3, plotnonfinite=True)
                if worst_info.get("angle") is not None:
                    ax.scatter([worst_info.get(name, 0)], [worst_info["angle"]], s=90, marker="o",
                               facecolors="none", edgecolors=C_WORST, linewidths=1.5, zorder=4,
                               path_effects=worst_pe)
                ax.set_xlabel(f"{name} (px)")
                ax.set_title(f"rotation vs {name}")
                _plain_axes(ax)
                ax.grid(True, lw=0.3, color="0.85")
                ax.set_axisbelow(True)
            axes[0, 0].set_ylabel("rotation (\u00b0)")
            cbar = right.colorbar(im, ax=list(axes.flat), fraction=0.05, pad=0.02, aspect=30)
            if wrong is not None and wrong.any():
                legend_handles.append(Line2D([], [], ls="none", marker="X", color="0.4", markeredgecolor="white",
                                             markersize=6))
                legend_labels.append("misclassified")
            legend_handles.append(Line2D([], [], ls="none", marker="o", markerfacecolor="none",
                                         markeredgecolor=C_WORST, markeredgewidth=1.5, markersize=8))
            legend_labels.append("worst transform")
            sub = f"(c) {len(samples)} random transforms"
        cbar.set_label(f"P(true class: {_class_text(label, 22)})")
        cbar.outline.set_linewidth(0.5)
        cbar.ax.tick_params(length=2)
        right.suptitle(sub, fontsize=BASE_PT, x=0.02, ha="left")
        if legend_handles:
            right.legend(legend_handles, legend_labels, loc="outside lower center", ncols=len(legend_handles),
                         handler_map={tuple: HandlerTuple(ndivide=1)})

        model_id = _ellipsize((record.get("model") or {}).get("id", "?"), 48)
        frac = sweep.get("fooled_fraction")
        frac_text = f"misclassified on {100 * float(frac):.1f}% of transforms" if frac is not None else ""
        rng = []
        if params.get("max_rotation") is not None:
            rng.append(f"rotation \u00b1{num(params['max_rotation'])}\u00b0")
        if params.get("max_translation") is not None:
            rng.append(f"translation \u00b1{num(params['max_translation'])} px")
        mode = "grid" if grid_mode else "random"
        line1 = f"{model_id} \u00b7 spatial sweep ({mode}" + (", " + ", ".join(rng) if rng else "") + ")"
        if not frac_text and worst_info:
            frac_text = "fooled" if worst_info.get("fooled") else "not fooled"
        line2 = " \u00b7 ".join(t for t in (frac_text, "cancelled" if record.get("cancelled") else "") if t)
        fig.suptitle(line1 + "\n" + line2, fontsize=TITLE_PT)
    return _finalize(fig)


# --------------------------------------------------------------------------- saliency

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
    img = np.clip(_as_hwc(image), 0.0, 1.0)
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
        n_panels = 1 + len(maps)
        ncols = min(n_panels, 4)
        nrows = math.ceil(n_panels / ncols)
        cbar_w = 0.8
        panel_w = (FIG_WIDTH - cbar_w) / ncols - 0.06
        # Slightly less height than the panel width asks for: the images are then height-bound,
        # so the shared colour bar is exactly as tall as they are.
        img_h = min(panel_w * h / w * 0.96, 2.6)
        panel_h = img_h + 0.4
        height = nrows * panel_h + 0.45
        fig = Figure(figsize=(FIG_WIDTH, round(height, 2)), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False)
        gray = None
        if overlay:
            lum = img @ np.array([0.299, 0.587, 0.114]) if img.ndim == 3 else img
            gray = 0.15 + 0.7 * lum            # compressed so the colours stand out

        ax0 = axes.flat[0]
        _show_image(ax0, img, "image")
        ax0.set_title("(a) Image\n" + (f"{w} \u00d7 {h} px"))
        letters = "bcdefghijklmnopqrstuvwxyz"
        any_nan = False
        for i, (m, entry) in enumerate(zip(maps, entries)):
            ax = axes.flat[i + 1]
            any_nan |= bool(np.isnan(m).any())
            if overlay:
                _crisp_imshow(ax, np.clip(_overlay_rgb(gray, m, cmap, norm), 0, 1))
            else:
                _crisp_imshow(ax, m, cmap=cmap, norm=norm)
            _image_axes(ax, f"saliency{i}")
            room = _chars_for(panel_w)
            letter = letters[i] if i < len(letters) else "?"
            model = _wrap_id(f"({letter}) {entry.get('model', '?')}", room, max_lines=3)
            cls = entry.get("class")
            suffix = f" ({cls})" if cls is not None else ""
            cls_text = _ellipsize(entry.get("label", cls), room - len(suffix)) + suffix
            ax.set_title(f"{model}\n{cls_text}")
        for ax in axes.flat[n_panels:]:
            ax.set_visible(False)
        used = [a for a in axes.flat if a.get_visible()]
        sm = ScalarMappable(norm=norm, cmap=cmap)
        sm.set_array([])
        cbar = fig.colorbar(sm, ax=used, fraction=0.04, pad=0.02, aspect=25,
                            extend="max" if absolute else "both")
        cbar.set_label("|saliency| (shared scale)" if absolute else "saliency (shared scale)")
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
        fig.suptitle(line1 + ("\n" + "; ".join(notes) if notes else ""), fontsize=TITLE_PT)
    return _finalize(fig)


# --------------------------------------------------------------------------- saving

_METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}


def save_figure(fig: Figure, stem: str | Path, formats: Iterable[str] = FORMATS, dpi: int = 200) -> list[Path]:
    """Write ``stem.<format>`` for each format atomically (a temporary file in the same folder,
    then ``os.replace``) and return the paths. A suffix on ``stem`` that is itself one of the
    formats is dropped (``fig.png`` -> ``fig``), so callers may pass a file name."""
    stem = Path(stem)
    if stem.suffix.lower().lstrip(".") in FORMATS:
        stem = stem.with_suffix("")
    wanted = []
    for fmt in formats:
        fmt = str(fmt).lower().lstrip(".")
        if fmt not in FORMATS:
            raise OutputError(f"Cannot save a figure as {fmt!r}; choose from {', '.join(FORMATS)}.")
        if fmt not in wanted:
            wanted.append(fmt)
    folder = stem.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the folder {folder}: {exc}") from exc
    written = []
    with figure_style():
        for fmt in wanted:
            target = folder / f"{stem.name}.{fmt}"
            write_atomically(target, lambda fh, f=fmt: fig.savefig(fh, format=f, dpi=dpi, metadata=_METADATA.get(f)),
                             "the figure")
            written.append(target)
    return written
