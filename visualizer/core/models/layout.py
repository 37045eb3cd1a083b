"""The memory layout a loaded model runs in.

On a CPU, oneDNN's convolutions are faster on channels-last ("NHWC") tensors than on
torch's default contiguous NCHW ones. Measured here (2 cores, forward + input gradient):
EfficientNet-Lite0 at batch 8, 0.35 s -> 0.23 s; the bundled MNIST CNN at batch 128,
0.11 s -> 0.085 s. Every attack, sweep, saliency map and evaluation spends nearly all its
time there, so a loaded model is converted once, when that is safe:

- the model runs on the CPU (other devices keep their layout: not measured here);
- its network is a plain ``nn.Module`` with 4-D convolution weights (TorchScript and
  fully connected networks are left as they are);
- it is deterministic, and on the probe images it gives the same logits both ways. A
  forward that calls ``.view`` on its activations fails in channels-last layout, and the
  model then stays as it was.

The layout changes the order of floating-point sums, so logits move by rounding only
(relative 1e-6 or so); a model's results stay reproducible run to run.
"""

from __future__ import annotations

import torch
from torch import nn

# Logits within this (relative to their scale) count as the same: layout only reorders sums.
_TOLERANCE = 1e-4


def _has_convolutions(net: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.conv._ConvNd) and m.weight.dim() == 4 for m in net.modules())


def prefer_channels_last(model, probe_images: torch.Tensor, deterministic: bool) -> bool:
    """Convert ``model`` (a ClassifierModel) to channels-last layout in place if it runs on
    the CPU, has 2-D convolutions, is ``deterministic``, and gives the same logits on
    ``probe_images`` (N x C x H x W, [0, 1] pixels) both ways; return whether it did.
    Never raises for the model's sake: any failure leaves the model as it was."""
    if model.device.type != "cpu" or not deterministic or isinstance(model.net, torch.jit.ScriptModule):
        return False
    if not _has_convolutions(model.net):
        return False
    with torch.no_grad():
        before = model(probe_images)
        model.to(memory_format=torch.channels_last)
        try:
            after = model(probe_images)
            same = after.shape == before.shape and bool(
                torch.allclose(after, before, rtol=_TOLERANCE, atol=_TOLERANCE * float(before.abs().max().clamp_min(1))))
        except Exception:   # e.g. a .view on activations: this layout does not suit the network
            same = False
    if not same:
        model.to(memory_format=torch.contiguous_format)
    model.channels_last = same
    return same
