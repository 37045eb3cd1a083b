"""HopSkipJump (Chen, Jordan and Wainwright 2020, "HopSkipJumpAttack: a query-efficient
decision-based attack"), untargeted, L2 and L-inf, from the oracle's top-1 label alone.

HopSkipJump minimises the distance to an adversarial image instead of maximising a loss:

1. start from uniform noise that the oracle misclassifies, pulled towards the image by a
   binary search on the blend (tolerance 0.001);
2. repeat: binary-search the boundary between the image and the current adversarial point
   (tolerance theta = d^-3/2 for L2, d^-2 for L-inf, d = C*H*W); estimate the boundary's
   normal from ``samples * sqrt(t)`` random probes (Monte Carlo over +-1 decisions with a
   mean baseline); step along it (its sign for L-inf) by dist / sqrt(t), halving until the
   point is adversarial again.

An image succeeds once its adversarial point is within eps; it is then no longer queried, so
its query count is the count at success. ``loss`` in the events is eps minus the current
distance (positive once successful). A failed image returns the last point projected into the
eps ball, which the oracle does not call adversarial. Written from the paper.
"""

from __future__ import annotations

import math
from typing import Generator

import torch

from visualizer.core.attacks.threat import threat_for
from visualizer.core.blackbox.common import QueryLedger, begin, objective
from visualizer.core.blackbox.oracle import Oracle
from visualizer.core.blackbox.params import QueryAttackParams
from visualizer.core.blackbox.result import QueryAttackResult, QueryStep
from visualizer.core.cancel import CancelToken, is_cancelled

INIT_TRIES = 100          # uniform-noise images tried per image for a misclassified start
INIT_TOLERANCE = 1e-3     # blend tolerance of the first binary search
MAX_HALVINGS = 25         # step-size halvings before an iteration gives up moving
MAX_SAMPLE_BATCH = 512    # probe images per oracle call
MIN_PROBES = 10           # the fewest direction probes an iteration is worth taking with


def _distance(x0: torch.Tensor, x: torch.Tensor, norm: str) -> torch.Tensor:
    d = (x - x0).flatten(1)
    return d.abs().amax(1) if norm == "linf" else d.norm(dim=1)


def _blend(x0: torch.Tensor, x_adv: torch.Tensor, alpha: torch.Tensor, norm: str) -> torch.Tensor:
    """L2: the point alpha of the way from x0 to x_adv; L-inf: x_adv clipped to the ball of
    radius alpha around x0."""
    a = alpha.view(-1, 1, 1, 1)
    if norm == "l2":
        return (1 - a) * x0 + a * x_adv
    return torch.minimum(torch.maximum(x_adv, x0 - a), x0 + a)


