"""What makes a gradient attack crafted on one model fool another (transfer), as options of
the one attack loop (``loop.py``); each is off by default, and then the loop is plain PGD.

- ``margin_objective``: Carlini & Wagner 2017's margin loss with a confidence ``kappa``: the
  attack maximises min(max_{i != y} z_i - z_y, kappa) on the logits z (untargeted; targeted:
  min(z_t - max_{i != t} z_i, kappa)). Past the boundary it keeps pushing until the source
  model is wrong by kappa logits; examples wrong by that much transfer better than ones just
  across the boundary, where cross-entropy's gradient has nearly vanished.
- ``Momentum``: MI-FGSM (Dong et al. 2018): the step follows g_t = mu g_{t-1} + grad_t /
  mean|grad_t|, an average over past gradients that steadies the direction and escapes the
  source model's small local wiggles, which the target does not share.
- ``diverse_inputs``: input diversity (Xie et al. 2019): with probability p the gradient is
  taken through a random downscale to r x r pixels (r uniform in [S - S/8, S]) padded back to
  S x S at a random offset, so the perturbation must work under small rescalings and shifts.
  Scoring (success, best iterate) always uses the untransformed image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("ce", "margin")
DIVERSITY_SHRINK = 8          # the smallest random rescale is S - S/8 pixels wide


def margin_objective(logits: torch.Tensor, labels: torch.Tensor, targets: torch.Tensor | None,
                     kappa: float | None) -> torch.Tensor:
    """N margins to maximise (logit units), capped at ``kappa`` (None: uncapped). ``logits``
    N x K; ``labels`` the reference classes; ``targets`` the target classes of a targeted
    attack or None. Positive once the attack succeeds on this model."""
    cls = targets if targets is not None else labels
    own = logits.gather(1, cls.view(-1, 1)).squeeze(1)
    others = logits.scatter(1, cls.view(-1, 1), -float("inf")).amax(dim=1)
    margin = own - others if targets is not None else others - own
    return margin if kappa is None else margin.clamp(max=kappa)


class Momentum:
    """MI-FGSM's accumulated gradient for one restart: ``update`` takes the raw N x C x H x W
    gradient and returns the tensor to step along (a fresh one: the threat's step spends it)."""

    def __init__(self, decay: float):
        self.decay = decay
        self.velocity: torch.Tensor | None = None

    def update(self, grad: torch.Tensor) -> torch.Tensor:
        if self.decay <= 0:
            return grad
        scale = grad.flatten(1).abs().mean(dim=1).clamp_min(1e-12).view(-1, *([1] * (grad.dim() - 1)))
        normalised = grad / scale
        if self.velocity is None:
            self.velocity = normalised
        else:
            self.velocity = self.velocity.mul_(self.decay).add_(normalised)
        return self.velocity.clone()


def diverse_inputs(x: torch.Tensor, probability: float, gen: torch.Generator) -> torch.Tensor:
    """Xie et al. 2019's random resize-and-pad of an N x C x S x S batch, applied to the whole
    batch with ``probability`` (one draw of size and offset per call, from ``gen``); the
    padding is 0 (black). Differentiable in ``x``; the output has ``x``'s shape."""
    if probability <= 0 or float(torch.rand((), generator=gen)) >= probability:
        return x
    size = x.shape[-1]
    low = size - max(1, size // DIVERSITY_SHRINK)
    side = int(torch.randint(low, size + 1, (), generator=gen))
    if side == size:
        return x
    small = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)
    left = int(torch.randint(0, size - side + 1, (), generator=gen))
    top = int(torch.randint(0, size - side + 1, (), generator=gen))
    return F.pad(small, (left, size - side - left, top, size - side - top))
