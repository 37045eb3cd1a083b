"""The view's SVG: plot curves baked into page coordinates (a reader without vector-effect
drew them as slabs), fonts named by the face they were laid out in."""

import re

from visualizer.gui.svg_cosmetic import bake_cosmetic_paths, name_fonts

CURVE = ('<g fill="none" stroke="#2166ac" stroke-width="1.5" transform="matrix(182.5,0,0,-137.5,70,736.5)"\n'
         'font-family="Sans Serif" >\n<path vector-effect="non-scaling-stroke" fill-rule="evenodd" '
         'd="M0,0.2 L1,0.5 C2,1 3,1e-05 4,0 Z"/>\n</g>')


def _numbers(text):
    return [float(v) for v in re.findall(r"[-+]?\d*\.?\d+(?:e[-+]?\d+)?", text)]


def test_a_cosmetic_curve_is_rewritten_in_page_coordinates():
    out = bake_cosmetic_paths(CURVE)
    assert 'transform="matrix(1,0,0,1,0,0)"' in out
    d = re.search(r' d="([^"]*)"', out).group(1)
    # each point: x' = 182.5 x + 70, y' = -137.5 y + 736.5
    expected = [(182.5 * x + 70, -137.5 * y + 736.5) for x, y in [(0, .2), (1, .5), (2, 1), (3, 1e-5), (4, 0)]]
    got = _numbers(d)
    assert len(got) == 2 * len(expected)
    assert all(abs(g - e) < 1e-3 for g, e in zip(got, [v for pair in expected for v in pair])), (got, expected)
    assert d.startswith("M") and " L" in d and " C" in d and d.rstrip().endswith("Z")
    assert 'stroke-width="1.5"' in out                   # the pen itself is unchanged


def test_what_cannot_be_baked_exactly_is_left_as_written():
    scaling = CURVE.replace('vector-effect="non-scaling-stroke"', 'vector-effect="none"')
    relative = CURVE.replace('d="M0,0.2', 'd="m0,0.2')
    with_text = CURVE.replace("</g>", '<text x="0" y="0">P</text>\n</g>')
    identity = CURVE.replace("matrix(182.5,0,0,-137.5,70,736.5)", "matrix(1,0,0,1,0,0)")
    for svg in (scaling, relative, with_text, identity):
        assert bake_cosmetic_paths(svg) == svg


def test_polylines_are_baked_and_other_groups_untouched():
    svg = ('<g transform="matrix(1,0,0,1,970,66)" >\n<polyline fill="none" vector-effect="non-scaling-stroke" '
           'points="-1,-1 11,-1 " />\n</g>\n' + CURVE.replace("<path", "<image"))
    out = bake_cosmetic_paths(svg)
    assert 'points="969,65 981,65 "' in out
    assert out.endswith(CURVE.replace("<path", "<image"))


def test_fonts_are_named_by_their_face_with_a_generic_fallback():
    svg = 'a font-family="Sans Serif" b font-family="Sans Serif" c font-family="Mono" d font-family="serif"'
    faces = {"Sans Serif": "DejaVu Sans", "Mono": "DejaVu Sans Mono"}
    out = name_fonts(svg, faces.get)
    assert out.count('font-family="DejaVu Sans, sans-serif"') == 2
    assert 'font-family="DejaVu Sans Mono, monospace"' in out and 'font-family="serif"' in out


def test_an_empty_path_is_dropped():
    svg = '<g>\n<path vector-effect="none" fill-rule="evenodd" d=""/>\n<path d="M0,0 L1,1"/>\n</g>'
    assert bake_cosmetic_paths(svg) == '<g>\n<path d="M0,0 L1,1"/>\n</g>'
