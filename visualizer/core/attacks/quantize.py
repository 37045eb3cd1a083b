"""The adversarial example a file can hold: the attack's result moved onto the 8-bit grid
*inside* its threat model, re-scored, with gradient-guided rounding where plain rounding
loses the success.

The clean model input lies on the grid (``model_input.preprocess``), so an 8-bit adversarial
image is ``clean + d / 255`` with whole numbers ``d``. Each value may round down or up from
the float result (``lo = floor``, ``hi = ceil`` of its offset in levels), within [0, 1] and:

- L-inf: ``|d| <= floor(255 eps)`` everywhere (for eps below 1/255 only ``d = 0`` fits);
- L2: ``||d||_2 <= 255 eps`` (for eps below 1/255 only ``d = 0`` fits).

First every value rounds to the nearest level inside the budget (for L2, the values whose
rounding costs the least distance per unit of norm saved are rounded towards zero until the
whole perturbation fits). If the float attack succeeded and that image does not, a few greedy
passes flip values between round-down and round-up in the direction the loss gradient prefers
(a first-order step on the grid, halved when it does not raise the loss), staying inside the
budget (for L2, the flips with the best gain per unit of squared norm first). Each pass is one
forward and backward pass of the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from visualizer.core.attacks.loop import attack_objective
from visualizer.core.model_input import LEVELS      # values are k / LEVELS, k = 0..255

GRADIENT_PASSES = 8      # model evaluations the gradient-guided rounding may spend per example


@dataclass
class QuantizedAdversarial:
    """Per example (lists of length N): the 8-bit adversarial image and how it was rounded."""

    adversarial: torch.Tensor      # N x C x H x W, values k / 255, inside the budget
    success: torch.Tensor          # N bool, judged on ``adversarial``
    rounding: list[str]            # "nearest" or "gradient-guided"
    passes: list[int]              # gradient-guided passes spent (0: nearest rounding kept)
    changed: list[int]             # values that differ from the clean input
    notes: list[str | None]        # what the user should know about the rounding, if anything

    def record(self, i: int = 0) -> dict:
        return {"rounding": self.rounding[i], "passes": self.passes[i], "changed_values": self.changed[i],
                "note": self.notes[i]}


def linf_levels(eps: float) -> int:
    """The largest whole number of 8-bit levels k with k / 255 <= eps."""
    k = max(0, math.floor(eps * LEVELS))
    while (k + 1) / LEVELS <= eps:
        k += 1
    while k > 0 and k / LEVELS > eps:
        k -= 1
    return k


def within_budget(levels: torch.Tensor, norm: str, eps: float) -> bool:
    """Whether a perturbation of whole 8-bit levels (any shape) is inside the eps ball,
    computed as a reader of the saved files would: max |d| / 255 <= eps, or ||d||_2 / 255 <= eps."""
    d = levels.detach().double().flatten()
    if d.numel() == 0:
        return True
    if norm == "linf":
        return float(d.abs().max()) / LEVELS <= eps
    return math.sqrt(float((d * d).sum())) / LEVELS <= eps


def quantize_adversarial(model: Callable[[torch.Tensor], torch.Tensor], clean: torch.Tensor,
                         adversarial: torch.Tensor, labels: torch.Tensor, norm: str, eps: float,
                         targets: torch.Tensor | None = None, float_success: torch.Tensor | None = None,
                         passes: int = GRADIENT_PASSES) -> QuantizedAdversarial:
    """Put ``adversarial`` (N x C x H x W in [0, 1], within ``eps`` of ``clean`` in ``norm``)
    onto the 8-bit grid of ``clean`` (which must lie on it) inside the same ball.

    ``labels`` are the reference classes; with ``targets`` the attack is targeted. Gradient-
    guided rounding runs only for examples whose float result succeeded (``float_success``,
    default: all) and whose nearest rounding does not.
    """
    n = clean.shape[0]
    out = QuantizedAdversarial(torch.empty_like(clean), torch.zeros(n, dtype=torch.bool, device=clean.device),
                               [], [], [], [])
    for i in range(n):
        target = targets[i:i + 1] if targets is not None else None
        score = _scorer(model, labels[i:i + 1], target)
        wanted = True if float_success is None else bool(float_success[i])
        q, ok, rounding, spent, note = _quantize_one(score, clean[i:i + 1], adversarial[i:i + 1], norm, eps,
                                                     wanted, passes)
        out.adversarial[i:i + 1] = q
        out.success[i] = ok
        out.rounding.append(rounding)
        out.passes.append(spent)
        out.changed.append(int((q != clean[i:i + 1]).sum()))
        out.notes.append(note)
    return out


def _scorer(model, labels, targets):
    """x -> (objective, success, input gradient or None), the attack's own objective."""
    def score(x: torch.Tensor, need_grad: bool):
        x = x.detach().requires_grad_(need_grad)
        with torch.enable_grad() if need_grad else torch.no_grad():
            logits = model(x)
            objective = attack_objective(logits, labels, targets)
            grad = torch.autograd.grad(objective.sum(), x)[0] if need_grad else None
        pred = logits.detach().argmax(dim=1)
        success = pred == targets if targets is not None else pred != labels
        return float(objective.detach()[0]), bool(success[0]), grad
    return score


