"""Random starts drawn from the distribution the docs promise: L2 uniform in the ball
(radius eps * U^(1/d)), L-inf uniform in the cube. Fixed seeds, so the checks are exact
reruns; tolerances are several standard errors wide."""

import math

import pytest
import torch

from visualizer.core.attacks import AttackParams, attack_steps
from visualizer.core.attacks.threat import L2Threat, LinfThreat

N = 4000                   # draws
SHAPE = (1, 4, 4)          # d = 16: moderate, so the radius law is far from "always eps"
D = math.prod(SHAPE)
EPS = 0.7


def draws(threat, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return threat.random_start(torch.zeros((N, *SHAPE)), gen).flatten(1).double()


def ks_uniform(u: torch.Tensor) -> float:
    """Kolmogorov-Smirnov distance of a sample from Uniform(0, 1)."""
    u, _ = u.sort()
    n = u.numel()
    i = torch.arange(1, n + 1, dtype=u.dtype)
    return float(torch.maximum(i / n - u, u - (i - 1) / n).max())


def test_l2_radius_is_uniform_in_the_ball():
    r = draws(L2Threat(EPS)).norm(dim=1) / EPS
    assert float(r.max()) <= 1 + 1e-6
    # Mean d/(d+1) = 0.941 (the old radius-uniform rule gave 0.5); Beta(d, 1) sd 0.054.
    assert float(r.mean()) == pytest.approx(D / (D + 1), abs=0.005)
    for q in (0.1, 0.5, 0.9):
        assert float(r.quantile(q)) == pytest.approx(q ** (1 / D), abs=0.01)
    # (r/eps)^d is Uniform(0, 1) exactly when the radius CDF is (r/eps)^d. KS 1% critical value.
    assert ks_uniform(r ** D) < 1.63 / math.sqrt(N)


def test_l2_direction_is_isotropic():
    x = draws(L2Threat(EPS), seed=1)
    u = x / x.norm(dim=1, keepdim=True)
    # Uniform on the sphere: mean 0, second moments I/d (each coordinate's sd of the mean 1/sqrt(dN)).
    assert float(u.mean(dim=0).abs().max()) < 5 / math.sqrt(D * N)
    second = u.T @ u / N
    assert torch.allclose(second, torch.eye(D, dtype=second.dtype) / D, atol=0.01)


def test_linf_start_is_uniform_in_the_cube():
    x = draws(LinfThreat(EPS), seed=2)
    assert float(x.abs().max()) <= EPS
    assert ks_uniform((x[:, 0] / EPS + 1) / 2) < 1.63 / math.sqrt(N)


def test_the_attack_loop_starts_where_the_threat_draws():
    """Through the real loop: each restart's starting point (step 0) lies at radius
    eps * U^(1/d) with d = 3 x 8 x 8 = 192, i.e. above 0.97 eps with probability 1 - 0.97^192 (> 0.997);
    the old rule put half the starts below eps / 2."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 4))
    x = torch.full((1, 3, 8, 8), 0.5)       # mid-grey: clipping to [0, 1] never bites at eps 1
    params = AttackParams(norm="l2", eps=1.0, steps=1, random_start=True, restarts=12, seed=5)
    starts = [e.adversarial for e in attack_steps(model, x, torch.tensor([0]), params, report_images=True)
              if e.step == 0]
    radii = torch.stack([(s - x).flatten().norm() for s in starts])
    assert len(starts) == 12 and float(radii.max()) <= 1 + 1e-5
    assert float(radii.min()) > 0.97, radii
