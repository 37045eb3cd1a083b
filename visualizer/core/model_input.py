"""How a loaded image becomes a model's input, and how maps on that input go back onto the image.

``preprocess`` reproduces the standard evaluation pipeline of torchvision's
``Weights.transforms()`` and timm's ``create_transform(**resolve_data_config(...))`` applied to
a PIL image: 8-bit RGB (or 8-bit luma), shorter side resized with Pillow's antialiasing
filter, centre crop. It calls torchvision's own functional transforms on a Pillow image, so
the model sees exactly the 8-bit pixels its reference pipeline feeds it, and attacks start
on the 8-bit grid that a saved PNG can hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

if TYPE_CHECKING:  # annotations only: keeps this module free of the models package at import
    from visualizer.core.images import LoadedImage
    from visualizer.core.models.wrapper import Preprocessing

# Above this many resized pixels (extreme aspect ratios: a full resize would need gigabytes),
# only a window of the image around the centre crop is resized, with torch's antialiased
# interpolation (Pillow's filters in floating point) instead of Pillow itself.
MAX_RESIZED_PIXELS = 1 << 24
LEVELS = 255                       # model inputs are k / 255, k = 0..255
_CONVERT_ROWS_PIXELS = 1 << 20     # float -> 8-bit conversion in blocks of about this many pixels


@dataclass(frozen=True)
class CropGeometry:
    """Where the model's input square lies in the original image."""

    original_size: tuple[int, int]               # (width, height) of the loaded image
    resized_size: tuple[int, int]                # (width, height) after the aspect-preserving resize
    crop_box: tuple[int, int, int, int]          # (left, top, right, bottom) in resized pixels

    def box_in_original(self) -> tuple[float, float, float, float]:
        sx = self.original_size[0] / self.resized_size[0]
        sy = self.original_size[1] / self.resized_size[1]
        left, top, right, bottom = self.crop_box
        return (left * sx, top * sy, right * sx, bottom * sy)

    def to_dict(self) -> dict:
        return {
            "original_size": list(self.original_size),
            "resized_size": list(self.resized_size),
            "crop_box": list(self.crop_box),
            "box_in_original": list(self.box_in_original()),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "CropGeometry":
        return cls(original_size=tuple(d["original_size"]), resized_size=tuple(d["resized_size"]),
                   crop_box=tuple(d["crop_box"]))


def crop_geometry(width: int, height: int, resize_size: int, input_size: int) -> CropGeometry:
    """torchvision's Resize(int) sizes (shorter side to ``resize_size``, longer side
    ``int(size * long / short)``) and CenterCrop's anchor (``int(round((side - crop) / 2))``)."""
    size, crop = resize_size, input_size
    if width <= height:
        new_w, new_h = size, int(size * height / width)
    else:
        new_w, new_h = int(size * width / height), size
    top = int(round((new_h - crop) / 2.0))
    left = int(round((new_w - crop) / 2.0))
    return CropGeometry((width, height), (new_w, new_h), (left, top, left + crop, top + crop))


def preprocess(image: LoadedImage, pre: Preprocessing) -> tuple[torch.Tensor, CropGeometry]:
    """The model input for ``image``: 1 x C x S x S float32, every value k / 255 (an 8-bit level).

    As torchvision's weights transforms and timm's eval transform on a PIL image: the image
    as 8-bit RGB (sources with more bits per channel are rounded to 8 bits first), converted
    to 8-bit luma when ``pre.channels == 1`` (Pillow's ITU-R 601 "L"), shorter side resized to
    ``pre.resize_size`` with Pillow's ``pre.interpolation`` filter, centre ``pre.input_size``
    square cut out. Returns that tensor and the crop geometry.
    """
    geometry = crop_geometry(image.width, image.height, pre.resize_size, pre.input_size)
    new_w, new_h = geometry.resized_size
    if new_w * new_h <= MAX_RESIZED_PIXELS:
        levels = _reference_pipeline(image.pixels, pre)
    else:
        levels = _windowed(image.pixels, pre, geometry)
    return (levels.float() / LEVELS)[None].contiguous(), geometry


def preprocess_batch(x: torch.Tensor, pre: Preprocessing) -> torch.Tensor:
    """``preprocess`` for a batch of same-size images already in [0, 1] (a data set's batch):
    N x C x H x W (C = 1 or 3) -> N x pre.channels x S x S float32. An input already at the
    model's size and channel count is returned as it is (MNIST for the MNIST models: no copy);
    otherwise each image goes through the same 8-bit reference pipeline as an opened file,
    so a data set's example and the same picture opened in the window feed the model alike."""
    n, c, h, w = x.shape
    if (h, w) == (pre.input_size, pre.input_size) and c == pre.channels:
        return x
    hwc = x.detach().to("cpu", torch.float32).permute(0, 2, 3, 1).numpy()
    if c == 1:
        hwc = np.repeat(hwc, 3, axis=3)      # grey as three equal channels, as load_image makes it
    out = [_reference_pipeline(image, pre) for image in hwc]
    return (torch.stack(out).float() / LEVELS).to(x.device).contiguous()


def _reference_pipeline(pixels: np.ndarray, pre: Preprocessing) -> torch.Tensor:
    """torchvision's own functional transforms on a Pillow image; C x S x S uint8."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.v2 import functional as TF

    image = _to_pil(to_8bit(pixels), pre.channels)
    image = TF.resize(image, [pre.resize_size], interpolation=InterpolationMode(pre.interpolation), antialias=True)
    image = TF.center_crop(image, [pre.input_size, pre.input_size])
    return TF.pil_to_tensor(image)


def to_8bit(pixels: np.ndarray) -> np.ndarray:
    """H x W (x C) floats in [0, 1] -> uint8 levels round(255 x), in row blocks so a large
    image needs no image-sized float temporary."""
    out = np.empty(pixels.shape, dtype=np.uint8)
    rows = max(1, _CONVERT_ROWS_PIXELS // max(1, pixels.shape[1]))
    for start in range(0, pixels.shape[0], rows):
        out[start:start + rows] = np.rint(np.clip(pixels[start:start + rows], 0, 1) * np.float32(LEVELS))
    return out


def _to_pil(levels: np.ndarray, channels: int) -> Image.Image:
    """H x W x 3 uint8 -> a Pillow RGB image, or its 8-bit luma ("L") for one channel, as
    torchvision's Grayscale transform makes it."""
    from torchvision.transforms.v2 import functional as TF

    image = Image.fromarray(levels, "RGB")
    return TF.rgb_to_grayscale(image) if channels == 1 else image


def _windowed(pixels: np.ndarray, pre: Preprocessing, geometry: CropGeometry) -> torch.Tensor:
    """Resize only a window around the crop, with the exact scale size/short on both axes
    (the full-size path's long axis uses long/new_long instead, which differs by under half a
    resized pixel: fine for these extreme shapes). C x S x S uint8."""
    h, w = pixels.shape[:2]
    size, crop = pre.resize_size, pre.input_size
    left, top = geometry.crop_box[:2]
    short = min(w, h)
    step = short // math.gcd(short, size)      # window starts on multiples of this
    scale = size / short                       # land exactly on the resized grid
    if Fraction(scale) < Fraction(size, short):
        scale = math.nextafter(scale, math.inf)  # so floor(short * scale) == size
    y0, y1, oy = _window(h, top, crop, size, short, step)
    x0, x1, ox = _window(w, left, crop, size, short, step)
    window = np.asarray(_to_pil(to_8bit(pixels[y0:y1, x0:x1]), pre.channels))
    src = torch.from_numpy(window.reshape(*window.shape[:2], -1).copy()).permute(2, 0, 1).float()
    # As Pillow: rows first, then columns, each pass rounded to 8 bits (Pillow keeps the
    # intermediate image in 8 bits, which clips a bicubic filter's overshoot).
    x = _interpolate(src[None], pre.interpolation, (1.0, scale))
    x = _interpolate(x, pre.interpolation, (scale, 1.0))
    return x[0, :, top - oy:top - oy + crop, left - ox:left - ox + crop].to(torch.uint8)


def _interpolate(x: torch.Tensor, mode: str, scale: tuple[float, float]) -> torch.Tensor:
    """One resampling pass of N x C x H x W levels, rounded back onto the 8-bit levels."""
    smooth = mode in ("bilinear", "bicubic")
    # Pillow samples at pixel centres: torch's "nearest-exact", not its legacy "nearest".
    kwargs = dict(mode=mode, antialias=True, align_corners=False) if smooth else dict(mode="nearest-exact")
    # recompute_scale_factor=False: map coordinates with exactly this scale.
    out = F.interpolate(x, scale_factor=scale, recompute_scale_factor=False, **kwargs)
    return out.round_().clamp_(0, LEVELS)


def _window(length: int, start: int, crop: int, size: int, short: int, step: int) -> tuple[int, int, int]:
    """Source range [a, b) along one axis whose resize covers resized pixels
    [start, start + crop), and the resized offset of a. ``a`` is a multiple of
    ``step`` so that offset is a whole pixel."""
    inv = short / size                        # source pixels per resized pixel
    margin = 2 * max(1.0, inv) + 2           # widest kernel (antialiased bicubic) plus slack
    lo = (start + 0.5) * inv - 0.5 - margin
    hi = (start + crop - 0.5) * inv - 0.5 + margin
    a = max(0, math.floor(lo / step) * step)
    b = min(length, math.ceil(hi) + 1)
    return a, b, a * size // short


def map_to_original(values: np.ndarray | torch.Tensor, geometry: CropGeometry,
                    fill: float = np.nan, scale: int = 1) -> np.ndarray:
    """Resample a map on the model's input crop (bilinear) onto the original image grid,
    optionally ``scale`` times finer (so a 32 px model's map of an 8 px image keeps its detail).

    ``values`` is h x w (any leading size-1 dimensions are dropped); it is taken to
    cover the crop box exactly. Returns (H*scale) x (W*scale) float32; pixels whose centres
    fall outside the crop box get ``fill``.
    """
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    v = np.asarray(values, dtype=np.float32)
    while v.ndim > 2 and v.shape[0] == 1:
        v = v[0]
    if v.ndim != 2:
        raise ValueError(f"map_to_original needs a 2-D map, got shape {v.shape}")
    width, height = geometry.original_size
    left, top, right, bottom = geometry.box_in_original()
    cols, x0, x1, fx = _axis_samples(width, left, right, v.shape[1], scale)
    rows, y0, y1, fy = _axis_samples(height, top, bottom, v.shape[0], scale)
    out = np.full((height * scale, width * scale), fill, dtype=np.float32)
    if cols.size and rows.size:
        band = v[y0] * (1 - fy)[:, None] + v[y1] * fy[:, None]          # rows first...
        out[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] = band[:, x0] * (1 - fx) + band[:, x1] * fx
    return out


def _axis_samples(n: int, lo: float, hi: float, m: int, scale: int = 1):
    """Output pixels (by centre, in original coordinates) inside [lo, hi) and their bilinear
    taps in a map of m pixels; the output has n * scale pixels along this axis."""
    centres = (np.arange(n * scale, dtype=np.float64) + 0.5) / scale
    inside = np.nonzero((centres >= lo) & (centres < hi))[0]
    t = (centres[inside] - lo) / (hi - lo) * m - 0.5   # continuous map pixel index
    t = np.clip(t, 0, m - 1)
    i0 = np.floor(t).astype(np.int64)
    i1 = np.minimum(i0 + 1, m - 1)
    return inside, i0, i1, (t - i0).astype(np.float32)
