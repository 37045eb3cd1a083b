"""BadNets (Gu, Dolan-Gavitt & Garg 2017): stamp the trigger on a fraction of the training
images and relabel them as the target class. Poisons are drawn from the other classes (a
target-class image relabelled as itself would teach nothing)."""

from __future__ import annotations

import torch

from visualizer.core.data.dataset import Dataset
from visualizer.core.errors import ParameterError
from visualizer.core.poisoning.poisoned_set import PoisonedSet, choose, poison_count, require_in_memory, with_rows
from visualizer.core.poisoning.trigger import Trigger, stamp_images


def badnets(train: Dataset, trigger: Trigger, target: int, rate: float, seed: int) -> PoisonedSet:
    """``rate`` x N training images (of classes other than ``target``) with the trigger and
    label ``target``. Raises ParameterError when the other classes hold too few images."""
    require_in_memory(train)
    count = poison_count(rate, len(train))
    candidates = torch.nonzero(train.labels != target).flatten()
    if count > len(candidates):
        raise ParameterError(f"A rate of {rate:g} asks for {count} poisons; only {len(candidates)} images are "
                             "outside the target class.")
    index = choose(candidates, count, seed)
    images = stamp_images(train.images[index], trigger)
    labels = torch.full((count,), target, dtype=train.labels.dtype)
    return PoisonedSet(with_rows(train, index, images, labels), index, train.labels.clone())
