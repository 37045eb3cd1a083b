"""The one gradient-attack loop: FGSM and PGD (L-inf, L2), targeted or not, restarts,
best-iterate tracking, early stop, progress events and cancellation.

``attack_steps`` is a generator: it yields an ``AttackStep`` after every evaluated iterate
and returns the ``AttackResult`` (``StopIteration.value``). ``run_attack`` drives it to the
end. Cancellation is checked between steps; a cancelled attack returns the best iterate
evaluated so far, marked ``cancelled``.

``perturb`` is the lean path of the same loop for adversarial training: the same start,
steps, projection and clipping (shared below), without scoring each iterate, events or
the final scoring pass; it returns the last iterate.
"""

from __future__ import annotations

import time
from typing import Callable, Generator

import torch
import torch.nn.functional as F

from visualizer.core.attacks.params import AttackParams
from visualizer.core.attacks.result import AttackResult, AttackStep
from visualizer.core.attacks.threat import threat_for
from visualizer.core.attacks.transferability import Momentum, diverse_inputs, margin_objective
from visualizer.core.cancel import CancelToken, is_cancelled
from visualizer.core.errors import VisualizerError

TOP_K = 5


def _check_logits(logits: torch.Tensor, batch: int) -> None:
    if logits.dim() != 2 or logits.shape[0] != batch:
        raise VisualizerError(
            f"The model returned a tensor of shape {tuple(logits.shape)}; a classifier must return "
            f"logits of shape (batch, classes) = ({batch}, C)."
        )


def attack_objective(logits: torch.Tensor, labels: torch.Tensor, targets: torch.Tensor | None) -> torch.Tensor:
    """What the attack maximises, per example: cross-entropy of the reference class, or with
    ``targets`` (a targeted attack) minus the cross-entropy of the target class."""
    if targets is not None:
        return -F.cross_entropy(logits, targets, reduction="none")
    return F.cross_entropy(logits, labels, reduction="none")


def _objective(p: AttackParams, logits: torch.Tensor, labels: torch.Tensor, targets: torch.Tensor | None):
    if p.loss == "margin":
        return margin_objective(logits, labels, targets, p.kappa)
    return attack_objective(logits, labels, targets)


def _evaluate(model, x_adv: torch.Tensor, labels: torch.Tensor, targets: torch.Tensor | None, p: AttackParams,
              need_grad: bool, diversity_gen: torch.Generator | None = None):
    """(logits, per-example objective, input gradient or None) at ``x_adv``. The objective
    is what the attack maximises (``p.loss``): the reference class's cross-entropy, or minus
    the target's; or the capped logit margin. With input diversity the gradient is taken
    through a random resize-and-pad (one more forward pass); logits and objective are the
    untransformed image's."""
    targets = targets if p.targeted else None
    x = x_adv.detach().requires_grad_(need_grad)
    diverse = need_grad and p.diversity > 0
    with torch.enable_grad() if need_grad else torch.no_grad():
        logits = model(diverse_inputs(x, p.diversity, diversity_gen) if diverse else x)
        _check_logits(logits, x.shape[0])
        objective = _objective(p, logits, labels, targets)
        grad = torch.autograd.grad(objective.sum(), x)[0] if need_grad else None
    if diverse:
        with torch.no_grad():
            logits = model(x_adv)
            objective = _objective(p, logits, labels, targets)
    return logits.detach(), objective.detach(), grad


def _start(threat, x0: torch.Tensor, random_start: bool, gen: torch.Generator) -> torch.Tensor:
    if random_start:
        delta = threat.project_(threat.random_start(x0, gen))
        return (x0 + delta).clamp(0, 1)
    return x0.clone()


def _advance(threat, x_adv: torch.Tensor, x0: torch.Tensor, grad: torch.Tensor, step_size: float,
             finite: bool = False) -> torch.Tensor:
    """One ascent step from ``x_adv`` (``grad`` is spent): step on the image, then project
    its offset and clip to valid pixels (the usual order of operations, so results match
    other PGD implementations bit for bit). step() returns a fresh tensor; the rest happens
    in it (see threat.py). NaN and infinite gradient entries count as zero unless the caller
    has checked that there are none (``finite``), which saves an image-sized pass."""
    if not finite:
        grad.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)
    delta = threat.project_(threat.step(x_adv, grad, step_size).sub_(x0))
    return delta.add_(x0).clamp_(0, 1)


