"""Square Attack (Andriushchenko et al. 2020, "Square Attack: a query-efficient black-box
adversarial attack via random search"), L-inf and L2, on an oracle's probabilities.

Random search: each iteration changes one random square window of each image that is not
yet fooled, keeps the change if the margin objective (common.objective) rises, and stops
querying an image once it is fooled. The window's share of the image starts at ``p_init``
and halves on the paper's schedule (at 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 of
10,000 queries, rescaled to the budget).

- L-inf: start from vertical stripes of +-eps; a window becomes +-eps (one sign per channel).
- L2: start from a grid of "meta pseudo-Gaussian" blocks scaled to norm eps; an iteration
  moves the perturbation's mass from a second window into the first, reshaped as a fresh
  random block, keeping the norm at eps.

Written from the paper; the vectorised per-image windows are this project's own.
"""

from __future__ import annotations

import math
from typing import Generator

import torch

from visualizer.core.blackbox.common import begin, check_oracle, keep_better, objective, window_mask
from visualizer.core.blackbox.oracle import Oracle
from visualizer.core.blackbox.params import QueryAttackParams
from visualizer.core.blackbox.result import QueryAttackResult, QueryStep
from visualizer.core.cancel import CancelToken, is_cancelled

_SCHEDULE = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def square_share(p_init: float, iteration: int, budget: int) -> float:
    """The window's share of the image at ``iteration`` (the paper's halving schedule,
    defined for 10,000 queries, rescaled to ``budget``)."""
    at = int(iteration / budget * 10000)
    return p_init / 2 ** sum(at > mark for mark in _SCHEDULE)


def _signs(shape, gen: torch.Generator, device) -> torch.Tensor:
    return (torch.randint(0, 2, shape, generator=gen) * 2 - 1).float().to(device)


