"""Gradient-masking checks run on every batch for every model, whatever the threats
(Athalye et al. 2018; Croce & Hein 2020's AutoAttack flags; Pintor et al. 2022): outputs
that look like probabilities, outputs that change between two identical calls (randomness),
and input gradients of the cross-entropy that are zero or not finite at the clean inputs.
Each costs about one forward+backward pass of the batch; the counts add up over batches and
become warnings of the record when something is found."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

PROBABILITY_TOLERANCE = 1e-4
RANDOMNESS_TOLERANCE = 1e-5


@dataclass
class MaskingCounts:
    """Counts over the examples checked so far (summed over batches and processes)."""

    examples: int = 0
    probability_rows: int = 0
    random_rows: int = 0
    zero_gradient: int = 0
    nonfinite_gradient: int = 0

    def add(self, other: "MaskingCounts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def warnings(self, model_id: str) -> list[str]:
        n = self.examples
        out = []
        if self.probability_rows and self.probability_rows == n:
            out.append(f"{model_id}: its outputs are non-negative and sum to 1 for every example: they look like "
                       "probabilities, not logits; cross-entropy on them saturates and masks gradients.")
        if self.random_rows:
            out.append(f"{model_id}: two identical calls gave different outputs for {self.random_rows} of {n} examples: "
                       "a randomised model needs attacks with expectation over transformation (EOT); these "
                       "numbers overstate its robustness.")
        if self.zero_gradient:
            out.append(f"{model_id}: the input gradient of the loss is exactly zero for {self.zero_gradient} of {n} "
                       "clean examples: gradient attacks cannot move there (gradient masking or saturation); "
                       "a failed attack does not prove robustness.")
        if self.nonfinite_gradient:
            out.append(f"{model_id}: the input gradient is NaN or infinite for {self.nonfinite_gradient} of {n} "
                       "clean examples.")
        return out


@dataclass
class BatchChecks:
    clean_logits: torch.Tensor
    forward_s: float                   # one clean forward pass of the batch (every threat needs it)
    counts: MaskingCounts = field(default_factory=MaskingCounts)


def check_batch(model, x: torch.Tensor, y: torch.Tensor) -> BatchChecks:
    """Clean logits (used by every threat of the batch) plus the masking counts."""
    inputs = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(inputs)
        grad = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), inputs)[0]
    logits = logits.detach()
    started = time.perf_counter()
    with torch.no_grad():
        again = model(x)
    if again.is_cuda:
        torch.cuda.synchronize(again.device)
    forward_s = time.perf_counter() - started
    largest = grad.flatten(1).abs().amax(dim=1)
    probability = (logits.min(dim=1).values >= -PROBABILITY_TOLERANCE) & \
        ((logits.sum(dim=1) - 1).abs() <= PROBABILITY_TOLERANCE)
    scale = logits.abs().amax(dim=1).clamp_min(1.0)
    random = (again - logits).abs().amax(dim=1) > RANDOMNESS_TOLERANCE * scale
    counts = MaskingCounts(examples=int(x.shape[0]), probability_rows=int(probability.sum()),
                           random_rows=int(random.sum()), zero_gradient=int((largest == 0).sum()),
                           nonfinite_gradient=int((~torch.isfinite(largest)).sum()))
    return BatchChecks(logits, forward_s, counts)
