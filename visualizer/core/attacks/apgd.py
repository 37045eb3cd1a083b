"""APGD, the step-size-free PGD of Croce & Hein (ICML 2020, "Reliable evaluation of
adversarial robustness with an ensemble of diverse parameter-free attacks", Algorithm 1),
with the cross-entropy loss (APGD-CE) or the targeted DLR loss (APGD-T), on the project's
threat step objects (``threat.py``), so it reports every step and honours cancel like PGD.

Per example: start at a random point on the surface of the eps ball; step size 2 eps; each step moves
``momentum`` of the way to the projected gradient step plus the rest of the previous move.
At checkpoints (after 22% of the budget, then at intervals shrinking by 3% of it down to 6%)
the step size halves and the iterate jumps back to the best point so far when fewer than
``rho`` of the steps since the last checkpoint raised the loss (the authors' code: at most),
or when the step size was
not cut last time and the best loss has not moved since. Examples are dropped from the batch
as soon as they are misclassified (nothing is left to find there), and later restarts or
targets run only on the examples no earlier one broke, as the authors' ensemble does.

Pixels are in [0, 1]; eps in those units (L-inf: per pixel; L2: whole C x H x W perturbation).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable, Generator

import torch
import torch.nn.functional as F

from visualizer.core.attacks.params import NORMS
from visualizer.core.attacks.result import AttackStep
from visualizer.core.attacks.threat import GRAD_NORM_FLOOR, threat_for
from visualizer.core.cancel import CancelToken, is_cancelled
from visualizer.core.errors import ParameterError, VisualizerError

LOSSES = ("ce", "dlr-targeted")
TOP_K = 5
# The checkpoint schedule of the paper: first after 22% of the steps, then intervals
# shrinking by 3% of the steps per checkpoint, never below 6%.
FIRST_INTERVAL, INTERVAL_DECREASE, MIN_INTERVAL = 0.22, 0.03, 0.06


@dataclass(frozen=True)
class APGDParams:
    """One APGD attack. ``restarts``: independent random starts (CE loss); ``target_classes``:
    for the targeted DLR loss, one run towards each of the k classes the model ranks highest
    after its prediction on the clean input (9 in AutoAttack's standard version)."""

    norm: str = "linf"
    eps: float = 8 / 255
    steps: int = 100
    loss: str = "ce"
    restarts: int = 1
    target_classes: int = 9
    rho: float = 0.75
    momentum: float = 0.75
    seed: int = 0

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise ParameterError(f"Unknown norm {self.norm!r}; choose linf or l2.")
        if self.loss not in LOSSES:
            raise ParameterError(f"Unknown APGD loss {self.loss!r}; choose {' or '.join(LOSSES)}.")
        if not self.eps > 0 or (self.norm == "linf" and self.eps > 1):
            raise ParameterError(f"Epsilon must be positive (and at most 1 for L-inf), got {self.eps}.")
        for name in ("steps", "restarts", "target_classes"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ParameterError(f"APGD {name} must be a whole number of at least 1, got {value}.")
        if not 0 < self.rho < 1 or not 0 < self.momentum <= 1:
            raise ParameterError("APGD rho must be in (0, 1) and momentum in (0, 1].")

    @property
    def name(self) -> str:
        return "apgd-ce" if self.loss == "ce" else "apgd-t"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class APGDResult:
    """``adversarial`` (N x C x H x W): the first misclassified iterate where the attack
    succeeded, else the highest-loss point found. ``queries``: forward passes spent on each
    example, the clean one included. ``zero_gradient``: examples whose input gradient was
    zero or not finite at some step (a sign of gradient masking)."""

    params: APGDParams
    adversarial: torch.Tensor
    success: torch.Tensor
    loss: torch.Tensor
    queries: torch.Tensor
    zero_gradient: torch.Tensor
    runs: int
    iterates: int
    cancelled: bool
    wall_time_s: float
    warnings: list[str]


def dlr_targeted(logits: torch.Tensor, labels: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Targeted difference-of-logits-ratio loss (Croce & Hein 2020, eq. 7), per example:
    -(z_y - z_t) / (z_1 - (z_3 + z_4) / 2), with z_i the i-th largest logit. Needs >= 4 classes."""
    top = logits.topk(4, dim=1).values
    z_y = logits.gather(1, labels.view(-1, 1)).squeeze(1)
    z_t = logits.gather(1, targets.view(-1, 1)).squeeze(1)
    return -(z_y - z_t) / (top[:, 0] - (top[:, 2] + top[:, 3]) / 2 + 1e-12)


def _objective(logits, labels, targets, loss: str) -> torch.Tensor:
    if loss == "ce":
        return F.cross_entropy(logits, labels, reduction="none")
    return dlr_targeted(logits, labels, targets)


def _boundary_start(threat, like: torch.Tensor, gen: torch.Generator, eps: float) -> torch.Tensor:
    """A random point on the surface of the eps ball, as the authors' code starts: the
    threat's random start (a random direction) stretched to norm eps."""
    delta = threat.random_start(like, gen)
    size = threat.norm(delta).clamp_min(GRAD_NORM_FLOOR)
    return delta.mul_((eps / size).view(-1, *([1] * (like.dim() - 1))))


def _schedule(steps: int) -> tuple[int, int, int]:
    return (max(int(FIRST_INTERVAL * steps), 1), max(int(INTERVAL_DECREASE * steps), 1),
            max(int(MIN_INTERVAL * steps), 1))


def _run_targets(params: APGDParams, clean_logits: torch.Tensor) -> list[torch.Tensor | None]:
    """One entry per run: None (CE restarts) or the target class of every example."""
    if params.loss == "ce":
        return [None] * params.restarts
    classes = clean_logits.shape[1]
    if classes < 4:
        raise ParameterError(f"The targeted DLR loss needs at least 4 classes; this model has {classes}.")
    ranked = clean_logits.argsort(dim=1, descending=True)
    return [ranked[:, k] for k in range(1, min(params.target_classes, classes - 1) + 1)]


def apgd_steps(model: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, labels: torch.Tensor,
               params: APGDParams, cancel: CancelToken | None = None) -> Generator[AttackStep, None, APGDResult]:
    """Attack ``images`` (N x C x H x W in [0, 1]) with true ``labels`` (N). Yields an
    ``AttackStep`` per evaluated iterate (``restart`` numbers the run: restart or target;
    its tensors cover all N examples, holding the last value of examples already finished)
    and returns an ``APGDResult``. Cancellation is checked between steps."""
    started = time.perf_counter()
    p = params
    threat = threat_for(p.norm, p.eps)
    x0 = images.detach()
    n = x0.shape[0]
    labels = labels.to(x0.device)
    gen = torch.Generator(device="cpu").manual_seed(int(p.seed))
    with torch.no_grad():
        clean_logits = model(x0).detach()
    if clean_logits.dim() != 2 or clean_logits.shape[0] != n:
        raise VisualizerError(f"The model returned shape {tuple(clean_logits.shape)}; expected ({n}, classes).")
    plan = _run_targets(p, clean_logits)
    success = clean_logits.argmax(dim=1) != labels
    best_adv = x0.clone()
    best_loss = torch.full((n,), -float("inf"), device=x0.device)
    queries = torch.ones(n, dtype=torch.long, device=x0.device)
    zero_grad = torch.zeros(n, dtype=torch.bool, device=x0.device)
    # What progress events show for every example: the latest value, kept when it leaves the batch.
    shown_loss = torch.full((n,), float("nan"), device=x0.device)
    shown_probs = clean_logits.float().softmax(dim=1)
    total = len(plan) * (p.steps + 1)
    done = 0
    cancelled = False
    runs = 0

    def evaluate(x, y, t):
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            logits = model(x)
            objective = _objective(logits, y, t, p.loss)
            grad = torch.autograd.grad(objective.sum(), x)[0]
        largest = torch.linalg.vector_norm(grad.flatten(1), ord=float("inf"), dim=1)
        return logits.detach(), objective.detach(), grad.nan_to_num_(0.0, 0.0, 0.0), ~(largest > 0) | ~largest.isfinite()

    for run, run_targets in enumerate(plan):
        idx = (~success).nonzero().flatten()
        if idx.numel() == 0 or cancelled:
            break
        runs += 1
        xa, y = x0[idx], labels[idx]
        t = run_targets[idx] if run_targets is not None else None
        x = (xa + _boundary_start(threat, xa, gen, p.eps)).clamp_(0, 1)
        logits, f_cur, grad, flat = evaluate(x, y, t)
        queries[idx] += 1
        zero_grad[idx] |= flat
        x_prev, x_max, g_max, f_max = x, x.clone(), grad.clone(), f_cur.clone()
        eta = torch.full((idx.numel(), 1, 1, 1), 2.0 * p.eps, device=x0.device, dtype=x0.dtype)
        increases = torch.zeros_like(f_cur)
        reduced_last = torch.ones_like(f_cur, dtype=torch.bool)
        f_max_last = f_max.clone()
        interval, decrease, min_interval = _schedule(p.steps)
        since = 0
        for step in range(p.steps + 1):
            if step > 0:
                # Projected gradient step, then the momentum mix of it and the previous move.
                z = threat.project_(threat.step(x, grad, eta).sub_(xa)).add_(xa).clamp_(0, 1)
                if step > 1:
                    z = x + p.momentum * (z - x) + (1 - p.momentum) * (x - x_prev)
                    z = threat.project_(z.sub_(xa)).add_(xa).clamp_(0, 1)
                x_prev, x = x, z
                logits, f_new, grad, flat = evaluate(x, y, t)
                queries[idx] += 1
                zero_grad[idx] |= flat
                increases += (f_new > f_cur).to(increases.dtype)
                f_cur = f_new
                better = f_cur > f_max
                x_max[better], g_max[better], f_max[better] = x[better], grad[better], f_cur[better]
            fooled = logits.argmax(dim=1) != y
            done += 1
            shown_loss[idx] = f_cur
            shown_probs[idx] = logits.float().softmax(dim=1)
            if bool(fooled.any()):
                hit = idx[fooled]
                success[hit] = True
                best_adv[hit] = x[fooled]
                best_loss[hit] = f_cur[fooled]
            yield _event(run, step, done, total, shown_loss, shown_probs, labels, plan[run], success)
            if step == p.steps:
                break
            if is_cancelled(cancel):
                cancelled = True
                break
            if step > 0:
                since += 1
                if since == interval:
                    reduce = (increases <= p.rho * interval) | (~reduced_last & (f_max_last >= f_max))
                    eta[reduce] /= 2
                    x[reduce], grad[reduce], f_cur[reduce] = x_max[reduce], g_max[reduce], f_max[reduce]
                    reduced_last, f_max_last = reduce, f_max.clone()
                    increases.zero_()
                    since, interval = 0, max(interval - decrease, min_interval)
            keep = ~fooled
            if not bool(keep.all()):   # misclassified examples leave the batch
                if not bool(keep.any()):
                    break
                idx, xa, y, x, x_prev, grad, x_max, g_max = (v[keep] for v in (idx, xa, y, x, x_prev, grad, x_max, g_max))
                f_cur, f_max, f_max_last, eta, increases, reduced_last = (
                    v[keep] for v in (f_cur, f_max, f_max_last, eta, increases, reduced_last))
                t = t[keep] if t is not None else None
        # Examples this run did not break: keep its best point if it beats earlier runs'.
        still = ~success[idx]
        if bool(still.any()):
            rows = idx[still]
            gain = f_max[still] > best_loss[rows]
            best_adv[rows[gain]] = x_max[still][gain]
            best_loss[rows[gain]] = f_max[still][gain]

    warnings = []
    if bool(zero_grad.any()):
        warnings.append(f"The input gradient was zero or not finite for {int(zero_grad.sum())} of {n} example(s) "
                        "at some APGD step (gradient masking?): a failed attack there does not prove robustness.")
    return APGDResult(params=p, adversarial=best_adv, success=success, loss=best_loss, queries=queries,
                      zero_gradient=zero_grad, runs=runs, iterates=done, cancelled=cancelled,
                      wall_time_s=time.perf_counter() - started, warnings=warnings)


def _event(run, step, done, total, loss, probs, labels, targets, success) -> AttackStep:
    k = min(TOP_K, probs.shape[1])
    top = probs.topk(k, dim=1)
    ref = probs.gather(1, labels.view(-1, 1)).squeeze(1)
    tgt = probs.gather(1, targets.view(-1, 1)).squeeze(1) if targets is not None else None
    return AttackStep(run, step, done, total, loss.clone(), ref, tgt, top.values, top.indices, success.clone())


def run_apgd(model, images, labels, params: APGDParams, cancel: CancelToken | None = None,
             on_step: Callable[[AttackStep], None] | None = None) -> APGDResult:
    from visualizer.core.attacks.loop import drive

    return drive(apgd_steps(model, images, labels, params, cancel), on_step)
