"""visualizer.core.attacks.quantize: the adversarial image on the clean input's 8-bit grid,
inside the threat model, with gradient-guided rounding where nearest rounding loses the
success. A real linear classifier makes every case exact: its loss is linear in the pixels,
so the test can place the float result where nearest rounding fails and the gradient's
rounding succeeds (or cannot)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from visualizer.core.attacks.quantize import linf_levels, quantize_adversarial, within_budget

SHAPE = (1, 3, 4, 4)
N = 48


def linear_classifier(w: torch.Tensor, margin_levels: float, clean: torch.Tensor) -> nn.Module:
    """Two classes, logit difference f(x) = w . x + b with f(clean) = margin_levels / 255
    (class 0 while positive)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(N, 2))
    with torch.no_grad():
        net[1].weight.zero_()
        net[1].weight[0] = w
        net[1].bias.zero_()
        net[1].bias[0] = margin_levels / 255 - float(w @ clean.flatten())
    return net.eval().requires_grad_(False)


def grid_clean(seed: int = 0) -> torch.Tensor:
    levels = torch.randint(10, 246, SHAPE, generator=torch.Generator().manual_seed(seed))
    return levels.float() / 255


def weights() -> torch.Tensor:
    """A few strong pixels, many weak ones, alternating signs."""
    w = torch.full((N,), 0.1)
    w[:7] = torch.tensor([5.0, 5, 4, 4, 3, 3, 3])
    return w * torch.tensor([1.0, -1.0]).repeat(N // 2)


def levels_moved(q: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    d = (q.double() - clean.double()) * 255
    assert float((d - d.round()).abs().max()) < 1e-3, "not on the clean input's 8-bit grid"
    return d.round()


def predicted_class(net, x) -> int:
    with torch.no_grad():
        return int(net(x).argmax(1))


def test_budget_in_levels():
    assert [linf_levels(e) for e in (0.5 / 255, 1 / 255, 1.5 / 255, 8 / 255, 1.0)] == [0, 1, 1, 8, 255]
    assert within_budget(torch.tensor([1.0, -1.0]), "linf", 1 / 255)
    assert not within_budget(torch.tensor([2.0]), "linf", 1.5 / 255)
    assert within_budget(torch.tensor([3.0, 4.0]), "l2", 5 / 255)
    assert not within_budget(torch.tensor([3.0, 4.0]), "l2", 4.99 / 255)


def test_linf_gradient_guided_rounding_keeps_the_success():
    w, clean = weights(), grid_clean()
    s = float(w.abs().sum())
    net = linear_classifier(w, 0.2 * s, clean)
    # 0.4 levels against w everywhere: adversarial, but nearest rounding is the clean image.
    adv = clean - 0.4 / 255 * torch.sign(w).view(SHAPE)
    assert predicted_class(net, adv) == 1 and predicted_class(net, clean) == 0
    q = quantize_adversarial(net, clean, adv, torch.tensor([0]), "linf", 1 / 255)
    d = levels_moved(q.adversarial, clean)
    assert q.rounding == ["gradient-guided"] and q.passes[0] >= 2 and bool(q.success[0])
    assert predicted_class(net, q.adversarial) == 1
    assert float(d.abs().max()) <= 1 and within_budget(d, "linf", 1 / 255)
    assert "gradient" in q.notes[0] and q.changed[0] == int((d != 0).sum()) > 0


def test_l2_gradient_guided_rounding_spends_the_budget_on_the_strongest_pixels():
    w, clean = weights(), grid_clean(1)
    eps = 2.8 / 255                       # room for 7 changes of one level (7 <= 2.8^2 < 8)
    net = linear_classifier(w, 10.0, clean)
    adv = clean - 0.4 / 255 * torch.sign(w).view(SHAPE)     # norm 0.4 sqrt(48) = 2.77 levels
    assert predicted_class(net, adv) == 1
    q = quantize_adversarial(net, clean, adv, torch.tensor([0]), "l2", eps)
    d = levels_moved(q.adversarial, clean).flatten()
    assert bool(q.success[0]) and predicted_class(net, q.adversarial) == 1
    assert within_budget(d, "l2", eps) and float((d * d).sum()) <= 7
    assert set(d.nonzero().flatten().tolist()) == set(range(7))       # the seven strongest weights
    torch.testing.assert_close(d[:7], -torch.sign(w[:7]).double())


def test_l2_nearest_rounding_that_leaves_the_ball_is_pulled_back_inside():
    w, clean = weights(), grid_clean(2)
    net = linear_classifier(w, -50.0, clean)                     # misclassified by more than any change: no passes
    adv = clean + 0.6 / 255 * torch.sign(w).view(SHAPE)          # nearest rounding: 1 level each, norm 6.9
    eps = 4.2 / 255                                              # the float result's norm is 4.16
    q = quantize_adversarial(net, clean, adv, torch.tensor([0]), "l2", eps)
    d = levels_moved(q.adversarial, clean).flatten()
    assert within_budget(d, "l2", eps) and float((d * d).sum()) == 17      # as many as fit: 17 <= 4.2^2
    kept = d != 0
    torch.testing.assert_close(d[kept], torch.sign(w)[kept].double())     # rounded towards zero, never flipped
    assert q.rounding == ["nearest"] and q.passes == [0]


@pytest.mark.parametrize("norm,eps", [("linf", 0.5 / 255), ("l2", 0.9 / 255)])
def test_eps_below_one_level_leaves_the_clean_image_and_says_so(norm, eps):
    w, clean = weights(), grid_clean(3)
    net = linear_classifier(w, 0.1, clean)
    adv = clean - min(eps, 0.5 / 255) / math.sqrt(N if norm == "l2" else 1) * torch.sign(w).view(SHAPE)
    q = quantize_adversarial(net, clean, adv, torch.tensor([0]), norm, eps)
    assert torch.equal(q.adversarial, clean) and q.changed == [0] and not bool(q.success[0])
    assert "below one 8-bit level" in q.notes[0]


def test_no_rounding_inside_the_budget_succeeds_and_the_result_says_so():
    w, clean = weights(), grid_clean(4)
    s = float(w.abs().sum())
    eps = 1.5 / 255                                  # the grid allows one level, the float result 1.5
    net = linear_classifier(w, 1.25 * s, clean)
    adv = clean - eps * torch.sign(w).view(SHAPE)
    assert predicted_class(net, adv) == 1
    q = quantize_adversarial(net, clean, adv, torch.tensor([0]), "linf", eps)
    d = levels_moved(q.adversarial, clean)
    assert not bool(q.success[0]) and predicted_class(net, q.adversarial) == 0
    assert q.rounding == ["gradient-guided"] and q.passes[0] >= 1 and "no 8-bit image" in q.notes[0]
    assert float(d.abs().max()) <= 1


def test_targeted_rounding_aims_at_the_target():
    w, clean = weights(), grid_clean(5)
    s = float(w.abs().sum())
    net = linear_classifier(w, 0.2 * s, clean)
    adv = clean - 0.4 / 255 * torch.sign(w).view(SHAPE)
    q = quantize_adversarial(net, clean, adv, torch.tensor([0]), "linf", 1 / 255, targets=torch.tensor([1]))
    assert bool(q.success[0]) and predicted_class(net, q.adversarial) == 1
    # Not asked to keep a success the float result never had: nearest rounding, no passes.
    miss = quantize_adversarial(net, clean, adv, torch.tensor([0]), "linf", 1 / 255,
                                float_success=torch.tensor([False]))
    assert miss.rounding == ["nearest"] and miss.passes == [0] and torch.equal(miss.adversarial, clean)
