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


def converts_cleanly(module: nn.Module, forward, probe_images: torch.Tensor,
                     before: torch.Tensor | None = None) -> bool:
    """Convert ``module`` to channels-last layout in place if ``forward`` (a function of N x C
    x H x W images, returning logits) gives the same logits on ``probe_images`` both ways,
    in eval mode; otherwise leave it as it was. ``before``: those logits in today's layout
    when already computed (the loader's probe), saving a forward pass. Returns whether it
    converted. Never raises for the network's sake: any failure keeps the old layout."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            if before is None:
                before = forward(probe_images)
            module.to(memory_format=torch.channels_last)
            try:
                after = forward(probe_images)
                scale = float(before.abs().max().clamp_min(1))
                same = after.shape == before.shape and bool(
                    torch.allclose(after, before, rtol=_TOLERANCE, atol=_TOLERANCE * scale))
            except Exception:   # e.g. a .view on activations: this layout does not suit the network
                same = False
        if not same:
            module.to(memory_format=torch.contiguous_format)
        return same
    finally:
        module.train(was_training)


def prefer_channels_last(model, probe_images: torch.Tensor, deterministic: bool,
                         before: torch.Tensor | None = None) -> bool:
    """Convert ``model`` (a ClassifierModel) to channels-last layout in place if it runs on
    the CPU, has 2-D convolutions, is ``deterministic``, and gives the same logits on
    ``probe_images`` (N x C x H x W, [0, 1] pixels) both ways; return whether it did.
    ``before``: ``model(probe_images)`` already computed in eval mode, if at hand.
    Never raises for the model's sake: any failure leaves the model as it was."""
    if model.device.type != "cpu" or not deterministic or isinstance(model.net, torch.jit.ScriptModule):
        return False
    if not _has_convolutions(model.net):
        return False
    model.channels_last = converts_cleanly(model, model, probe_images, before)
    return model.channels_last


def train_channels_last(model: nn.Module, device: torch.device, distributed: bool, probe_images: torch.Tensor) -> bool:
    """The trainer's choice for a freshly built network ``model`` (N x C x H x W pixels in,
    logits out): channels-last on a single CPU process when it gives the same logits on
    ``probe_images``. Training steps then run about 1.3x faster (the bundled MNIST CNN, batch
    128, 2 cores). DistributedDataParallel runs keep torch's default layout (its gradient
    buckets are laid out per parameter; not measured here)."""
    if device.type != "cpu" or distributed or not _has_convolutions(model):
        return False
    return converts_cleanly(model, model, probe_images)
