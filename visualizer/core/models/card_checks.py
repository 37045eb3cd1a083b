"""Numbers a shipped model card records about the weights shipped with it, small enough to
be recomputed by a test in seconds: clean accuracy on the first 1,000 test images (one
forward pass) and, for an adversarially trained model, robust accuracy on the first 100
under the project's scored PGD-20 at the card's own threat model (best iterate, no random
start: deterministic, as `visualizer attack` runs it).

The trainer's own numbers (``metrics``: the full test split, PGD-20 on 1,000 images) stay
as they were; these are the ones a test can afford to check on every run.
"""

from __future__ import annotations

import torch

from visualizer.core.attacks.loop import run_attack
from visualizer.core.attacks.params import AttackParams
from visualizer.core.data.dataset import Dataset
from visualizer.core.errors import ParameterError
from visualizer.core.models import model_cards

CLEAN_IMAGES = 1000
ROBUST_IMAGES = 100
ROBUST_STEPS = 20


def held_out_spec(card: dict, data_root: str | None = None) -> str:
    """The data spec of the card's test data: ``KIND:DATA_ROOT/KIND`` (the layout of
    shared/data) when ``data_root`` is given, else the spec the trainer recorded."""
    test = (card.get("data") or {}).get("test") or {}
    if data_root is not None and test.get("kind"):
        return f"{test['kind']}:{data_root.rstrip('/')}/{test['kind']}"
    if not test.get("spec"):
        raise ParameterError("The card records no test data; give its data folder.")
    return str(test["spec"])


def check_attack(card: dict, threat: tuple[str, float] | None = None) -> AttackParams | None:
    """PGD-20 at ``threat`` (norm, eps); by default the threat of the card's recorded robust
    check (a standard model may have one at its robust partner's threat), else its training
    threat; None for a standard model with neither."""
    recorded = (card.get("checks") or {}).get("robust", {}).get("attack")
    if threat is None and recorded:
        threat = (recorded["norm"], float(recorded["eps"]))
    if threat is None:
        norm = model_cards.threat_model(card)
        if norm is None:
            return None
        threat = (norm, float(card["train_eps"]))
    return AttackParams(method="pgd", norm=threat[0], eps=float(threat[1]), steps=ROBUST_STEPS)


def clean_check(model: torch.nn.Module, data: Dataset, n: int = CLEAN_IMAGES) -> dict:
    """{"images", "correct", "accuracy"} of ``model`` (taking [0, 1] pixels) on the first
    ``n`` images of ``data``."""
    x, y = data.first(n).batch(slice(0, n))
    with torch.no_grad():
        correct = int((model(x).argmax(1) == y).sum())
    return {"images": len(y), "correct": correct, "accuracy": correct / len(y)}


def robust_check(model: torch.nn.Module, data: Dataset, attack: AttackParams, n: int = ROBUST_IMAGES) -> dict:
    """Like ``clean_check`` under ``attack``: an image counts as correct only if the attack
    fails on it (a misclassified clean image counts as a success)."""
    x, y = data.first(n).batch(slice(0, n))
    result = run_attack(model, x, y, attack)
    correct = int((~result.success).sum())
    return {"images": len(y), "correct": correct, "accuracy": correct / len(y),
            "attack": attack.resolved().to_dict()}


def card_checks(model: torch.nn.Module, card: dict, test: Dataset,
                threat: tuple[str, float] | None = None) -> dict:
    """The card's ``checks`` section for ``model`` on the test split ``test``."""
    checks = {"clean": clean_check(model, test)}
    attack = check_attack(card, threat)
    if attack is not None:
        checks["robust"] = robust_check(model, test, attack)
    return checks


def binomial_slack(accuracy: float, n: int) -> int:
    """How many images two honest measurements of one accuracy on ``n`` images may differ
    by through floating-point noise alone (thread counts, CPU kinds): two standard errors,
    at least two images. Clean accuracy is one deterministic forward pass and is held to
    one image."""
    return max(2, round(2 * (accuracy * (1 - accuracy) * n) ** 0.5))