def perturb(model: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, labels: torch.Tensor,
            params: AttackParams, targets: torch.Tensor | None = None) -> torch.Tensor:
    """The last iterate of ``params``' attack on ``images`` (N x C x H x W, [0, 1] pixels),
    computed as ``attack_steps`` computes it but unscored: k forward+backward passes for k
    steps and nothing else. Equal, bit for bit, to ``attack_steps``' result with
    ``best_iterate=False`` (adversarial training uses the last iterate, Madry et al. 2018).
    Restarts and early stopping need scores, so they are refused here."""
    p = params.resolved()
    if p.restarts != 1 or p.early_stop:
        raise VisualizerError("The unscored attack path runs one restart without early stopping.")
    if p.targeted and targets is None:
        raise VisualizerError("A targeted attack needs target classes.")
    threat = threat_for(p.norm, p.eps)
    x0 = images.detach()
    gen = torch.Generator(device="cpu").manual_seed(int(p.seed))
    x_adv = _start(threat, x0, p.random_start, gen)
    momentum, diversity_gen = Momentum(p.momentum), _diversity_generator(p)
    for _ in range(p.steps):
        _, _, grad = _evaluate(model, x_adv, labels, targets, p, need_grad=True, diversity_gen=diversity_gen)
        x_adv = _advance(threat, x_adv, x0, momentum.update(grad), p.step_size)
    return x_adv


def _diversity_generator(p: AttackParams) -> torch.Generator | None:
    """Input diversity's own random stream (the random starts' stream stays as without it)."""
    return torch.Generator(device="cpu").manual_seed(int(p.seed) + 1) if p.diversity > 0 else None


