"""Poisoned copies of one decoded data set: the sweep decodes the training and test images
once (MNIST: the uint8 idx tensors) and every rate gets a copy with a few rows replaced."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from visualizer.core.data.dataset import Dataset
from visualizer.core.errors import DataError, ParameterError
from visualizer.core.poisoning.trigger import Trigger, stamp_images


@dataclass
class PoisonedSet:
    """A training set with ``poison_index`` (sorted indices into it) poisoned."""

    data: Dataset
    poison_index: torch.Tensor      # int64, the true poison set (for the detector's precision and recall)
    original_labels: torch.Tensor   # the labels before poisoning (all N)


def require_in_memory(data: Dataset) -> Dataset:
    if data.images is None:
        raise DataError(f"{data.spec}: poisoning needs the images in memory; this set is too large to decode "
                        "up front (use a smaller folder or an MNIST-format set).")
    return data


def poison_count(rate: float, size: int) -> int:
    """How many of ``size`` training images a rate poisons (rounded to the nearest, so the
    records state the count exactly)."""
    if not 0 <= rate < 1:
        raise ParameterError(f"A poison rate must be a fraction in [0, 1), not {rate}.")
    return int(math.floor(rate * size + 0.5))


def choose(candidates: torch.Tensor, count: int, seed: int) -> torch.Tensor:
    """``count`` of ``candidates`` (indices), drawn without replacement from ``seed``; sorted."""
    order = torch.randperm(len(candidates), generator=torch.Generator().manual_seed(seed))
    return candidates[order[:count]].sort().values


def with_rows(data: Dataset, index: torch.Tensor, images: torch.Tensor, labels: torch.Tensor) -> Dataset:
    """A copy of ``data`` with the rows at ``index`` replaced (the original stays as it was)."""
    new_images = data.images.clone()
    new_labels = data.labels.clone()
    new_images[index] = images.to(new_images.dtype)
    new_labels[index] = labels
    return replace(data, images=new_images, labels=new_labels)


def triggered_test_set(test: Dataset, trigger: Trigger, target: int) -> Dataset:
    """The test images of every class but ``target``, each carrying the trigger, true labels
    kept: the set the attack success rate is measured on."""
    require_in_memory(test)
    others = torch.nonzero(test.labels != target).flatten()
    if len(others) == 0:
        raise DataError(f"{test.spec}: the test set holds no images outside the target class.")
    subset = test.subset(others)
    return replace(subset, images=stamp_images(subset.images, trigger))