class _Search:
    """The batched decision queries of one HopSkipJump run."""

    def __init__(self, ledger: QueryLedger, x0, labels, norm: str, gen: torch.Generator):
        self.ledger, self.x0, self.labels, self.norm, self.gen = ledger, x0, labels, norm, gen
        d = x0[0].numel()
        self.dim = d
        self.theta = d ** -1.5 if norm == "l2" else d ** -2.0

    def is_adversarial(self, images, owners):
        """(bool per image, scores) or (None, None) once the oracle has run out."""
        got = self.ledger.ask(images, owners)
        if got is None:
            return None, None
        return objective(got, self.labels[owners], None) > 0, got

    def boundary(self, idx, x_adv, scores, tolerance=None):
        """Binary search between x0[idx] and x_adv (adversarial, answered ``scores``) -> the
        closest adversarial point found and its answers, per image (stops early for an
        image out of budget)."""
        scores = scores.clone()
        x0 = self.x0[idx]
        m = idx.numel()
        if self.norm == "l2" or tolerance is not None:
            highs = torch.ones(m, device=x0.device)
            thr = torch.full((m,), tolerance or self.theta, device=x0.device)
        else:
            highs = _distance(x0, x_adv, "linf")
            thr = torch.clamp(highs * self.theta, max=self.theta).clamp_min(1e-12)
        lows = torch.zeros_like(highs)
        norm = "l2" if tolerance is not None else self.norm
        while True:
            open_ = ((highs - lows) / thr > 1) & (self.ledger.remaining()[idx] > 0)
            sel = open_.nonzero().flatten()
            if not sel.numel():
                break
            mids = (highs[sel] + lows[sel]) / 2
            adv, got = self.is_adversarial(_blend(x0[sel], x_adv[sel], mids, norm).clamp(0, 1), idx[sel])
            if adv is None:
                break
            highs[sel] = torch.where(adv, mids, highs[sel])
            lows[sel] = torch.where(adv, lows[sel], mids)
            scores[sel[adv]] = got[adv]
        return _blend(x0, x_adv, highs, norm).clamp(0, 1), scores

    def direction(self, idx, x_b, delta, samples):
        """Estimated boundary normal at x_b (m x C x H x W, unit L2 norm per image)."""
        m = idx.numel()
        sum_f_rv = torch.zeros_like(x_b)
        sum_rv = torch.zeros_like(x_b)
        sum_f = torch.zeros(m, device=x_b.device)
        per_call = max(1, MAX_SAMPLE_BATCH // m)
        for first in range(0, samples, per_call):
            k = min(per_call, samples - first)
            shape = (k, *x_b.shape)
            rv = torch.randn(shape, generator=self.gen) if self.norm == "l2" else torch.rand(shape, generator=self.gen) * 2 - 1
            rv = rv.to(x_b.device)
            rv = rv / rv.flatten(2).norm(dim=2).clamp_min(1e-12).view(k, m, 1, 1, 1)
            probes = (x_b + delta.view(1, -1, 1, 1, 1) * rv).clamp(0, 1)
            rv = (probes - x_b) / delta.view(1, -1, 1, 1, 1)
            adv, _ = self.is_adversarial(probes.flatten(0, 1), idx.repeat(k))
            if adv is None:
                return None
            f = adv.float().view(k, m) * 2 - 1
            sum_f_rv += (f.view(k, m, 1, 1, 1) * rv).sum(0)
            sum_rv += rv.sum(0)
            sum_f += f.sum(0)
        mean_f = sum_f / samples
        # Baseline: subtract the mean decision, unless every probe agreed (then +-mean(rv)).
        centred = (mean_f.abs() < 1).float().view(-1, 1, 1, 1)
        grad = sum_f_rv / samples - centred * mean_f.view(-1, 1, 1, 1) * sum_rv / samples
        return grad / grad.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)


