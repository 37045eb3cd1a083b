"""LGV: weights collected from a trained copy's "large geometric vicinity" (Gubri, Cordy,
Papadakis, Le Traon & Sen 2022, "LGV: Boosting Adversarial Example Transferability from Large
Geometric Vicinity", ECCV). From the trained copy, training goes on with plain SGD at a
constant, fairly high learning rate on the same data (the thief's oracle answers: no extra
query), and a snapshot of the weights is kept at even intervals; an attack crafted on the
snapshots together (the mean of their logits, or one snapshot per attack iteration in turn)
transfers better than one crafted on the copy, because the snapshots spread over the flat
region around it rather than sitting at one sharp point.

The paper's recipe on ImageNet: SGD, momentum 0.9, weight decay 1e-4, half the original
initial learning rate, 10 epochs, 4 snapshots per epoch (K = 40), and an I-FGSM step on one
snapshot per iteration.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from visualizer.core.errors import ParameterError
from visualizer.core.training import sam


def collect_lgv(model: torch.nn.Module, images: torch.Tensor, targets: torch.Tensor, count: int, epochs: int,
                lr: float, seed: int, momentum: float = 0.9, weight_decay: float = 1e-4,
                batch_size: int = 64, sam_rho: float = 0.0) -> list[dict[str, torch.Tensor]]:
    """``count`` snapshots of ``model``'s state dict along ``epochs`` epochs of constant-lr
    SGD from its current weights (``model`` itself is not changed). ``images``: N x C x S x S
    in [0, 1], the model's input; ``targets``: N labels (int64) or N x K probabilities (soft
    cross-entropy). Snapshot i is taken after step round((i + 1) * total / count), so the last
    is the final weights. The epoch orders come from ``seed``. ``sam_rho`` > 0 makes every
    step sharpness-aware (``core.training.sam``: a flat vicinity). ParameterError for count < 1,
    epochs < 1, lr <= 0, or count above the number of SGD steps."""
    n = len(images)
    steps_per_epoch = -(-n // batch_size)
    total = epochs * steps_per_epoch
    if count < 1 or epochs < 1 or not lr > 0:
        raise ParameterError(f"LGV needs count >= 1, epochs >= 1 and lr > 0, not {count}, {epochs}, {lr}.")
    if count > total:
        raise ParameterError(f"LGV: {count} snapshots need at least as many SGD steps; {epochs} epochs of "
                             f"{n} images in batches of {batch_size} make {total}.")
    net = copy.deepcopy(model)
    for p in net.parameters():
        p.requires_grad_(True)
    net.train()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(int(seed))
    marks = {round((i + 1) * total / count) for i in range(count)}
    snapshots: list[dict[str, torch.Tensor]] = []
    step = 0
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for b in range(steps_per_epoch):
            idx = order[b * batch_size:(b + 1) * batch_size]
            loss = F.cross_entropy(net(images[idx]), targets[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if sam_rho:
                params = [p for p in net.parameters()]
                moved = sam.climb(params, sam_rho)
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(net(images[idx]), targets[idx]).backward()
                sam.come_back(params, moved)
            optimizer.step()
            step += 1
            if step in marks:
                snapshots.append({k: v.detach().clone() for k, v in net.state_dict().items()})
    return snapshots


class MeanLogits(torch.nn.Module):
    """The mean of ``members``' logits (N x classes): an ensemble to craft one attack on."""

    def __init__(self, members: list[torch.nn.Module]):
        super().__init__()
        self.members = torch.nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(0)


class CycleMembers(MeanLogits):
    """LGV's attack source: every forward pass that builds a graph (an attack's gradient step)
    runs the next member in turn; without gradients (scoring an iterate) it is the mean of
    all members' logits."""

    def __init__(self, members: list[torch.nn.Module]):
        super().__init__(members)
        self.turn = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled():
            return super().forward(x)
        member = self.members[self.turn % len(self.members)]
        self.turn += 1
        return member(x)
