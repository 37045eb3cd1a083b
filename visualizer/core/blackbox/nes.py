"""NES gradient estimation (Ilyas et al. 2018, "Black-box adversarial attacks with limited
queries and information") driving the project's own PGD step (attacks/threat.py, loop.py).

Each step estimates the gradient of the margin objective (common.objective) from the
oracle's probabilities with antithetic Gaussian sampling,

    g = 1 / (n sigma) * sum_{i <= n/2} (L(x + sigma u_i) - L(x - sigma u_i)) u_i,  u_i ~ N(0, I),

then takes the white-box loop's step with it: sign step (L-inf) or normalised step (L2),
projection into the eps ball and clipping to [0, 1]. One step costs ``samples`` queries for
the estimate plus one to score the new point.
"""

from __future__ import annotations

from typing import Generator

import torch

from visualizer.core.attacks.loop import _advance      # the PGD step itself, shared with the white-box loop
from visualizer.core.attacks.threat import threat_for
from visualizer.core.blackbox.common import QueryLedger, begin, check_oracle, keep_better, objective
from visualizer.core.blackbox.oracle import Oracle
from visualizer.core.blackbox.params import QueryAttackParams
from visualizer.core.blackbox.result import QueryAttackResult, QueryStep
from visualizer.core.cancel import CancelToken, is_cancelled

# Sampled images per oracle call: bounds the memory of one estimate at large image sizes.
MAX_SAMPLE_BATCH = 512


def _estimate(ledger: QueryLedger, x: torch.Tensor, owners: torch.Tensor, labels, targets,
              samples: int, sigma: float, gen: torch.Generator) -> torch.Tensor | None:
    """NES gradient estimate (len(owners) x C x H x W) at ``x``; None if the oracle ran out."""
    m = x.shape[0]
    pairs = samples // 2
    per_call = max(1, MAX_SAMPLE_BATCH // (2 * m))
    grad = torch.zeros_like(x)
    for first in range(0, pairs, per_call):
        k = min(per_call, pairs - first)
        u = torch.randn((k, *x.shape), generator=gen).to(x.device)         # k x m x C x H x W
        # Clipped: the oracle takes valid images only, as a real prediction API would.
        points = torch.cat([x + sigma * u, x - sigma * u]).flatten(0, 1).clamp_(0, 1)
        who = owners.repeat(2 * k)
        got = ledger.ask(points, who)
        if got is None:
            return None
        obj = objective(got, labels.repeat(2 * k), targets.repeat(2 * k) if targets is not None else None)
        diff = (obj[:k * m] - obj[k * m:]).view(k, m, 1, 1, 1)
        grad += (diff * u).sum(0)
    return grad / (2 * pairs * sigma)


def nes_attack(oracle: Oracle, images: torch.Tensor, labels: torch.Tensor, params: QueryAttackParams,
               targets: torch.Tensor | None = None, cancel: CancelToken | None = None,
               report_images: bool = False) -> Generator[QueryStep, None, QueryAttackResult]:
    """NES + PGD on ``images`` (N x C x H x W, [0, 1] pixels) through ``oracle`` (needs scores).
    A generator: one QueryStep per PGD step, then the QueryAttackResult (the best iterate per
    image: success first, then the higher margin). ``params.queries``: each image's budget,
    its clean query included; an image stops when it is fooled or cannot afford a whole step.
    Raises ParameterError for a label-only oracle. Cancel stops before the next step."""
    p = params.resolved()
    check_oracle(oracle, p)
    threat = threat_for(p.norm, p.eps)
    run = begin(oracle, images, labels, targets, p)
    if run.scores is None:
        return run.nothing()
    x0, labels, targets, gen, ledger, rec, everyone, scores = (
        run.x0, run.labels, run.targets, run.gen, run.ledger, run.rec, run.everyone, run.scores)
    best_obj = objective(scores, labels, targets)
    success = best_obj > 0
    x_adv, x_best, best_scores = x0.clone(), x0.clone(), scores
    yield rec.step(0, best_obj, best_scores, success, x_best if report_images else None)
    cancelled, step = False, 0
    while not ledger.exhausted:
        todo = everyone[~success & (ledger.remaining() >= p.samples + 1)]
        if not todo.numel():
            break
        if is_cancelled(cancel):
            cancelled = True
            break
        sub_labels = labels[todo]
        sub_targets = targets[todo] if targets is not None else None
        grad = _estimate(ledger, x_adv[todo], todo, sub_labels, sub_targets, p.samples, p.sigma, gen)
        if grad is None:
            break
        moved = _advance(threat, x_adv[todo], x0[todo], grad, p.step_size)
        got = ledger.ask(moved, todo)
        if got is None:
            break
        step += 1
        x_adv[todo] = moved
        keep_better(run, todo, moved, got, x_best, best_scores, best_obj)
        success = best_obj > 0
        yield rec.step(step, best_obj, best_scores, success, x_best if report_images else None)
    return rec.result(x_best, success.cpu(), best_obj, cancelled, [])