def hopskipjump_attack(oracle: Oracle, images: torch.Tensor, labels: torch.Tensor, params: QueryAttackParams,
                       targets: torch.Tensor | None = None, cancel: CancelToken | None = None,
                       report_images: bool = False) -> Generator[QueryStep, None, QueryAttackResult]:
    """Untargeted HopSkipJump on ``images`` (N x C x H x W, [0, 1] pixels) through any oracle
    (only its top-1 is used). A generator: one QueryStep per iteration, then the
    QueryAttackResult. ``params.queries``: each image's budget, its clean query included.
    ``targets`` must be None (ParameterError from the params). Cancel stops between phases."""
    p = params.resolved()
    run = begin(oracle, images, labels, None, p)
    if run.scores is None:
        return run.nothing()
    x0, labels, gen, ledger, rec, everyone, scores = (
        run.x0, run.labels, run.gen, run.ledger, run.rec, run.everyone, run.scores)
    n = x0.shape[0]
    search = _Search(ledger, x0, labels, p.norm, gen)
    adv = objective(scores, labels, None) > 0
    x_adv = x0.clone()
    found = adv.clone()                              # has an adversarial point
    dist = torch.where(adv, 0.0, float("inf"))
    # 1. A misclassified start from uniform noise, pulled in by a blend binary search.
    for _ in range(INIT_TRIES):
        todo = everyone[~found & (ledger.remaining() > 0)]
        if not todo.numel() or is_cancelled(cancel):
            break
        noise = torch.rand((n, *x0.shape[1:]), generator=gen).to(x0.device)[todo]
        hit, got = search.is_adversarial(noise, todo)
        if hit is None:
            break
        x_adv[todo[hit]] = noise[hit]
        scores[todo[hit]] = got[hit]
        found[todo[hit]] = True
    pulled = everyone[found & (dist > 0)]
    if pulled.numel():
        x_adv[pulled], scores[pulled] = search.boundary(pulled, x_adv[pulled], scores[pulled],
                                                        tolerance=INIT_TOLERANCE)
    dist = torch.where(found, _distance(x0, x_adv, p.norm), float("inf"))
    success = found & (dist <= p.eps)

    def event(t):
        return rec.step(t, (p.eps - dist).clamp(-1e6, 1e6), scores, success, x_adv if report_images else None)

    yield event(0)
    cancelled, t = False, 0
    # An iteration: a boundary search, the probes, a step and the step's boundary search (each
    # search about log2(1 / theta) queries). With less than that left an image stops; with
    # less than its full probe count it probes with what is left (a budget of 113 once quit
    # after 13 queries, leaving 100 "too few" for 100 probes).
    search_cost = math.ceil(math.log2(1 / search.theta))
    step_needs = 2 * search_cost + 2 + MIN_PROBES
    while not ledger.exhausted:
        t += 1
        samples = int(p.samples * math.sqrt(t))
        todo = everyone[found & ~success & (ledger.remaining() >= step_needs)]
        if not todo.numel():
            break
        if is_cancelled(cancel):
            cancelled = True
            break
        x_b, scores[todo] = search.boundary(todo, x_adv[todo], scores[todo])
        d_b = _distance(x0[todo], x_b, p.norm)
        x_adv[todo] = x_b
        dist[todo] = d_b
        scale = math.sqrt(search.dim) if p.norm == "l2" else search.dim
        delta = torch.full_like(d_b, 0.1) if t == 1 else (scale * search.theta * d_b).clamp_min(1e-6)
        # The boundary search above spent part of the budget: the probes must fit in what is
        # left, else an image would go past its budget; kept back: a step and the binary
        # search after it (about log2(1 / theta) queries), without which the step is wasted.
        affordable = int(ledger.remaining()[todo].min()) - 1 - search_cost
        if affordable < 1:
            success = found & (dist <= p.eps)
            yield event(t)
            continue
        grad = search.direction(todo, x_b, delta, min(samples, affordable))
        if grad is None:
            break
        update = grad.sign() if p.norm == "linf" else grad
        # Geometric step: dist / sqrt(t), halved until the point is adversarial again.
        step = d_b / math.sqrt(t)
        moved, moved_scores = x_b.clone(), scores[todo]
        searching = torch.ones(todo.numel(), dtype=torch.bool, device=x0.device)
        for _ in range(MAX_HALVINGS):
            sel = (searching & (ledger.remaining()[todo] > 0)).nonzero().flatten()
            if not sel.numel():
                break
            cand = (x_b[sel] + step[sel].view(-1, 1, 1, 1) * update[sel]).clamp(0, 1)
            hit, got = search.is_adversarial(cand, todo[sel])
            if hit is None:
                break
            moved[sel[hit]] = cand[hit]
            moved_scores[sel[hit]] = got[hit]
            searching[sel[hit]] = False
            step[sel[~hit]] /= 2
        at_boundary = scores[todo].clone()          # the oracle's answers at x_b
        stepped, stepped_scores = search.boundary(todo, moved, moved_scores)
        # Keep the closer point: a step whose binary search ran out of budget lies farther
        # out than x_b (the budget's last iteration ended at distance 1.0 from 0.66).
        closer = _distance(x0[todo], stepped, p.norm) <= d_b
        x_adv[todo] = torch.where(closer.view(-1, 1, 1, 1), stepped, x_b)
        scores[todo] = torch.where(closer.view(-1, 1), stepped_scores, at_boundary)
        dist[todo] = _distance(x0[todo], x_adv[todo], p.norm)
        success = found & (dist <= p.eps)
        yield event(t)
    # Success needs the point inside the ball; a failure returns its projection (not adversarial).
    threat = threat_for(p.norm, p.eps)
    projected = (x0 + threat.project_((x_adv - x0).clone())).clamp(0, 1)
    final = torch.where(success.view(-1, 1, 1, 1), x_adv, projected)
    return rec.result(final, success.cpu(), (p.eps - dist).clamp(-1e6, 1e6), cancelled, [], unstarted=(~found).cpu(),
                      step_needs=step_needs)