def attack_steps(
    model: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    labels: torch.Tensor,
    params: AttackParams,
    targets: torch.Tensor | None = None,
    cancel: CancelToken | None = None,
    report_images: bool = False,
) -> Generator[AttackStep, None, AttackResult]:
    started = time.perf_counter()
    p = params.resolved()
    if p.targeted and targets is None:
        raise VisualizerError("A targeted attack needs target classes.")
    threat = threat_for(p.norm, p.eps)
    x0 = images.detach()
    n = x0.shape[0]
    labels = labels.to(x0.device)
    targets = targets.to(x0.device) if targets is not None else None
    gen = torch.Generator(device="cpu").manual_seed(int(p.seed))

    best_adv = x0.clone()
    best_loss = torch.full((n,), -float("inf"), device=x0.device)
    best_success = torch.zeros(n, dtype=torch.bool, device=x0.device)
    hist_loss, hist_ref, hist_tgt = [], [], []
    zero_grad = torch.zeros(n, dtype=torch.bool, device=x0.device)
    bad_grad = torch.zeros(n, dtype=torch.bool, device=x0.device)
    total = p.restarts * (p.steps + 1)
    done = 0
    cancelled = False

    diversity_gen = _diversity_generator(p)
    for restart in range(p.restarts):
        x_adv = _start(threat, x0, p.random_start, gen)
        momentum = Momentum(p.momentum)
        last_adv = x_adv
        for step in range(p.steps + 1):
            is_last = step == p.steps
            logits, objective, grad = _evaluate(model, x_adv, labels, targets, p, need_grad=not is_last,
                                                diversity_gen=diversity_gen)
            probs = logits.softmax(dim=1)
            pred = probs.argmax(dim=1)
            success = pred == targets if p.targeted else pred != labels

            # Best iterate: success first, then the higher objective.
            better = (success & ~best_success) | ((success == best_success) & (objective > best_loss))
            if not p.best_iterate:
                better = torch.ones_like(better)
            if p.best_iterate:
                torch.where(better.view(-1, 1, 1, 1), x_adv, best_adv, out=best_adv)
            else:   # the last iterate wins; no step writes into an earlier iterate, so no copy
                best_adv = x_adv
            best_loss = torch.where(better, objective, best_loss)
            best_success = torch.where(better, success, best_success)

            ref_prob = probs.gather(1, labels.view(-1, 1)).squeeze(1)
            tgt_prob = probs.gather(1, targets.view(-1, 1)).squeeze(1) if targets is not None else None
            hist_loss.append(objective)
            hist_ref.append(ref_prob)
            if tgt_prob is not None:
                hist_tgt.append(tgt_prob)
            done += 1
            k = min(TOP_K, probs.shape[1])
            top = probs.topk(k, dim=1)
            yield AttackStep(restart, step, done, total, objective, ref_prob, tgt_prob, top.values, top.indices,
                             success, x_adv.detach().clone() if report_images else None)
            last_adv = x_adv
            if is_last:
                break
            if is_cancelled(cancel):
                cancelled = True
                break
            if p.early_stop and bool(best_success.all()):
                break

            # One reduction finds both NaN/inf (they propagate into the max) and all-zero
            # gradients; no host synchronisation, no image-sized temporary.
            largest = torch.linalg.vector_norm(grad.flatten(1), ord=float("inf"), dim=1)
            finite = torch.isfinite(largest)
            bad_grad |= ~finite
            # A margin capped at kappa has a zero gradient by design, not by masking.
            capped = objective >= p.kappa if p.kappa is not None else torch.zeros_like(zero_grad)
            zero_grad |= (largest == 0) & ~capped
            # On a CPU reading the flag back costs nothing and spares the NaN-cleaning pass
            # over the image; on an accelerator the sync would cost more than the pass.
            all_finite = x0.device.type == "cpu" and bool(finite.all())
            x_adv = _advance(threat, x_adv, x0, momentum.update(grad), p.step_size, finite=all_finite)
        if cancelled or (p.early_stop and bool(best_success.all())):
            break

    warnings = list(params.image_warnings(x0.shape))
    if bool(zero_grad.any()):
        idx = zero_grad.nonzero().flatten().tolist()
        warnings.append(
            f"The input gradient was exactly zero for image(s) {idx} at some step: the model may be "
            "non-differentiable or saturated (gradient masking). A failed attack there does not prove robustness."
        )
    if bool(bad_grad.any()):
        idx = bad_grad.nonzero().flatten().tolist()
        warnings.append(f"The input gradient was NaN or infinite for image(s) {idx}; those steps were treated as zero.")
    del last_adv
    return AttackResult(
        params=p,
        clean=x0,
        adversarial=best_adv.detach(),
        labels=labels,
        targets=targets,
        success=best_success,
        loss=best_loss,
        history_loss=torch.stack(hist_loss),
        history_ref_prob=torch.stack(hist_ref),
        history_target_prob=torch.stack(hist_tgt) if hist_tgt else None,
        cancelled=cancelled,
        iterates=done,
        wall_time_s=time.perf_counter() - started,
        warnings=warnings,
    )


def drive(generator: Generator, on_event: Callable | None = None):
    """Run a core generator to completion, passing each event to ``on_event``; return its result."""
    while True:
        try:
            event = next(generator)
        except StopIteration as stop:
            return stop.value
        if on_event is not None:
            on_event(event)


def mapped(generator: Generator, fn: Callable) -> Generator:
    """``generator`` with each event replaced by ``fn(event)``; returns its result. Closing
    this closes ``generator`` (on the caller's thread, as ``yield from`` would)."""
    try:
        while True:
            try:
                event = next(generator)
            except StopIteration as stop:
                return stop.value
            yield fn(event)
    finally:
        generator.close()


def run_attack(model, images, labels, params: AttackParams, targets=None, cancel=None,
               on_step: Callable[[AttackStep], None] | None = None, report_images: bool = False) -> AttackResult:
    return drive(attack_steps(model, images, labels, params, targets, cancel, report_images), on_step)
