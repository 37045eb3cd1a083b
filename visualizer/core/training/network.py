"""The network being trained, taking [0, 1] pixels like every model in the app: the
architecture from ``--arch`` (resolved exactly as ``ckpt:PATH --arch NAME`` resolves it when
the weights are loaded back) with its own normalisation in front."""

from __future__ import annotations

import torch
from torch import nn

from visualizer.core.models.arch import ArchChoice
from visualizer.core.models.wrapper import Preprocessing


class PixelClassifier(nn.Module):
    """``net`` behind the architecture's normalisation: N x C x S x S pixels in [0, 1] in,
    N x classes logits out. Unlike the app's ClassifierModel it trains; only ``net``'s
    state dict is saved, so the file loads with ``ckpt:PATH --arch NAME``."""

    def __init__(self, net: nn.Module, pre: Preprocessing):
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(pre.mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(pre.std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.normalises = any(m != 0 for m in pre.mean) or any(s != 1 for s in pre.std)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.net((pixels - self.mean) / self.std if self.normalises else pixels)


def build_network(choice: ArchChoice, num_classes: int, seed: int) -> PixelClassifier:
    """A freshly initialised network, the same for the same seed (every torchrun process
    builds the same one; DDP also broadcasts rank 0's weights)."""
    torch.manual_seed(seed)
    return PixelClassifier(choice.make(num_classes), choice.preprocessing)
