"""Sweep axes: rotation/translation values as cell centres and edges, tick labels for uneven
grids, and the outline plus markers of the misclassified cells."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

def grid_axis(values) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
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


def mask_outline(mask: np.ndarray, x_edges: np.ndarray, y_edges: np.ndarray) -> list:
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


def draw_misclassified(ax, wrong: np.ndarray, prob: np.ndarray, x_c, y_c, x_e, y_e, cmap, norm) -> None:
    """Outline the misclassified region and put a small x in each misclassified cell, black or
    white for contrast with the cell's colour."""
    segs = mask_outline(wrong, x_e, y_e)
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


def apply_axis_labels(axis, centres: np.ndarray, labels: np.ndarray | None) -> None:
    if labels is None:
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        return
    step = max(1, math.ceil(len(centres) / 6))
    chosen = np.arange(0, len(centres), step)
    axis.set_major_locator(FixedLocator(centres[chosen]))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{labels[round(v)]:g}"
                                           if 0 <= round(v) < len(labels) else ""))
