"""Shared inputs of the black-box tests: the bundled digits-standard model (fast, real) and
real MNIST test digits at its 32 x 32 input size, keeping only those it classifies right
(an attack on a misclassified image succeeds with zero queries and proves nothing)."""

from __future__ import annotations

import functools

import torch

from mnist_support import MNIST_SPEC


@functools.lru_cache(maxsize=None)
def digits_model(name: str = "digits-standard"):
    from visualizer.core.models.registry import LoadOptions, load_model

    return load_model(name, LoadOptions(device="cpu"))


@functools.lru_cache(maxsize=None)
def correct_digits(n: int = 8, name: str = "digits-standard") -> tuple[torch.Tensor, torch.Tensor]:
    """(images n x 1 x 32 x 32 in [0, 1], labels n) the model gets right, from MNIST test."""
    from visualizer.core.data import load_dataset

    model = digits_model(name)
    data = load_dataset(MNIST_SPEC, "test", preprocessing=model.info.preprocessing, limit=20 * n)
    x, y = data.batch(slice(0, len(data)))
    with torch.no_grad():
        right = model(x).argmax(1) == y
    return x[right][:n].clone(), y[right][:n].clone()
