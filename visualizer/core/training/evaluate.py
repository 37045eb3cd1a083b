"""Clean and robust accuracy of the model being trained, on held-out data, split across
torchrun processes. The robust number comes from the project's scored attack loop
(``run_attack``: best iterate kept), the attack a user runs in the window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generator

import torch

from visualizer.core.attacks.loop import drive, run_attack
from visualizer.core.attacks.params import AttackParams
from visualizer.core.data.dataset import Dataset
from visualizer.core.errors import ParameterError
from visualizer.core.training.distributed import World


@dataclass(frozen=True)
class EpochWatch:
    """Robust accuracy measured after every epoch, for watching robustness being trained
    (the window's Train tab): ``attack`` (the project's scored PGD, e.g. 10 steps at the
    training eps in [0, 1] pixel units) on the first ``images`` held-out examples. The
    clean accuracy beside it is the epoch's ``test_clean_accuracy``; pass ``eval_limit`` =
    ``images`` to measure both on the same batch. The attack draws from its own seeded
    generator, never torch's global one, so watching does not change the trained weights.
    Raises ParameterError for fewer than one image."""

    attack: AttackParams
    images: int = 200

    def __post_init__(self) -> None:
        if int(self.images) != self.images or self.images < 1:
            raise ParameterError(f"Robust accuracy needs at least one held-out image, not {self.images}.")

    def record(self, correct: int, total: int) -> dict:
        """The history.json fields it adds to an epoch's record."""
        return {"test_robust_accuracy": correct / max(total, 1), "test_robust_images": total,
                "robust_attack": self.attack.resolved().to_dict()}


WATCH_STEPS = 10          # PGD steps of a watch when the spec gives none


def parse_watch(text: str | None, images: int = 200) -> EpochWatch | None:
    """``none`` (or empty) or ``pgd:NORM:EPS[:STEPS]`` (STEPS default 10), eps in [0, 1]
    pixel units: the robust accuracy watched after each epoch. Raises ParameterError."""
    from visualizer.core.training.recipe import parse_adversarial

    if not text or text.strip().lower() == "none":
        return None
    recipe = parse_adversarial(text, "--watch")
    if recipe.method != "pgd":
        raise ParameterError(f"The robust accuracy after each epoch is measured with pgd:NORM:EPS[:STEPS], "
                             f"not {text!r}.")
    steps = recipe.steps if text.count(":") == 3 else WATCH_STEPS
    return EpochWatch(AttackParams(method="pgd", norm=recipe.norm, eps=recipe.eps, steps=steps), images=images)


def accuracy_steps(model: torch.nn.Module, data: Dataset, device: torch.device, world: World,
                   batch_size: int = 500, attack: AttackParams | None = None
                   ) -> Generator[tuple[int, int], None, tuple[int, int]]:
    """Yields (batches done, batches) and returns (correct, total) over ``data``. With
    ``attack``, an example counts as correct only if the attack fails on it (a misclassified
    clean image is a success from step 0). Each process evaluates every world.size-th
    example; the counts are summed over processes."""
    was_training = model.training
    model.eval()
    mine = torch.arange(world.rank, len(data), world.size)
    batches = (len(mine) + batch_size - 1) // batch_size
    correct = 0
    for b in range(batches):
        x, y = data.batch(mine[b * batch_size:(b + 1) * batch_size], device)
        if attack is None:
            with torch.no_grad():
                correct += int((model(x).argmax(1) == y).sum())
        else:
            correct += int((~run_attack(model, x, y, attack).success).sum())
        yield b + 1, batches
    model.train(was_training)
    total_correct, total = world.sum([correct, len(mine)])
    return int(total_correct), int(total)


def accuracy(model: torch.nn.Module, data: Dataset, device: torch.device, world: World, batch_size: int = 500,
             attack: AttackParams | None = None) -> tuple[int, int]:
    """``accuracy_steps`` run to the end: (correct, total)."""
    return drive(accuracy_steps(model, data, device, world, batch_size, attack))
