"""Arrays coerced to images, and images drawn pixel-crisp in PNG, PDF and SVG.

Images are drawn with ``interpolation='none'`` (exact nearest-neighbour in the Agg/PNG
renderer, and an unresampled embedded image in PDF/SVG), and small images are first upsampled
by an integer factor with ``np.repeat`` so a PDF or SVG viewer that smooths embedded images
cannot blur their pixels. The extent in data coordinates is unchanged, so axes keep their
pixel (or degree, or px-shift) units.
"""

from __future__ import annotations

import numpy as np
from matplotlib import patheffects

from visualizer.core.crisp import upsample_factor


def floats(values) -> np.ndarray:
    """A float array from a (nested) JSON list, None entries -> NaN; None -> empty."""
    if values is None:
        return np.zeros(0)
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values.astype(float)
    a = np.asarray(values, dtype=object)
    return np.where(np.equal(a, None), np.nan, a).astype(float)


def as_chw(arr) -> np.ndarray:
    a = np.asarray(arr, dtype=float)
    if a.ndim == 2:
        a = a[None]
    elif a.ndim == 3 and a.shape[0] not in (1, 3) and a.shape[-1] in (1, 3):
        a = np.moveaxis(a, -1, 0)
    if a.ndim != 3 or a.shape[0] not in (1, 3):
        raise ValueError(f"expected a C x H x W image with C = 1 or 3, got shape {a.shape}")
    return a


def as_hwc(arr) -> np.ndarray:
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


def upsample(data: np.ndarray, k: int) -> np.ndarray:
    """``data`` (H x W or H x W x C) with every pixel repeated k x k times. A broadcast copy,
    not ``np.repeat``: numpy's copy releases the GIL, its repeat holds it (100 ms for a
    224 px RGB image at k = 3, while the window exports in a worker: its thread then waits)."""
    h, w = data.shape[:2]
    out = np.empty((h, k, w, k) + data.shape[2:], dtype=data.dtype)
    out[...] = data[:, None, :, None]
    return out.reshape((h * k, w * k) + data.shape[2:])


def crisp_imshow(ax, data, *, extent=None, origin: str = "upper", **kwargs):
    """imshow that stays pixel-crisp in PNG, PDF and SVG (see the module docstring)."""
    data = np.asarray(data)
    h, w = data.shape[:2]
    if extent is None:
        extent = (-0.5, w - 0.5, h - 0.5, -0.5) if origin == "upper" else (-0.5, w - 0.5, -0.5, h - 0.5)
    k = upsample_factor(h, w)
    if k > 1:
        data = upsample(data, k)
    return ax.imshow(data, extent=extent, origin=origin, interpolation="none", resample=False, **kwargs)


def image_axes(ax, label: str) -> None:
    """An image panel: no ticks or frame, but room for a title and an x label caption."""
    ax.set_label(label)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def show_image(ax, chw_or_hwc, label: str):
    img = np.asarray(chw_or_hwc, dtype=float)
    if img.ndim == 3 and img.shape[0] in (1, 3) and img.shape[-1] not in (1, 3):
        img = np.moveaxis(img, 0, -1)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    img = np.clip(img, 0.0, 1.0)
    if img.ndim == 2:
        im = crisp_imshow(ax, img, cmap="gray", vmin=0.0, vmax=1.0)
    else:
        im = crisp_imshow(ax, img)
    image_axes(ax, label)
    return im


def plain_axes(ax) -> None:
    ax.spines["top"].set_visible(False)
    ax.spines["right"].set_visible(False)


def halo(width: float = 2.2, colour="black"):
    return [patheffects.withStroke(linewidth=width, foreground=colour)]
