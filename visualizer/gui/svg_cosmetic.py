"""Plot curves and fonts in the view's SVG that every SVG reader draws alike.

pyqtgraph draws a curve in data coordinates under a scaling transform with a cosmetic pen
(one screen pixel wide however the data is scaled), and Qt's SVG generator writes exactly
that: ``<g transform="matrix(182.9,0,0,-137.6,70,736)"><path vector-effect="non-scaling-stroke"
d="M0,0.29 L1,0.013 ..."/></g>``. Browsers and Inkscape honour ``vector-effect``; readers
that do not (MuPDF, CairoSVG, so several PDF and LaTeX pipelines) scale the 1.5 px stroke
by 137 and paint the plot as black and blue slabs. ``bake_cosmetic_paths`` moves such
groups' transforms into the coordinates themselves: the same geometry (an affine map keeps
lines and Bezier control points), a stroke that no longer depends on the reader.

Qt also names the widgets' font by its alias ("Sans Serif"), which no reader knows: they
fall back to a serif face of other widths, and runs of text placed for the real one gap or
overlap. ``name_fonts`` writes the face it resolved to, then a generic fallback.
"""

from __future__ import annotations

import re
from typing import Callable

_GROUP = re.compile(r'(<g [^>]*?transform=")matrix\(([^)]*)\)("[^>]*>)((?:(?!<g |</g>).)*?)(</g>)', re.S)
_ELEMENT = re.compile(r"<(path|polyline)\b[^>]*/>", re.S)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PAIR = re.compile(rf"({_NUMBER}),({_NUMBER})")
_PATH_OK = re.compile(rf"^(?:\s*[MLCQZ]?\s*{_NUMBER},{_NUMBER}|\s*Z)*\s*$")
_POINTS_OK = re.compile(rf"^(?:\s*{_NUMBER},{_NUMBER})*\s*$")
_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


_EMPTY_PATH = re.compile(r'<path\b[^>]*\sd=""[^>]*/>\n?')


def bake_cosmetic_paths(svg: str) -> str:
    """``svg`` with each transformed group of cosmetic-pen paths and polylines (absolute
    M/L/C/Q/Z commands only) rewritten in page coordinates under an identity transform.
    Anything else, including every group that holds text or images, is left as written.
    Empty paths (Qt writes one for a one-point curve; readers warn "invalid path data")
    are dropped."""
    return _GROUP.sub(_bake_group, _EMPTY_PATH.sub("", svg))


def _bake_group(m: re.Match) -> str:
    try:
        matrix = tuple(float(v) for v in m.group(2).split(","))
    except ValueError:
        return m.group(0)
    body = m.group(4)
    elements = _ELEMENT.findall(body)
    if len(matrix) != 6 or matrix == _IDENTITY or not elements:
        return m.group(0)
    if _ELEMENT.sub("", body).strip():                 # something else in the group: keep it
        return m.group(0)
    baked = []
    for element in _ELEMENT.finditer(body):
        new = _bake_element(element.group(0), matrix)
        if new is None:
            return m.group(0)
        baked.append(new)
    return f"{m.group(1)}matrix(1,0,0,1,0,0){m.group(3)}\n" + "\n".join(baked) + f"\n{m.group(5)}"


def _bake_element(element: str, matrix: tuple[float, ...]) -> str | None:
    if 'vector-effect="non-scaling-stroke"' not in element and 'stroke="none"' not in element:
        return None              # a scaling stroke: its width depends on the transform
    attribute, allowed = (("d", _PATH_OK) if element.startswith("<path") else ("points", _POINTS_OK))
    found = re.search(rf'\b{attribute}="([^"]*)"', element)
    if found is None or not allowed.match(found.group(1)):
        return None
    a, b, c, d, e, f = matrix

    def mapped(pair: re.Match) -> str:
        x, y = float(pair.group(1)), float(pair.group(2))
        return f"{a * x + c * y + e:.7g},{b * x + d * y + f:.7g}"

    value = _PAIR.sub(mapped, found.group(1))
    return element[:found.start(1)] + value + element[found.end(1):]


_FONT = re.compile(r'font-family="([^"]*)"')
_GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}


def name_fonts(svg: str, resolve: Callable[[str], str]) -> str:
    """``font-family="Sans Serif"`` becomes ``font-family="DejaVu Sans, sans-serif"`` (with
    ``resolve("Sans Serif") == "DejaVu Sans"``: the face the text was laid out in)."""
    names: dict[str, str] = {}

    def named(m: re.Match) -> str:
        alias = m.group(1)
        if "," in alias or alias.strip().lower() in _GENERIC:
            return m.group(0)
        if alias not in names:
            face = resolve(alias) or alias
            low = face.lower()
            generic = "monospace" if "mono" in low else "serif" if "serif" in low and "sans" not in low else "sans-serif"
            names[alias] = f"{face}, {generic}"
        return f'font-family="{names[alias]}"'

    return _FONT.sub(named, svg)
