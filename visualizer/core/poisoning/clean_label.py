"""Clean-label backdoors (Turner, Tsipras & Madry 2018, "Label-consistent backdoor attacks"):
poison only images of the target class and keep their true labels. Alone, a trigger on a
correctly labelled image teaches little, since the image's own features already explain its
label. So each poison is first made hard to classify: a PGD perturbation (L-inf, untargeted,
against the true label) computed on an adversarially trained model, whose perturbations
change the image's class-relevant features. The network then leans on the trigger to fit
these images. Then the trigger is stamped on top.

Simplifications against the paper: one trigger at one position (they also vary amplitude and
stamp all four corners), and the robust model is whichever ``--robust-model`` names.
"""

from __future__ import annotations

from typing import Callable

import torch

from visualizer.core.attacks.loop import perturb
from visualizer.core.attacks.params import AttackParams
from visualizer.core.data.dataset import Dataset
from visualizer.core.errors import ParameterError
from visualizer.core.poisoning.poisoned_set import PoisonedSet, choose, poison_count, require_in_memory, with_rows
from visualizer.core.poisoning.trigger import Trigger, stamp_images

DEFAULT_EPS = 0.3          # L-inf, [0, 1] pixels: the MNIST threat of Madry et al. 2018
DEFAULT_STEPS = 20
BATCH = 256


def clean_label(train: Dataset, trigger: Trigger, target: int, rate: float, seed: int,
                robust_model: Callable[[torch.Tensor], torch.Tensor], eps: float = DEFAULT_EPS,
                steps: int = DEFAULT_STEPS, device: torch.device | str = "cpu") -> PoisonedSet:
    """``rate`` x N training images of class ``target``, perturbed by PGD-``steps`` (L-inf
    ``eps``) against ``robust_model`` (N x C x H x W pixels in [0, 1] -> logits, at the data's
    size), then stamped with the trigger; labels unchanged. Raises ParameterError when the
    target class holds fewer images than the rate asks for."""
    require_in_memory(train)
    count = poison_count(rate, len(train))
    candidates = torch.nonzero(train.labels == target).flatten()
    if count > len(candidates):
        raise ParameterError(f"Clean-label poisons come from the target class only: a rate of {rate:g} asks for "
                             f"{count}, the class holds {len(candidates)} training images "
                             f"(at most a rate of {len(candidates) / len(train):.3g}).")
    index = choose(candidates, count, seed)
    perturbed = []
    for start in range(0, count, BATCH):
        rows = index[start:start + BATCH]
        x, y = train.batch(rows, device)
        params = AttackParams(method="pgd", norm="linf", eps=eps, steps=steps, random_start=False,
                              best_iterate=False, seed=seed)
        x_adv = perturb(robust_model, x, y, params).detach().cpu()
        perturbed.append(_as_stored(x_adv, train.images.dtype))
    images = torch.cat(perturbed) if perturbed else train.images[index]
    images = stamp_images(images, trigger)
    return PoisonedSet(with_rows(train, index, images, train.labels[index]), index, train.labels.clone())


def _as_stored(pixels: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[0, 1] pixels in the data set's storage type (uint8: rounded to the 256 levels)."""
    if dtype == torch.uint8:
        return torch.round(pixels.clamp(0, 1) * 255).to(torch.uint8)
    return pixels.to(dtype)


def check_robust_model(model, shape: tuple[int, int, int], num_classes: int, device) -> None:
    """The perturbing model must read the data's images and name its classes: fail before
    any work otherwise (one forward pass on a blank batch)."""
    with torch.no_grad():
        try:
            logits = model(torch.zeros((1, *shape), device=device))
        except RuntimeError as exc:
            raise ParameterError(f"--robust-model does not take {shape[2]}x{shape[1]} images with {shape[0]} "
                                 f"channel(s), the data's size ({str(exc).splitlines()[0]}).") from None
    if logits.shape[-1] != num_classes:
        raise ParameterError(f"--robust-model has {logits.shape[-1]} classes, the data {num_classes}.")
