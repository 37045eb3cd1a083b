"""Clean and robust accuracy of the model being trained, on held-out data, split across
torchrun processes. The robust number comes from the project's scored attack loop
(``run_attack``: best iterate kept), the attack a user runs in the window."""

from __future__ import annotations

from typing import Generator

import torch

from visualizer.core.attacks.loop import drive, run_attack
from visualizer.core.attacks.params import AttackParams
from visualizer.core.data.dataset import Dataset
from visualizer.core.training.distributed import World


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