def pseudo_gaussian(rows: int, cols: int) -> torch.Tensor:
    """rows x cols block: a sum of centred rectangles of weight 1/(k+1)^2 (k the rectangle's
    half-size), so values fall off from the centre; unit L2 norm."""
    i = (torch.arange(rows) - (rows // 2)).abs().view(-1, 1)
    j = (torch.arange(cols) - (cols // 2)).abs().view(1, -1)
    ring = torch.maximum(i, j)                       # the first rectangle containing the cell
    rings = max(rows // 2 + 1, cols // 2 + 1)
    weights = 1.0 / (torch.arange(rings, dtype=torch.float32) + 1) ** 2
    tail = weights.flip(0).cumsum(0).flip(0)         # sum of weights of rectangles k >= ring
    block = tail[ring]
    return block / block.norm()


def meta_block(size: int) -> torch.Tensor:
    """size x size: a pseudo-Gaussian half on top of its negative (the paper's L2 update
    shape), unit norm."""
    top = size // 2
    block = torch.cat([pseudo_gaussian(top, size), -pseudo_gaussian(size - top, size)]) if top else \
        pseudo_gaussian(size, size)
    return block / block.norm()


def _blocks(n: int, size: int, gen: torch.Generator, device) -> torch.Tensor:
    """N x size x size meta blocks, each transposed or not at random."""
    block = meta_block(size)
    flip = torch.randint(0, 2, (n, 1, 1), generator=gen).bool()
    return torch.where(flip, block.t().unsqueeze(0), block.unsqueeze(0)).to(device)


def _place(blocks: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """N x 1 x H x W: each N x s x s block at its (row, col), zero elsewhere."""
    n, s = blocks.shape[0], blocks.shape[1]
    device = blocks.device
    rr = (torch.arange(height, device=device).view(1, -1) - rows.view(-1, 1)).clamp(0, s - 1)
    cc = (torch.arange(width, device=device).view(1, -1) - cols.view(-1, 1)).clamp(0, s - 1)
    full = blocks[torch.arange(n, device=device).view(-1, 1, 1), rr.unsqueeze(2), cc.unsqueeze(1)]
    return (full * window_mask(n, s, height, width, rows, cols, device).squeeze(1)).unsqueeze(1)


def _unit_l2(t: torch.Tensor) -> torch.Tensor:
    return t / t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)


def _init(x0: torch.Tensor, p: QueryAttackParams, gen: torch.Generator) -> torch.Tensor:
    n, c, h, w = x0.shape
    if p.norm == "linf":
        return (x0 + p.eps * _signs((n, c, 1, w), gen, x0.device)).clamp(0, 1)
    s = max(h // 5, 1)
    start_r, start_c = (h - 5 * s) // 2, (w - 5 * s) // 2
    delta = torch.zeros_like(x0)
    for r in range(start_r, h - s + 1, s):
        for col in range(start_c, w - s + 1, s):
            rows = torch.full((n,), r, device=x0.device)
            cols = torch.full((n,), col, device=x0.device)
            delta += _place(_blocks(n, s, gen, x0.device), rows, cols, h, w) * _signs((n, c, 1, 1), gen, x0.device)
    return (x0 + _unit_l2(delta) * p.eps).clamp(0, 1)


def _candidate_linf(x0, x_best, share, eps, gen, todo, n):
    """Candidates for the images ``todo`` (x0, x_best already cut to them); the random draws
    are made for all ``n`` images, so each image's stream does not depend on the others.
    ``todo``: their indices, on the CPU."""
    m, c, h, w = x0.shape
    s = min(max(int(round(math.sqrt(share * h * w))), 1), h - 1)
    rows = torch.randint(0, h - s + 1, (n,), generator=gen)[todo].to(x0.device)
    cols = torch.randint(0, w - s + 1, (n,), generator=gen)[todo].to(x0.device)
    mask = window_mask(m, s, h, w, rows, cols, x0.device)
    signs = (torch.randint(0, 2, (n, c, 1, 1), generator=gen)[todo] * 2 - 1).float().to(x0.device)
    cand = torch.where(mask, (x0 + eps * signs).clamp(0, 1), x_best)
    # A window that already holds these values would waste the query: flip its signs (the
    # paper resamples until something changes).
    same = ((cand - x_best).abs().flatten(1).amax(1) < 1e-7).view(-1, 1, 1, 1)
    return torch.where(same & mask, (x0 - eps * signs).clamp(0, 1), cand)


def _candidate_l2(x0, x_best, share, eps, gen, todo, n):
    """As _candidate_linf, for L2."""
    m, c, h, w = x0.shape
    s = max(int(round(math.sqrt(share * h * w))), 3)
    s = min(s + (s % 2 == 0), h - 1)                 # odd, as the paper's blocks
    delta = x_best - x0
    pos = [torch.randint(0, h - s + 1, (n,), generator=gen)[todo].to(x0.device) for _ in range(4)]
    first = window_mask(m, s, h, w, pos[0], pos[1], x0.device)
    second = window_mask(m, s, h, w, pos[2], pos[3], x0.device)
    both = first | second
    image_norm2 = delta.flatten(1).pow(2).sum(1).view(-1, 1, 1, 1)
    in_first = (delta * first).pow(2).sum((2, 3), keepdim=True).sqrt()     # N x C x 1 x 1
    in_both2 = (delta * both).pow(2).sum((2, 3), keepdim=True)
    blocks = _blocks(n, s, gen, x0.device)[todo.to(x0.device)]
    signs = (torch.randint(0, 2, (n, c, 1, 1), generator=gen)[todo] * 2 - 1).float().to(x0.device)
    fresh = _place(blocks, pos[0], pos[1], h, w) * signs
    update = fresh + delta * first / (in_first + 1e-12)
    update = update / update.pow(2).sum((2, 3), keepdim=True).sqrt().clamp_min(1e-12)
    update = update * ((eps ** 2 - image_norm2).clamp_min(0) / c + in_both2).sqrt()
    moved = torch.where(first, update, torch.where(second, torch.zeros_like(delta), delta))
    return (x0 + _unit_l2(moved) * eps).clamp(0, 1)


def square_attack(oracle: Oracle, images: torch.Tensor, labels: torch.Tensor, params: QueryAttackParams,
                  targets: torch.Tensor | None = None, cancel: CancelToken | None = None,
                  report_images: bool = False) -> Generator[QueryStep, None, QueryAttackResult]:
    """Square Attack on ``images`` (N x C x H x W, [0, 1] pixels) through ``oracle`` (needs
    scores). A generator: one QueryStep per query batch, then the QueryAttackResult.
    ``params.queries`` is each image's budget, its clean query included. Raises
    ParameterError for a label-only oracle. Cancel stops before the next batch."""
    p = params.resolved()
    check_oracle(oracle, p)
    run = begin(oracle, images, labels, targets, p)
    if run.scores is None:
        return run.nothing()
    x0, labels, targets, gen, ledger, rec, everyone, scores = (
        run.x0, run.labels, run.targets, run.gen, run.ledger, run.rec, run.everyone, run.scores)
    n = x0.shape[0]
    best_obj = objective(scores, labels, targets)
    success = best_obj > 0
    x_best = x0.clone()
    best_scores = scores
    # The start (stripes / blocks) is taken as it is, as in the paper.
    start = _init(x0, p, gen)
    todo = everyone[~success]
    if todo.numel() and (got := ledger.ask(start[todo], todo)) is not None:
        x_best[todo], best_scores[todo] = start[todo], got
        best_obj[todo] = objective(got, labels[todo], targets[todo] if targets is not None else None)
        success = best_obj > 0
    yield rec.step(0, best_obj, best_scores, success, x_best if report_images else None)
    candidate = _candidate_linf if p.norm == "linf" else _candidate_l2
    cancelled, iteration = False, 0
    while not ledger.exhausted:
        todo = everyone[~success & (ledger.remaining() > 0)]
        if not todo.numel():
            break
        if is_cancelled(cancel):
            cancelled = True
            break
        share = square_share(p.p_init, iteration, p.queries)
        iteration += 1
        cand = candidate(x0[todo], x_best[todo], share, p.eps, gen, todo.cpu(), n)
        got = ledger.ask(cand, todo)
        if got is None:
            break
        keep_better(run, todo, cand, got, x_best, best_scores, best_obj)
        success = best_obj > 0
        yield rec.step(iteration, best_obj, best_scores, success, x_best if report_images else None)
    return rec.result(x_best, success.cpu(), best_obj, cancelled, [])
