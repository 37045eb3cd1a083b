"""Geometric augmentation of a thief's answered images, at no extra query: every answered
image also trained on in K randomly rotated, scaled and shifted versions (an affine warp), or
elastically deformed ones (Simard, Steinkraus & Platt 2003, the classic MNIST augmentation),
with the same answer. A wider neighbourhood than whole-pixel shifts
(``substitute.shifted_copies``): the copy learns the victim's invariances, not only its labels
at 5,000 points.

The warps are torchvision's (``transforms.v2.functional.affine`` / ``elastic``), bilinear,
the uncovered area filled with 0 (MNIST's background); the parameters come from a seeded
``torch.Generator``, so a copy is reproducible bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision.transforms.v2 import functional as TF


@dataclass(frozen=True)
class Warp:
    """How far a warped copy may move: ``degrees`` of rotation either way, ``scale`` as the
    largest relative zoom either way (0.1: 0.9x to 1.1x), ``shift`` in pixels either way,
    ``elastic``: the displacement field's strength in pixels (0: none; Simard et al.'s alpha,
    smoothed by a Gaussian of ``sigma`` pixels)."""
    degrees: float = 0.0
    scale: float = 0.0
    shift: float = 0.0
    elastic: float = 0.0
    sigma: float = 4.0


def _uniform(gen: torch.Generator, most: float, n: int) -> torch.Tensor:
    return (torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1) * most


def _elastic_field(gen: torch.Generator, side_h: int, side_w: int, alpha: float, sigma: float) -> torch.Tensor:
    """A 1 x H x W x 2 displacement field in torchvision's normalised units: uniform noise
    smoothed by a Gaussian of ``sigma`` px, scaled to ``alpha`` px."""
    noise = torch.rand(1, 2, side_h, side_w, generator=gen) * 2 - 1
    size = 2 * int(3 * sigma) + 1
    smooth = TF.gaussian_blur(noise, [size, size], [sigma, sigma])
    smooth = smooth / smooth.abs().amax().clamp_min(1e-12)
    field = smooth * alpha
    field[:, 0] /= side_w / 2
    field[:, 1] /= side_h / 2
    return field.permute(0, 2, 3, 1)


def warped_copies(images: torch.Tensor, copies: int, seed: int, warp: Warp) -> torch.Tensor:
    """``images`` (N x C x H x W, [0, 1]) followed by ``copies`` warped versions of them:
    (copies + 1) * N images, the i-th of each block from the i-th image, each with its own
    random warp (``warp``) drawn from ``seed``. Values stay in [0, 1]."""
    if copies < 1:
        return images
    gen = torch.Generator().manual_seed(int(seed))
    side_h, side_w = images.shape[-2:]
    out = [images]
    for _ in range(copies):
        n = len(images)
        angles, scales = _uniform(gen, warp.degrees, n), 1 + _uniform(gen, warp.scale, n)
        dx, dy = _uniform(gen, warp.shift, n), _uniform(gen, warp.shift, n)
        block = []
        for i in range(n):
            img = TF.affine(images[i], angle=float(angles[i]), translate=[float(dx[i]), float(dy[i])],
                            scale=float(scales[i]), shear=[0.0, 0.0],
                            interpolation=TF.InterpolationMode.BILINEAR, fill=0.0)
            if warp.elastic:
                field = _elastic_field(gen, side_h, side_w, warp.elastic, warp.sigma)
                img = TF.elastic(img, field, interpolation=TF.InterpolationMode.BILINEAR, fill=0.0)
            block.append(img)
        out.append(torch.stack(block).clamp(0, 1))
    return torch.cat(out)
