"""One threat on one batch: its attacks run cheapest first, each only on the examples no
earlier attack (nor the clean prediction) broke, as AutoAttack runs its ensemble. After
every attack its output is scored again by one forward pass; an example counts as broken
when that pass misclassifies it, so every number rests on a prediction actually made.

Per example the kept point is the one that broke it, or, while it stands, the one with the
smallest logit margin any attack found (how close the threat came).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from typing import Generator

import numpy as np
import torch

from visualizer.core.attacks.apgd import apgd_steps
from visualizer.core.attacks.loop import attack_steps
from visualizer.core.attacks.spatial import spatial_sweep
from visualizer.core.cancel import CancelToken
from visualizer.core.evaluation.threats import QUERY_KINDS, QUERY_ORACLES, AttackSpec, Threat


@dataclass
class StageProgress:
    """Inside one attack of a threat: ``done`` of ``total`` steps (iterates, transforms or sub-attacks)."""

    attack: str
    done: int
    total: int


@dataclass
class StageOutcome:
    adversarial: torch.Tensor          # m x C x H x W
    queries: torch.Tensor | None       # m forward passes each, None when the attack does not say
    transform: torch.Tensor | None     # m x 3 (degrees, tx, ty) for spatial attacks
    warnings: list[str]
    cancelled: bool
    oracle_queries: torch.Tensor | None = None   # m oracle queries spent each (query attacks only)


@dataclass
class ThreatOutcome:
    """Per-example results of one threat on a batch of n (CPU tensors)."""

    success: torch.Tensor              # n bool: misclassified under the threat
    prediction: torch.Tensor           # n long
    margin: torch.Tensor               # n: true-class logit minus the largest other (negative: misclassified)
    confidence: torch.Tensor           # n: softmax probability of the prediction
    linf: torch.Tensor                 # n: perturbation norms of the kept point, [0, 1] pixel units
    l2: torch.Tensor
    queries: torch.Tensor              # n long forward passes; -1 where unknown (AutoAttack)
    queries_at_success: torch.Tensor   # n long oracle queries of the query attack that broke it; -1 otherwise
    attack: list[str]                  # n: what broke it ("clean", "pgd", ...), "" while it stands
    transform: torch.Tensor            # n x 3, NaN unless a spatial attack gave the kept point
    adversarial: torch.Tensor          # n x C x H x W kept points
    warnings: list[str]
    wall_time_s: float


def stage_seed(seed: int, batch: int, threat: Threat, stage: int) -> int:
    """A seed for one attack stage that depends on the batch, not on the process running
    it or on what ran before: resumed and distributed runs draw the same random numbers."""
    return int(np.random.SeedSequence([seed, batch, threat.seed_key(), stage]).generate_state(1)[0] & 0x7FFFFFFF)


def logit_margin(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    true = logits.gather(1, labels.view(-1, 1)).squeeze(1)
    others = logits.scatter(1, labels.view(-1, 1), -float("inf"))
    return true - others.amax(dim=1)


_INDEX_LIST = re.compile(r"image\(s\) \[[0-9, ]*\]")


def _relay(generator, name: str):
    """Forward an attack's own events as StageProgress; return its result."""
    while True:
        try:
            event = next(generator)
        except StopIteration as stop:
            return stop.value
        yield StageProgress(name, event.done, event.total)


def _run_stage(spec: AttackSpec, model, x, y, seed: int, cancel) -> Generator[StageProgress, None, StageOutcome]:
    m = x.shape[0]
    if spec.kind in ("fgsm", "pgd"):
        r = yield from _relay(attack_steps(model, x, y, spec.attack_params(seed), cancel=cancel), spec.kind)
        # Its warnings name images by their place in this sub-batch; say it without the list.
        warnings = [_INDEX_LIST.sub("some images", w) for w in r.warnings]
        return StageOutcome(r.adversarial, torch.full((m,), r.iterates, device=x.device), None, warnings, r.cancelled)
    if spec.kind in ("apgd-ce", "apgd-t"):
        r = yield from _relay(apgd_steps(model, x, y, spec.apgd_params(seed), cancel), spec.kind)
        return StageOutcome(r.adversarial, r.queries, None, r.warnings, r.cancelled)
    if spec.kind.startswith("spatial"):
        params = replace(spec.spatial, seed=seed)
        r = yield from _relay(spatial_sweep(model, x, y, params, cancel), spec.kind)
        per_image = r.evaluated // max(m, 1)
        return StageOutcome(r.worst_images, torch.full((m,), per_image, device=x.device), r.worst_transform,
                            [], r.cancelled)
    if spec.kind in QUERY_KINDS:   # the attack sees only an oracle over the model
        from visualizer.core.blackbox import Oracle
        from visualizer.core.blackbox.run import query_attack

        oracle = Oracle(model, QUERY_ORACLES[spec.kind])
        r = yield from _relay(query_attack(oracle, x, y, spec.query_params(seed), cancel=cancel), spec.kind)
        return StageOutcome(r.adversarial, r.queries.to(x.device), None, r.warnings, r.cancelled,
                            oracle_queries=r.queries.to(x.device))
    if spec.kind == "autoattack":
        from visualizer.core.evaluation.autoattack import autoattack_stages

        return (yield from autoattack_stages(model, x, y, spec.norm, spec.eps, seed, cancel))
    raise ValueError(f"no runner for {spec.kind}")


