"""One query attack on one image, from loaded model + image to the same AttackRun the
gradient attacks give (core/runs.py), so the CLI writes the same files and figure.

The experimenter holds the model (to score the clean input and the result for the record,
as for a white-box run); the attack itself sees only an ``Oracle`` over it. The 8-bit image
written to disk is the result rounded to the nearest levels inside the budget: no
gradient-guided rounding, which would use the gradients the threat model hides. Where that
rounding loses the success, a few more oracle queries look for a rounded image that keeps it
(grid_finish.py), counted in the image's queries.
"""

from __future__ import annotations

from typing import Generator

import numpy as np
import torch

from visualizer.core.artifacts import Artifacts, attack_artifacts
from visualizer.core.attacks.quantize import quantize_adversarial
from visualizer.core.blackbox.grid_finish import keep_success_on_grid
from visualizer.core.blackbox.hopskipjump import hopskipjump_attack
from visualizer.core.blackbox.nes import nes_attack
from visualizer.core.blackbox.oracle import Oracle, parse_oracle_spec
from visualizer.core.blackbox.params import NEEDS_SCORES, QueryAttackParams, query_loss_name
from visualizer.core.blackbox.result import QueryAttackResult, QueryStep
from visualizer.core.blackbox.square import square_attack
from visualizer.core.cancel import CancelToken
from visualizer.core.errors import ParameterError
from visualizer.core.images import LoadedImage, preprocess
from visualizer.core.models.wrapper import ClassifierModel
from visualizer.core.runs import AttackRun, _attack_classes, class_probabilities

ATTACKS = {"square": square_attack, "nes": nes_attack, "hopskipjump": hopskipjump_attack}


def query_attack(oracle: Oracle, images: torch.Tensor, labels: torch.Tensor, params: QueryAttackParams,
                 targets: torch.Tensor | None = None, cancel: CancelToken | None = None,
                 report_images: bool = False) -> Generator[QueryStep, None, QueryAttackResult]:
    """The generator of ``params.method`` (square, nes or hopskipjump); see each module."""
    return ATTACKS[params.method](oracle, images, labels, params, targets, cancel, report_images)


def check_query_request(params: QueryAttackParams, oracle_spec: str) -> None:
    """Refuse a method the oracle cannot serve before anything runs."""
    if params.method in NEEDS_SCORES and not parse_oracle_spec(oracle_spec).scores:
        raise ParameterError(f"{params.method} needs scores; the label-only oracle gives none. "
                             "HopSkipJump (hopskipjump) works from labels alone.")


def query_attack_run(model: ClassifierModel, image: LoadedImage, params: QueryAttackParams, oracle: str = "probs",
                     defence: str | None = None, label: str | int | None = None, target: str | int | None = None,
                     cancel: CancelToken | None = None,
                     report_images: bool = False) -> Generator[QueryStep, None, AttackRun]:
    """Attack ``image`` through an oracle of kind ``oracle`` (probs | topk:K | rounded:D | label)
    over ``model``, with ``params.queries`` queries at most. Raises ParameterError for bad
    classes or an oracle the method cannot use."""
    check_query_request(params, oracle)
    x, geometry = preprocess(image, model.info.preprocessing)
    x = x.to(model.device)
    clean_probs = class_probabilities(model, x)
    reference, target_ref, class_warnings = _attack_classes(model, clean_probs, params, label, target)
    if target_ref is not None and not params.targeted:
        params = QueryAttackParams(**{**params.to_dict(), "targeted": True})
    labels = torch.tensor([reference.index], device=model.device)
    targets = torch.tensor([target_ref.index], device=model.device) if target_ref else None
    api = Oracle(model, oracle, budget=params.queries, defence=defence)
    result = yield from query_attack(api, x, labels, params, targets, cancel, report_images)
    result.warnings[:0] = class_warnings
    quantized = quantize_adversarial(model, x, result.adversarial, labels, params.norm, params.eps, targets,
                                     float_success=result.success, passes=0)
    if bool(result.success[0]) and not bool(quantized.success[0]):
        found, spent = keep_success_on_grid(api, model, x, result.adversarial, labels, targets, params.norm,
                                            params.eps)
        result.queries[0] += spent
        result.oracle = api.describe()
        if found is not None:
            quantized = found
    return AttackRun(
        model=model, image=image, geometry=geometry, reference=reference, target=target_ref,
        clean_probs=clean_probs[0], clean_probs_quantized=clean_probs[0],
        adversarial_quantized=quantized.adversarial, adv_probs=class_probabilities(model, result.adversarial)[0],
        adv_probs_quantized=class_probabilities(model, quantized.adversarial)[0], result=result,
        quantization=quantized)


def query_record(result: QueryAttackResult, i: int = 0) -> dict:
    """What result.json says about the queries of image ``i``."""
    spent = int(result.queries[i])
    return {**result.oracle, "method": result.params.method, "per_image_budget": result.params.queries,
            "spent": spent, "at_success": spent if bool(result.success[i]) else None,
            "budget_exhausted": result.budget_exhausted,
            "stop_reason": result.stop_reasons[i] if result.stop_reasons else None}


def query_attack_artifacts(run: AttackRun) -> Artifacts:
    """attack_artifacts plus the queries: ``record["queries"]``, ``history.queries`` (the x
    axis of the figure's progress panel) and loss_vs_queries.npy (2 x iterates: queries, loss).
    Behind a label-only oracle the history's probabilities are empty: none was shown."""
    art = attack_artifacts(run)
    r = run.result
    art.record["queries"] = query_record(r)
    spent = r.history_queries[:, 0].tolist()
    art.record["history"]["queries"] = [int(q) for q in spent]
    art.record["history"]["loss_name"] = query_loss_name(r.params.method)
    if not parse_oracle_spec(r.oracle["oracle"]).scores:
        # A label-only oracle showed no probabilities: its one-hot answers are no P(ref.) curve.
        art.record["history"]["reference_prob"] = []
        if art.record["history"].get("target_prob") is not None:
            art.record["history"]["target_prob"] = []
    art.arrays["loss_vs_queries"] = np.stack([np.asarray(spent, dtype=np.float32),
                                              r.history_loss[:, 0].detach().float().cpu().numpy()])
    return art
