"""Backdoor triggers: one spec grammar, one function that stamps them.

    patch:checker:SIZE[:POS]    a SIZE x SIZE black-and-white checkerboard (BadNets, Gu et al. 2017)
    patch:square:SIZE[:POS]     a white SIZE x SIZE square
    patch:FILE:SIZE[:POS]       your own image, resized to SIZE x SIZE (nearest neighbour)
    blend:FILE:ALPHA            your image resized to the whole image, blended in with weight
                                ALPHA (Chen et al. 2017): x' = (1 - ALPHA) x + ALPHA t
    blend:noise:ALPHA           the same with a fixed uniform-noise image (seed 0)
    FILE                        an image file alone: a patch of the file's own size at br

POS: br (default), bl, tr, tl, center, or X,Y (the patch's top-left pixel). Corner patches
sit one pixel from the border. Every trigger is a pattern t and a mask m (1 inside a patch,
ALPHA everywhere for a blend), applied as x' = (1 - m) x + m t, by ``apply_trigger`` alone,
at training and at test time alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from visualizer.core.errors import ParameterError, VisualizerError

TRIGGER_FORMS = ("patch:checker:SIZE[:POS]", "patch:square:SIZE[:POS]", "patch:FILE:SIZE[:POS]",
                 "blend:FILE:ALPHA", "blend:noise:ALPHA", "FILE")
POSITIONS = ("br", "bl", "tr", "tl", "center")
CORNER_MARGIN = 1
NOISE_SEED = 0


@dataclass(frozen=True)
class Trigger:
    """A parsed trigger spec; ``pattern_and_mask`` makes it for one image shape."""

    kind: str                       # patch | blend
    pattern: str                    # checker | square | noise | an image file path
    size: int = 0                   # patch side in pixels
    position: str = "br"            # one of POSITIONS, or "X,Y"
    alpha: float = 1.0              # blend weight

    def spec(self) -> str:
        if self.kind == "blend":
            return f"blend:{self.pattern}:{self.alpha:g}"
        return f"patch:{self.pattern}:{self.size}:{self.position}"

    def describe(self) -> str:
        if self.kind == "blend":
            what = "uniform noise" if self.pattern == "noise" else Path(self.pattern).name
            return f"{what} blended in at alpha {self.alpha:g}"
        what = {"checker": "checkerboard", "square": "white square"}.get(self.pattern, Path(self.pattern).name)
        return f"{self.size}x{self.size} {what} patch at {self.position}"

    def pattern_and_mask(self, shape: tuple[int, int, int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(pattern C x H x W, mask 1 x H x W), both float32 in [0, 1], for images of
        ``shape`` = (C, H, W). Raises ParameterError when a patch does not fit."""
        c, h, w = shape
        pattern = torch.zeros(c, h, w)
        mask = torch.zeros(1, h, w)
        if self.kind == "blend":
            if self.pattern == "noise":
                pattern = torch.rand(c, h, w, generator=torch.Generator().manual_seed(NOISE_SEED))
            else:
                pattern = _image_pattern(self.pattern, c, h, w)
            mask.fill_(self.alpha)
            return pattern, mask
        s = self.size
        if s > min(h, w):
            raise ParameterError(f"Trigger {self.spec()}: a {s}x{s} patch does not fit {w}x{h} images.")
        top, left = self._corner(h, w)
        if self.pattern == "checker":
            rows = torch.arange(s).view(-1, 1)
            cols = torch.arange(s).view(1, -1)
            tile = ((rows + cols) % 2 == 0).float()   # white top-left square, as in BadNets' figure
            tile = tile.expand(c, s, s)
        elif self.pattern == "square":
            tile = torch.ones(c, s, s)
        else:
            tile = _image_pattern(self.pattern, c, s, s)
        pattern[:, top:top + s, left:left + s] = tile
        mask[:, top:top + s, left:left + s] = 1.0
        return pattern, mask

    def _corner(self, h: int, w: int) -> tuple[int, int]:
        s, m = self.size, CORNER_MARGIN
        if self.position in POSITIONS:
            far_h, far_w = max(h - s - m, 0), max(w - s - m, 0)
            near_h, near_w = min(m, h - s), min(m, w - s)
            return {"br": (far_h, far_w), "bl": (far_h, near_w), "tr": (near_h, far_w), "tl": (near_h, near_w),
                    "center": ((h - s) // 2, (w - s) // 2)}[self.position]
        x, y = (int(v) for v in self.position.split(","))
        if x + s > w or y + s > h:
            raise ParameterError(f"Trigger {self.spec()}: a {s}x{s} patch at x={x}, y={y} leaves {w}x{h} images.")
        return y, x


def _image_pattern(path: str, c: int, h: int, w: int) -> torch.Tensor:
    """A trigger image file as C x H x W pixels (nearest-neighbour resize, grey = mean of RGB)."""
    from visualizer.core.images import load_image

    try:
        rgb = load_image(path).to_tensor()
    except VisualizerError as exc:
        raise ParameterError(f"Trigger image: {exc}") from None
    pixels = rgb.mean(0, keepdim=True) if c == 1 else rgb
    if c not in (1, 3):
        raise ParameterError(f"Trigger images work on 1- or 3-channel data, not {c} channels.")
    return F.interpolate(pixels.unsqueeze(0), size=(h, w), mode="nearest")[0]


def _positive_int(text: str, spec: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise ParameterError(f"Trigger {spec!r}: the patch size must be a whole number of pixels >= 1, not {text!r}.")
    return int(text)


def _position(text: str, spec: str) -> str:
    text = text.strip().lower()
    if text in POSITIONS:
        return text
    parts = text.split(",")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        return ",".join(p.strip() for p in parts)
    raise ParameterError(f"Trigger {spec!r}: position {text!r} is not one of {', '.join(POSITIONS)} or X,Y.")


def parse_trigger(spec: str) -> Trigger:
    """A Trigger from its spec (see the module docstring). Raises ParameterError with the
    accepted forms for anything else; an image file named in the spec must exist."""
    text = (spec or "").strip()
    forms = "; ".join(TRIGGER_FORMS)
    head, _, rest = text.partition(":")
    head = head.lower()
    if head == "patch":
        parts = rest.split(":")
        # a Windows path (C:\...) holds a colon: the size (and position) are the last fields
        if len(parts) >= 3 and parts[-2].strip().isdigit():
            pattern, size, position = ":".join(parts[:-2]), parts[-2], parts[-1]
        elif len(parts) >= 2:
            pattern, size, position = ":".join(parts[:-1]), parts[-1], "br"
        else:
            raise ParameterError(f"Trigger {spec!r}: a patch is patch:PATTERN:SIZE[:POS] (e.g. patch:checker:4:br).")
        pattern = pattern.strip()
        if pattern.lower() in ("checker", "checkerboard", "square"):
            pattern = "square" if pattern.lower() == "square" else "checker"
        else:
            _must_exist(pattern, spec)
        return Trigger("patch", pattern, _positive_int(size, spec), _position(position, spec))
    if head == "blend":
        pattern, sep, alpha_text = rest.rpartition(":")
        if not sep or not pattern.strip():
            raise ParameterError(f"Trigger {spec!r}: a blend is blend:FILE:ALPHA or blend:noise:ALPHA.")
        try:
            alpha = float(alpha_text)
        except ValueError:
            alpha = -1.0
        if not 0 < alpha <= 1:
            raise ParameterError(f"Trigger {spec!r}: the blend weight must be a number in (0, 1], not {alpha_text!r}.")
        pattern = pattern.strip()
        if pattern.lower() != "noise":
            _must_exist(pattern, spec)
        return Trigger("blend", pattern.lower() if pattern.lower() == "noise" else pattern, alpha=alpha)
    if text and Path(text).expanduser().is_file():
        from visualizer.core.images import load_image

        try:
            image = load_image(Path(text).expanduser())
        except VisualizerError as exc:
            raise ParameterError(f"Trigger image: {exc}") from None
        if image.width != image.height:
            raise ParameterError(f"Trigger {spec!r}: an image used alone is a square patch; this one is "
                                 f"{image.width}x{image.height} (use patch:FILE:SIZE to resize it).")
        return Trigger("patch", str(Path(text).expanduser()), image.width, "br")
    raise ParameterError(f"Unknown trigger {spec!r}: write one of {forms}.")


def _must_exist(path: str, spec: str) -> None:
    if not Path(path).expanduser().is_file():
        raise ParameterError(f"Trigger {spec!r}: {path!r} is neither checker, square nor an image file that exists.")


def apply_trigger(pixels: torch.Tensor, trigger: Trigger) -> torch.Tensor:
    """Stamp ``trigger`` on N x C x H x W pixels in [0, 1]; returns a new tensor."""
    pattern, mask = trigger.pattern_and_mask(tuple(pixels.shape[1:]))
    pattern, mask = pattern.to(pixels.device), mask.to(pixels.device)
    return pixels * (1 - mask) + pattern * mask


def stamp_images(images: torch.Tensor, trigger: Trigger) -> torch.Tensor:
    """``apply_trigger`` on stored images: uint8 (0..255, rounded back to bytes, as a saved
    poisoned file would be) or float32 pixels in [0, 1]. The one path by which triggers
    reach both the poisoned training set and the triggered test set."""
    if images.dtype == torch.uint8:
        stamped = apply_trigger(images.float() / 255, trigger)
        return torch.round(stamped.clamp(0, 1) * 255).to(torch.uint8)
    return apply_trigger(images.float(), trigger).clamp(0, 1).to(images.dtype)
