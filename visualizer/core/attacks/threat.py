"""Threat models as small step objects (after MadryLab robustness): each knows how to
start, take an ascent step and project back into its epsilon ball. The attack loop
(``loop.py``) is the same for all of them.

``step`` moves a point (image or perturbation: it only adds) uphill and returns a new
tensor, using ``grad`` as scratch space (the caller's gradient is spent after the step);
``step_size`` is a number, or an N x 1 x 1 x 1 tensor of per-example sizes (APGD halves
each example's step on its own). ``project_`` maps a perturbation ``delta`` (N x C x H x W, [0, 1] pixel units) into the
ball in place; keeping ``x0 + delta`` inside [0, 1] is the loop's job.

Why in place: on a CPU every fresh image-sized tensor is new memory the kernel must fault
in (tens of MB at batch 32), and a PGD step made ten of them, several per cent of a
Lite0 gradient step. The arithmetic and its order are unchanged, so results are identical.
"""

from __future__ import annotations

import torch

# Gradients smaller than this are treated as zero when normalising an L2 step, so a
# vanishing gradient gives a zero step instead of NaN or a huge jump.
GRAD_NORM_FLOOR = 1e-12


def _flat_norm(t: torch.Tensor) -> torch.Tensor:
    """Per-example L2 norm, shaped N x 1 x 1 x 1 for broadcasting."""
    return t.flatten(1).norm(p=2, dim=1).view(-1, *([1] * (t.dim() - 1)))


class LinfThreat:
    name = "linf"

    def __init__(self, eps: float):
        self.eps = eps

    def random_start(self, like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        noise = torch.rand(like.shape, generator=generator, device=generator.device, dtype=like.dtype)
        return (noise.to(like.device) * 2 - 1) * self.eps

    def step(self, point: torch.Tensor, grad: torch.Tensor, step_size: float | torch.Tensor) -> torch.Tensor:
        if isinstance(step_size, torch.Tensor):   # one size per example (APGD), N x 1 x 1 x 1
            return point + grad.sign_().mul_(step_size)
        return torch.add(point, grad.sign_(), alpha=step_size)   # point + step_size * sign(grad)

    def project_(self, delta: torch.Tensor) -> torch.Tensor:
        return delta.clamp_(-self.eps, self.eps)

    @staticmethod
    def norm(delta: torch.Tensor) -> torch.Tensor:
        return delta.flatten(1).abs().amax(dim=1)


class L2Threat:
    name = "l2"

    def __init__(self, eps: float):
        self.eps = eps

    def random_start(self, like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A perturbation drawn uniformly from the L2 ball of radius eps, one per example
        (N x C x H x W like ``like``, [0, 1] pixel units).

        Uniform in the ball, as Foolbox 3's L2 PGD starts (Rauber et al. 2020, sampler of
        Voelker et al. 2017): the direction is a normalised Gaussian, uniform on the sphere
        (Muller 1959), and the radius is eps * U^(1/d) for d = C*H*W, the inverse of the
        radius CDF (r/eps)^d. Its mean is d/(d+1) eps: in image dimensions practically on the
        sphere (MadryLab robustness starts there exactly). A radius uniform in [0, eps] (the
        old rule here, and torchattacks') would leave the average start at half the budget.
        """
        d = like[0].numel()
        noise = torch.randn(like.shape, generator=generator, device=generator.device, dtype=like.dtype).to(like.device)
        u = torch.rand((like.shape[0],), generator=generator, device=generator.device, dtype=torch.float64)
        radius = (u.pow(1.0 / d) * self.eps).to(like.dtype).to(like.device)   # float64: 1/d is tiny at 224 px
        direction = noise / _flat_norm(noise).clamp_min(GRAD_NORM_FLOOR)
        return direction * radius.view(-1, *([1] * (like.dim() - 1)))

    def step(self, point: torch.Tensor, grad: torch.Tensor, step_size: float | torch.Tensor) -> torch.Tensor:
        norm = _flat_norm(grad).clamp_min(GRAD_NORM_FLOOR)
        return point + grad.mul_(step_size).div_(norm)   # point + step_size * grad / |grad|

    def project_(self, delta: torch.Tensor) -> torch.Tensor:
        factor = (self.eps / _flat_norm(delta).clamp_min(GRAD_NORM_FLOOR)).clamp(max=1.0)
        return delta.mul_(factor)

    @staticmethod
    def norm(delta: torch.Tensor) -> torch.Tensor:
        return delta.flatten(1).norm(p=2, dim=1)


def threat_for(norm: str, eps: float) -> LinfThreat | L2Threat:
    return {"linf": LinfThreat, "l2": L2Threat}[norm](eps)
