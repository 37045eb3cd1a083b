"""Typed results of a gradient attack and the progress events it yields on the way."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from visualizer.core.attacks.params import AttackParams


@dataclass
class AttackStep:
    """One evaluated iterate, reported as the attack runs (tensors stay on the model's
    device; converting them is the consumer's choice, so reporting costs no host sync)."""

    restart: int               # 0-based restart
    step: int                  # 0 = starting point, k = after k gradient steps
    done: int                  # iterates evaluated so far, over all restarts
    total: int                 # iterates the whole attack will evaluate if not stopped
    loss: torch.Tensor         # N, the objective being maximised (see AttackResult)
    ref_prob: torch.Tensor     # N, probability of the reference (true or predicted) class
    target_prob: torch.Tensor | None
    topk_prob: torch.Tensor    # N x k
    topk_class: torch.Tensor   # N x k
    success: torch.Tensor      # N bool
    adversarial: torch.Tensor | None = None   # N x C x H x W, only when asked for


@dataclass
class AttackResult:
    """Outcome of one attack on a batch.

    ``loss`` is the objective the attack maximises: cross-entropy of the reference class
    (untargeted) or minus the cross-entropy of the target class (targeted).
    History tensors are (iterates x N), iterates counted over all restarts.
    """

    params: AttackParams
    clean: torch.Tensor
    adversarial: torch.Tensor
    labels: torch.Tensor
    targets: torch.Tensor | None
    success: torch.Tensor
    loss: torch.Tensor
    history_loss: torch.Tensor
    history_ref_prob: torch.Tensor
    history_target_prob: torch.Tensor | None
    cancelled: bool
    iterates: int
    wall_time_s: float
    warnings: list[str] = field(default_factory=list)

    @property
    def perturbation(self) -> torch.Tensor:
        return self.adversarial - self.clean