def _quantize_one(score, clean, adversarial, norm, eps, wanted, passes):
    base = torch.round(clean * LEVELS)                              # the clean image's levels
    offset = (adversarial * LEVELS - base).clamp(-base, LEVELS - base)
    lo, hi = torch.floor(offset), torch.ceil(offset)
    if norm == "linf":
        k = linf_levels(eps)
        lo.clamp_(-k, k)
        hi.clamp_(-k, k)
    d = torch.round(offset).clamp(lo, hi)
    if norm == "l2":
        d = _into_l2_ball(d, offset, eps)

    def image(levels):
        return (base + levels) / LEVELS

    _, success, _ = score(image(d), False)
    note = None
    if not within_budget(torch.ones(1), norm, eps):
        size = f"eps = {eps * LEVELS:.3g}/255 is below" if norm == "linf" else f"eps = {eps:.3g} is below"
        note = (f"{size} one 8-bit level (1/255): no 8-bit image other than the clean input fits the "
                "budget, so the saved adversarial image equals the clean input.")
    if success or not wanted or note is not None or passes <= 0:
        return image(d), success, "nearest", 0, note

    d, success, spent = _gradient_rounding(score, image, d, lo, hi, norm, eps, passes)
    if success:
        note = (f"Rounding to the nearest 8-bit levels lost the attack's success; rounding each value up or down "
                f"as the loss gradient prefers ({spent} passes) kept it adversarial inside the budget.")
    else:
        note = (f"The float result is adversarial, but no 8-bit image found inside the budget is: nearest "
                f"rounding and {spent} passes of gradient-guided rounding all fail. The saved image is the "
                "closest attempt; more steps or a larger eps may leave room for rounding.")
    return image(d), success, "gradient-guided", spent, note


def _into_l2_ball(d: torch.Tensor, offset: torch.Tensor, eps: float) -> torch.Tensor:
    """Round values towards zero, cheapest first, until ||d||_2 <= 255 eps."""
    radius2 = (eps * LEVELS) ** 2
    excess = float((d * d).sum()) - radius2
    if excess > 0:
        toward_zero = torch.trunc(offset)
        movable = (d != toward_zero).flatten()
        saved = (d * d - toward_zero * toward_zero).flatten()[movable]
        cost = ((toward_zero - offset).abs() - (d - offset).abs()).flatten()[movable]
        order = torch.argsort(cost / saved)
        enough = int(torch.searchsorted(torch.cumsum(saved[order].double(), 0), excess))
        chosen = movable.nonzero().flatten()[order[:enough + 1]]
        d = d.flatten().clone()
        d[chosen] = toward_zero.flatten()[chosen]
        d = d.view_as(offset)
    return _enforce_l2(d, eps)


def _enforce_l2(d: torch.Tensor, eps: float) -> torch.Tensor:
    """Against float rounding at the boundary: step the largest values towards zero until the
    budget holds exactly as ``within_budget`` tests it."""
    while not within_budget(d, "l2", eps):
        flat = d.flatten().clone()
        i = int(flat.abs().argmax())
        flat[i] -= torch.sign(flat[i])
        d = flat.view_as(d)
    return d


def _gradient_rounding(score, image, d, lo, hi, norm, eps, passes):
    """Greedy passes over the round-down / round-up choice of each value (see module doc).
    Returns (levels, success, passes spent)."""
    best_objective, success, grad = score(image(d), True)
    spent, fraction = 1, 1.0
    while spent < passes and not success:
        flips, gain = _flips(d, lo, hi, grad, norm, eps)
        count = int(flips.sum())
        take = math.ceil(count * fraction)
        if take == 0:
            break
        if take < count:   # only the flips with the largest gradient
            keep = torch.zeros_like(flips).flatten()
            keep[torch.topk(torch.where(flips, gain, -1.0).flatten(), take).indices] = True
            flips &= keep.view_as(flips)
        trial = torch.where(flips, torch.where(d == lo, hi, lo), d)
        if norm == "l2":
            trial = _enforce_l2(trial, eps)   # a no-op but at the float boundary of the ball
        objective, trial_success, trial_grad = score(image(trial), True)
        spent += 1
        if trial_success or objective > best_objective:
            d, best_objective, success, grad = trial, objective, trial_success, trial_grad
        else:
            fraction /= 2          # first order overshot: try the strongest half
    return d, success, spent


def _flips(d, lo, hi, grad, norm, eps):
    """Values whose other rounding the gradient prefers, as a mask, and their first-order gain;
    for L2 only those that fit the remaining budget (free ones first, then by gain per unit of
    squared norm)."""
    up = (d == lo) & (hi > lo) & (grad > 0)
    down = (d == hi) & (hi > lo) & (grad < 0)
    flips = up | down
    gain = grad.abs()
    if norm != "l2" or not bool(flips.any()):
        return flips, gain
    new = torch.where(up, hi, lo)
    cost = torch.where(flips, new * new - d * d, torch.zeros_like(d))
    free = flips & (cost <= 0)
    # Room left now, not counting what the free flips give back: any subset of the chosen
    # flips then fits too (the caller may keep only the strongest).
    slack = (eps * LEVELS) ** 2 - float((d * d).sum())
    paid = (flips & (cost > 0)).flatten()
    idx = paid.nonzero().flatten()
    order = torch.argsort(-(gain.flatten()[idx] / cost.flatten()[idx]))
    fits = torch.cumsum(cost.flatten()[idx][order].double(), 0) <= slack
    chosen = free.flatten().clone()
    chosen[idx[order][fits]] = True
    return chosen.view_as(flips), gain
