"""An independent judge of large-eps targeted adversarial examples: does the image the attack
made *look like* the target class? A robust model's targeted examples grow the target's
features (Tsipras et al. 2018, "Robustness may be at odds with accuracy"; Santurkar et al.
2019); a standard model's stay the source image plus noise.

The judge is a plain pixel k-nearest-neighbour classifier (scikit-learn's, Euclidean on raw
[0, 1] pixels), fitted on training images the attacked model's gradients never touch: it
has no gradients to fool and no features of its own, so it calls an image a "7" only if it
is close, pixel for pixel, to real 7s.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from visualizer.core.attacks.loop import run_attack
from visualizer.core.attacks.params import AttackParams
from visualizer.core.errors import ParameterError, VisualizerError

TARGET_RULES = ("next", "random")


@dataclass
class PixelJudge:
    """A k-NN classifier on flattened pixels. ``describe`` says what it was fitted on."""

    predict_flat: Callable[[np.ndarray], np.ndarray]
    describe: str

    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """N x C x H x W pixels in [0, 1] -> N int64 class indices."""
        flat = images.detach().cpu().reshape(len(images), -1).numpy().astype(np.float32)
        return torch.from_numpy(self.predict_flat(flat).astype(np.int64))


def fit_pixel_judge(images: torch.Tensor, labels: torch.Tensor, k: int = 5) -> PixelJudge:
    """A k-NN judge fitted on ``images`` (N x C x H x W in [0, 1]) with ``labels`` (N)."""
    try:
        from sklearn.neighbors import KNeighborsClassifier
    except ImportError as exc:
        raise VisualizerError("The judge needs scikit-learn: pip install scikit-learn "
                              "(or the package's 'train' extra).") from exc
    if k < 1 or k > len(images):
        raise ParameterError(f"k must be between 1 and the {len(images)} fitted images, not {k}.")
    knn = KNeighborsClassifier(n_neighbors=k, algorithm="brute")
    knn.fit(images.detach().cpu().reshape(len(images), -1).numpy().astype(np.float32), labels.cpu().numpy())
    return PixelJudge(knn.predict, f"pixel {k}-NN (scikit-learn, Euclidean) fitted on {len(images)} training images")


def _fraction(hits: torch.Tensor) -> float:
    return round(float(hits.float().mean()), 4)


def pick_targets(labels: torch.Tensor, num_classes: int, rule: str = "next", seed: int = 0) -> torch.Tensor:
    """"next": (label + 1) mod classes; "random": uniform over the other classes, seeded."""
    if rule == "next":
        return (labels + 1) % num_classes
    if rule == "random":
        gen = torch.Generator().manual_seed(seed)
        shift = torch.randint(1, num_classes, labels.shape, generator=gen)
        return (labels.cpu() + shift) % num_classes
    raise ParameterError(f"Unknown target rule {rule!r}; choose one of {', '.join(TARGET_RULES)}.")


def judge_targeted(model: torch.nn.Module, judge: PixelJudge, images: torch.Tensor, labels: torch.Tensor,
                   budgets: list[float], steps: int = 100, targets: str = "next", seed: int = 0,
                   on_budget: Callable[[dict], None] | None = None) -> dict:
    """For each L2 budget (eps in [0, 1] pixel units, over the whole image): targeted PGD
    (``steps`` steps, the project's scored loop) on ``images`` towards the chosen targets,
    then how often the judge labels the adversarial image as the target
    (``judged_target``), as its true class (``judged_source``), and how often the model
    itself outputs the target (``model_target_success``). ``model`` takes [0, 1] pixels."""
    with torch.no_grad():
        num_classes = int(model(images[:1]).shape[1])
    goal = pick_targets(labels, num_classes, targets, seed).to(labels.device)
    clean_judged = judge.predict(images)
    result = {"judge": judge.describe, "images": len(labels), "steps": steps,
              "targets": "(label + 1) mod classes" if targets == "next" else f"random other class (seed {seed})",
              "attack": "targeted PGD, L2, step size 2.5 eps / steps, no random start, best iterate",
              "judge_clean_accuracy": _fraction(clean_judged == labels.cpu()),
              "judged_target_clean": _fraction(clean_judged == goal.cpu()), "budgets": []}
    for eps in budgets:
        started = time.perf_counter()
        params = AttackParams(method="pgd", norm="l2", eps=float(eps), steps=steps, targeted=True)
        adv = run_attack(model, images, labels, params, targets=goal)
        judged = judge.predict(adv.adversarial)
        row = {"eps": float(eps), "judged_target": _fraction(judged == goal.cpu()),
               "judged_source": _fraction(judged == labels.cpu()), "model_target_success": _fraction(adv.success),
               "seconds": round(time.perf_counter() - started, 1)}
        result["budgets"].append(row)
        if on_budget is not None:
            on_budget(row)
    return result