def _stages(threat: Threat) -> list[AttackSpec]:
    """PGD restarts become separate stages, so a restart only runs where earlier ones failed."""
    out = []
    for spec in threat.run_order:
        if spec.kind == "clean":
            continue
        out.extend([spec] * (spec.runs if spec.kind == "pgd" else 1))
    return out


def evaluate_threat(model, x: torch.Tensor, y: torch.Tensor, clean_logits: torch.Tensor, threat: Threat, seed: int,
                    batch: int, cancel: CancelToken | None = None
                    ) -> Generator[StageProgress, None, ThreatOutcome | None]:
    """``x`` (n x C x H x W, [0, 1]), ``y`` (n) on the model's device; ``clean_logits`` its
    clean outputs. Returns None when cancelled (the batch's partial work is dropped)."""
    started = time.perf_counter()
    n = x.shape[0]
    logits = clean_logits.detach().clone()
    margin = logit_margin(logits, y)
    broken = logits.argmax(dim=1) != y
    attack = ["clean" if b else "" for b in broken.tolist()]
    adversarial = x.detach().clone()
    queries = torch.ones(n, dtype=torch.long, device=x.device)
    at_success = torch.full((n,), -1, dtype=torch.long, device=x.device)
    transform = torch.full((n, 3), float("nan"), device=x.device)
    warnings: list[str] = []
    for stage, spec in enumerate(_stages(threat)):
        todo = (~broken).nonzero().flatten()
        if todo.numel() == 0:
            break
        out = yield from _run_stage(spec, model, x[todo], y[todo], stage_seed(seed, batch, threat, stage), cancel)
        if out.cancelled:
            return None
        warnings.extend(w for w in out.warnings if w not in warnings)
        with torch.no_grad():
            new_logits = model(out.adversarial).detach()
        new_margin = logit_margin(new_logits, y[todo])
        fooled = new_logits.argmax(dim=1) != y[todo]
        if out.queries is None:
            queries[todo] = -1
        else:
            queries[todo] = torch.where(queries[todo] < 0, queries[todo], queries[todo] + out.queries.to(queries) + 1)
        take = fooled | (new_margin < margin[todo])
        rows = todo[take]
        adversarial[rows] = out.adversarial[take]
        logits[rows] = new_logits[take]
        margin[rows] = new_margin[take]
        transform[rows] = out.transform[take].to(transform) if out.transform is not None else float("nan")
        broken[todo[fooled]] = True
        if out.oracle_queries is not None:
            at_success[todo[fooled]] = out.oracle_queries[fooled].to(at_success)
        for i in todo[fooled].tolist():
            attack[i] = spec.kind
    probs = logits.float().softmax(dim=1)
    prediction = logits.argmax(dim=1)
    delta = (adversarial - x).flatten(1)
    return ThreatOutcome(
        success=broken.cpu(), prediction=prediction.cpu(), margin=margin.float().cpu(),
        confidence=probs.gather(1, prediction.view(-1, 1)).squeeze(1).cpu(),
        linf=delta.abs().amax(dim=1).float().cpu(), l2=delta.norm(dim=1).float().cpu(), queries=queries.cpu(),
        queries_at_success=at_success.cpu(), attack=attack, transform=transform.cpu(), adversarial=adversarial.detach().cpu(), warnings=warnings,
        wall_time_s=time.perf_counter() - started)
