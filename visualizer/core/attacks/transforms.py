"""Rotation + translation of image batches, with the conventions the spatial attack documents:

* a positive angle rotates the content counter-clockwise as displayed (y axis pointing down);
* positive ``tx`` moves the content right, positive ``ty`` moves it down, in pixels of the
  model input;
* rotation is about the image centre in square pixels, then the translation is applied
  (Engstrom et al. 2018);
* bilinear sampling, zero fill (black in [0, 1] pixel space).

With these, +90 degrees equals ``torch.rot90(x, 1, dims=(-2, -1))`` on square images, and a
shift of one pixel equals a zero-filled roll.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def affine_matrices(angles_deg: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """M x 2 x 3 matrices for ``F.affine_grid`` (they map output to input coordinates,
    normalised to [-1, 1] with ``align_corners=False``).

    Forward map in pixels relative to the centre (y down): p_out = R p_in + t with
    R = [[c, s], [-s, c]] (counter-clockwise on screen). Its inverse, rescaled to the
    normalised coordinates of a possibly non-square image, is what grid_sample needs.
    """
    a = angles_deg.to(torch.float64) * (math.pi / 180.0)
    c, s = torch.cos(a), torch.sin(a)
    tx = tx.to(torch.float64)
    ty = ty.to(torch.float64)
    hw, ww = height / 2.0, width / 2.0
    theta = torch.empty((a.shape[0], 2, 3), dtype=torch.float64)
    theta[:, 0, 0] = c
    theta[:, 0, 1] = -s * (hw / ww)
    theta[:, 0, 2] = (-c * tx + s * ty) / ww
    theta[:, 1, 0] = s * (ww / hw)
    theta[:, 1, 1] = c
    theta[:, 1, 2] = (-s * tx - c * ty) / hw
    return theta.to(torch.float32)


def rotate_translate(images: torch.Tensor, angles_deg: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor) -> torch.Tensor:
    """Transform each image ``images[i]`` by the i-th (angle, tx, ty)."""
    n, c, h, w = images.shape
    theta = affine_matrices(angles_deg.cpu(), tx.cpu(), ty.cpu(), h, w).to(images.device, images.dtype)
    grid = F.affine_grid(theta, [n, c, h, w], align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # Sampling at the identity is off by float rounding; the identity must reproduce the
    # clean input (and so the clean prediction) exactly.
    identity = ((angles_deg == 0) & (tx == 0) & (ty == 0)).to(images.device)
    return torch.where(identity.view(-1, 1, 1, 1), images, out)
