"""A query attack's result that rounding to 8 bits carries back across the decision boundary
is pushed out along its own direction with the oracle's answers alone (core/blackbox/grid_finish.py)."""

from __future__ import annotations

import functools
import math

import torch

from blackbox_support import correct_digits, digits_model
from visualizer.core.attacks.loop import run_attack
from visualizer.core.attacks.params import AttackParams
from visualizer.core.attacks.quantize import quantize_adversarial
from visualizer.core.blackbox.grid_finish import keep_success_on_grid
from visualizer.core.blackbox.oracle import Oracle

EPS = 0.2


@functools.lru_cache(maxsize=None)
def _boundary_points_that_rounding_loses():
    """Real digits and points a hair across the model's decision boundary (as HopSkipJump's
    binary search leaves them) whose nearest 8-bit rounding is classified right again."""
    model = digits_model()
    x, y = correct_digits(12)
    x = (x * 255).round() / 255      # files hold 8-bit images: the clean input is on the grid
    far = run_attack(model, x, y, AttackParams(method="pgd", norm="linf", eps=EPS, steps=20)).adversarial
    cases = []
    with torch.no_grad():
        for i in range(x.shape[0]):
            clean, label, end = x[i:i + 1], y[i:i + 1], far[i:i + 1]
            if model(clean).argmax(1) != label or model(end).argmax(1) == label:
                continue
            lo, hi = 0.0, 1.0
            for _ in range(40):
                mid = (lo + hi) / 2
                fooled = model(clean + mid * (end - clean)).argmax(1) != label
                lo, hi = (lo, mid) if fooled else (mid, hi)
            point = clean + hi * (end - clean)
            rounded = quantize_adversarial(model, clean, point, label, "linf", EPS, passes=0)
            if not bool(rounded.success[0]):
                cases.append((clean, label, point))
    return model, cases


def test_rounding_that_loses_the_success_is_repaired_with_counted_queries():
    model, cases = _boundary_points_that_rounding_loses()
    assert cases, "no boundary point lost its success to rounding: the test proves nothing"
    for clean, label, point in cases:
        oracle = Oracle(model, "label", budget=20)
        found, spent = keep_success_on_grid(oracle, model, clean, point, label, None, "linf", EPS)
        assert found is not None
        assert spent == oracle.queries >= 1
        adv = found.adversarial
        with torch.no_grad():
            assert int(model(adv).argmax(1)) != int(label)
        assert bool(found.success[0])
        assert torch.equal(adv * 255, (adv * 255).round())                    # on the 8-bit grid
        assert float((adv - clean).abs().max()) <= math.floor(255 * EPS) / 255 + 1e-6   # inside the budget
        assert "oracle quer" in found.notes[0]


def test_no_queries_left_means_no_repair_and_nothing_spent():
    model, cases = _boundary_points_that_rounding_loses()
    clean, label, point = cases[0]
    oracle = Oracle(model, "label", budget=0)
    assert keep_success_on_grid(oracle, model, clean, point, label, None, "linf", EPS) == (None, 0)
    assert oracle.queries == 0
