"""Transfer over a data set: adversarial examples crafted white-box on one loaded model (the
source, or surrogate) and scored on every loaded model (the targets), Szegedy et al. 2013,
Papernot et al. 2016.

A ``transfer:ATTACK`` threat is expanded into one threat per source model (its id after an
``@``). Its cell for target = source is exactly the white-box result of ATTACK on that model
(same seeds as a plain ``ATTACK`` threat); the other cells score the source's kept points
(the breaking iterate, or the smallest-margin one where the attack failed; the clean image
where the source was already wrong) with one forward pass of the target. Models with
another input size or channel count see the source's crop brought to their input by the
8-bit pipeline of ``core.transfer.adapt_input``.

``transfer_matrices`` folds an evaluation record's results into matrices: rows sources,
columns targets, one per transfer attack.
"""

from __future__ import annotations

import time

import torch

from visualizer.core.errors import ParameterError
from visualizer.core.evaluation.ensemble import ThreatOutcome, logit_margin
from visualizer.core.evaluation.relations import wilson_interval
from visualizer.core.evaluation.threats import Threat


def expand_transfer(threats: list[Threat], model_ids: list[str]) -> list[Threat]:
    """Each transfer threat -> one per source model, in model order; others unchanged. The
    threats' ids name the source by its display name (``display_names``: no whole file
    path); ``source`` keeps the model id, as evaluation.json's models and results do."""
    from visualizer.core.evaluation.presentation import display_names

    names = dict(zip(model_ids, display_names(model_ids)))
    out = []
    for threat in threats:
        if not threat.is_transfer or threat.source is not None:
            out.append(threat)
            continue
        if len(model_ids) < 2:
            raise ParameterError(f"{threat.text}: a transfer threat needs at least two models (give two "
                                 "or more --model): the examples are crafted on each and scored on the others.")
        out += [Threat(threat.attacks, source=model_id, source_name=names[model_id]) for model_id in model_ids]
    return out


def white_box_threat(threat: Threat) -> Threat:
    """The attack a transfer threat runs on its source, as a plain threat (same seeds)."""
    return Threat(tuple(a.inner for a in threat.attacks))


def _to_target_input(adversarial: torch.Tensor, target) -> torch.Tensor:
    """Source model inputs (n x C x H x W) -> the target's input shape (unchanged when equal)."""
    from visualizer.core.transfer import adapt_input

    pre = target.info.preprocessing
    if tuple(adversarial.shape[1:]) == (pre.channels, pre.input_size, pre.input_size):
        return adversarial
    return torch.cat([adapt_input(a[None], pre) for a in adversarial])


@torch.no_grad()
def score_transfer(target, x: torch.Tensor, y: torch.Tensor, clean_logits: torch.Tensor,
                   adversarial: torch.Tensor) -> ThreatOutcome:
    """The target's outcome on the source's kept points. ``x``, ``y``, ``clean_logits``: the
    batch as the target reads it (n x C x H x W in [0, 1], n labels, n x K); ``adversarial``:
    the source's kept points (n x C' x H' x W', [0, 1]). An example counts as broken when the
    target misclassifies it clean ("clean") or transferred ("transfer"); two forward passes
    of the target per example (the clean one and this one)."""
    started = time.perf_counter()
    x_adv = _to_target_input(adversarial.to(x.device), target).to(x.device)
    clean_wrong = clean_logits.argmax(dim=1) != y
    logits = torch.where(clean_wrong[:, None], clean_logits, target(x_adv).detach().to(clean_logits.dtype))
    prediction = logits.argmax(dim=1)
    fooled = prediction != y
    attack = ["clean" if c else "transfer" if f else "" for c, f in zip(clean_wrong.tolist(), fooled.tolist())]
    kept = torch.where(clean_wrong[:, None, None, None], x, x_adv)
    probs = logits.float().softmax(dim=1)
    delta = (kept - x).flatten(1)
    n = x.shape[0]
    return ThreatOutcome(
        success=fooled.cpu(), prediction=prediction.cpu(), margin=logit_margin(logits, y).float().cpu(),
        confidence=probs.gather(1, prediction.view(-1, 1)).squeeze(1).cpu(),
        linf=delta.abs().amax(dim=1).float().cpu(), l2=delta.norm(dim=1).float().cpu(),
        queries=torch.full((n,), 2, dtype=torch.long), queries_at_success=torch.full((n,), -1, dtype=torch.long),
        attack=attack,
        transform=torch.full((n, 3), float("nan")), adversarial=kept.detach().cpu(), warnings=[],
        wall_time_s=time.perf_counter() - started)


def _cell(result: dict | None) -> dict | None:
    if result is None:
        return None
    n, correct = result["n"], result["correct"]
    clean_correct = n - result["broken_by"].get("clean", 0)
    broken = clean_correct - correct
    low, high = wilson_interval(broken, clean_correct)
    return {"accuracy": result["accuracy"], "ci95": result["ci95"], "correct": correct, "n": n,
            "success_rate": result["attack_success_rate"], "success_ci95": [low, high] if clean_correct else None,
            "broken": broken, "clean_correct": clean_correct}


def transfer_matrices(threats: list[dict], results: list[dict], model_ids: list[str]) -> list[dict]:
    """From evaluation.json's ``threats`` and ``results``: per transfer attack (e.g.
    ``transfer:pgd:linf:0.3:20:1``) a matrix ``cells[source][target]`` of accuracy and
    attack success rate (share of the target's clean-correct examples the transferred ones
    break), each with n and a 95% Wilson interval; the diagonal is white-box."""
    by_cell = {(r["model"], r["threat"]): r for r in results}
    out: dict[str, dict] = {}
    for threat in threats:
        if threat.get("source") is None:
            continue
        attack = threat["id"].rsplit("@", 1)[0]
        label = threat["label"].rsplit(" from ", 1)[0]      # the attack's label, without its source
        matrix = out.setdefault(attack, {"attack": attack, "label": label, "eps": threat["eps"],
                                         "norm": threat["norm"], "sources": list(model_ids),
                                         "targets": list(model_ids), "threats": {}})
        matrix["threats"][threat["source"]] = threat["id"]
    for matrix in out.values():
        ids = matrix.pop("threats")
        matrix["cells"] = [[_cell(by_cell.get((target, ids.get(source)))) for target in matrix["targets"]]
                           for source in matrix["sources"]]
    return list(out.values())
