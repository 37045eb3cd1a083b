"""The perturbation colour scale shared by the figures and the window
(core/perturbation_scale.py): limits, one scale per threat model, ticks and read-outs."""

import numpy as np
import pytest

from visualizer.core.perturbation_scale import (delta_text, perturbation_scale, scale_ticks, scale_unit,
                                                shared_scales)

LINF = {"norm": "linf", "eps": 4 / 255}


def test_an_linf_map_spans_its_budget_and_is_ticked_in_eps():
    delta = np.array([[3.999 / 255, -4 / 255 - 1e-8], [0.0, 1 / 255]])     # float32 rounding past eps
    scale = perturbation_scale(delta, LINF)
    assert scale.limit == pytest.approx(4 / 255) and scale.spans_eps and scale.k255 == 4
    ticks = scale_ticks(scale)
    assert [v for v, _ in ticks] == pytest.approx([-4 / 255, -2 / 255, 0, 2 / 255, 4 / 255])
    assert [t for _, t in ticks] == ["\u2212\u03b5", "\u2212\u03b5/2", "0", "+\u03b5/2", "+\u03b5"]
    assert scale_unit(scale) == "\u03b5 = 4/255"
    # A map beyond its budget is not drawn as if it were within it.
    assert not perturbation_scale(delta * 3, LINF).spans_eps


def test_other_maps_span_their_largest_change_with_round_grey_level_ticks():
    delta = np.array([0.5, -0.2, np.nan])
    scale = perturbation_scale(delta, {"norm": "l2", "eps": 4.0})
    assert scale.limit == 0.5 and not scale.spans_eps
    ticks = scale_ticks(scale)
    values = [v for v, _ in ticks]
    assert all(abs(v) <= 0.5 for v in values) and 0.0 in values and len(ticks) >= 5
    assert ("+100", "\u2212100") == (ticks[-1][1], ticks[0][1])       # round numbers of grey levels
    assert scale_unit(scale) == "grey levels (/255)"
    tiny = perturbation_scale(np.array([0.002]), {"norm": "l2", "eps": 0.1})
    assert scale_unit(tiny) == "pixel value" and scale_ticks(tiny)[-1] == (pytest.approx(0.002), "+0.002")


def test_columns_share_one_scale_per_threat_model():
    a = perturbation_scale(np.array([0.3]), {"norm": "l2", "eps": 4})
    b = perturbation_scale(np.array([0.6]), {"norm": "l2", "eps": 4})
    c = perturbation_scale(np.array([1 / 255]), LINF)
    d = perturbation_scale(np.array([8 / 255]), {"norm": "linf", "eps": 8 / 255})
    out = shared_scales([a, None, b, c, d])
    assert out[1] is None
    assert out[0].limit == out[2].limit == 0.6
    assert out[3].limit == out[4].limit == pytest.approx(8 / 255)
    assert out[3].eps == pytest.approx(4 / 255)           # read-outs keep the column's own budget


def test_a_pixel_change_reads_in_grey_levels_and_eps():
    scale = perturbation_scale(np.zeros(1), LINF)
    assert delta_text(3 / 255, scale) == "+3/255 = +0.75 \u03b5"
    assert delta_text(-2.5 / 255, scale) == "\u22122.5/255 = \u22120.62 \u03b5"
    assert delta_text(0.1, perturbation_scale(np.array([0.2]), {"norm": "l2", "eps": 1})) == "+25.5/255"
