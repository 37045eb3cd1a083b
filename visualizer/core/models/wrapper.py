"""The one shape every model takes for the rest of the engine: pixels in [0, 1]
(N x C x H x W float, at the model's input size) in, logits out.

Normalisation lives inside the wrapper so attacks, sweeps and saliency all work in
pixel space and their epsilons mean the same thing for every model.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
# What a network's raw outputs are; the load-time probe decides (core/models/probe.py).
OUTPUT_KINDS = ("logits", "probabilities", "log-probabilities")


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes this model's input.

    The image is resized so its shorter side is ``resize_size`` (keeping the aspect
    ratio), then the centre ``input_size`` x ``input_size`` square is cut out.
    ``resize_size == input_size`` means "shorter side to input size, then centre crop".
    ``mean``/``std`` are applied inside the model wrapper, not to the pixels.
    """

    input_size: int
    resize_size: int
    interpolation: str = "bilinear"
    channels: int = 3
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, not {self.interpolation!r}")
        if self.channels not in (1, 3):
            raise ValueError("channels must be 1 (grayscale) or 3 (RGB)")
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError(f"mean and std need {self.channels} values each")
        if any(s <= 0 for s in self.std):
            raise ValueError("std values must be positive")
        if self.input_size < 1 or self.resize_size < self.input_size:
            raise ValueError("need 1 <= input_size <= resize_size")

    @classmethod
    def imagenet_default(cls, input_size: int = 224, crop_pct: float = 0.875, interpolation: str = "bilinear",
                         mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)) -> "Preprocessing":
        resize = max(input_size, int(round(input_size / crop_pct)))
        return cls(input_size=input_size, resize_size=resize, interpolation=interpolation,
                   mean=tuple(float(m) for m in mean), std=tuple(float(s) for s in std))

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ModelInfo:
    """What a loaded model is and where it came from (recorded in every result)."""

    model_id: str
    source: str                      # bundled | torchvision | timm | checkpoint | torchscript
    architecture: str
    preprocessing: Preprocessing
    class_names: list[str]
    weights_path: str | None = None
    weights_sha256: str | None = None
    description: str = ""
    notes: list[str] = field(default_factory=list)
    outputs: str = "logits"          # one of OUTPUT_KINDS: what the network itself returns
    deterministic: bool | None = None  # same outputs for the same images, no state change (None: not checked)
    arch_kwargs: dict = field(default_factory=dict)  # constructor flags the network was built with

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def warnings(self) -> list[str]:
        """The notes the user must see (shown as warnings by the CLI and the window), without
        their "Warning: " prefix, each naming the model (for result.json's warnings)."""
        return [f"{self.model_id}: {n[len('Warning: '):]}" for n in self.notes if n.startswith("Warning: ")]

    def to_dict(self) -> dict:
        return {
            "id": self.model_id,
            "source": self.source,
            "architecture": self.architecture,
            "num_classes": self.num_classes,
            "preprocessing": self.preprocessing.to_dict(),
            "weights_path": self.weights_path,
            "weights_sha256": self.weights_sha256,
            "description": self.description,
            "notes": list(self.notes),
            "outputs": self.outputs,
            "deterministic": self.deterministic,
            "arch_kwargs": dict(self.arch_kwargs),
        }


class ClassifierModel(nn.Module):
    """``net`` preceded by normalisation: forward takes [0, 1] pixels and returns logits.

    A network that ends in a softmax (or log-softmax) gets the log of its outputs as its
    logits (``info.outputs``), so softmax(logits) is the network's own probabilities and
    cross-entropy is the usual loss, instead of a softmax of probabilities.

    The wrapped network is put in eval mode and its parameters are frozen: attacks need
    gradients with respect to the input only, and frozen weights save the memory and
    time of parameter gradients.
    """

    def __init__(self, net: nn.Module, info: ModelInfo):
        super().__init__()
        self.net = net
        self.info = info
        pre = info.preprocessing
        self.register_buffer("mean", torch.tensor(pre.mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(pre.std, dtype=torch.float32).view(1, -1, 1, 1))
        self.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        # Set when the network runs in channels-last layout (layout.prefer_channels_last).
        self.channels_last = False

    def train(self, mode: bool = True) -> "ClassifierModel":
        # Always evaluation mode: batch-norm statistics must not move during attacks.
        return super().train(False)

    @property
    def device(self) -> torch.device:
        for t in self.buffers():
            return t.device
        return torch.device("cpu")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        pre = self.info.preprocessing
        return (pre.channels, pre.input_size, pre.input_size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        if self.channels_last and pixels.requires_grad:
            pixels = _GradientInInputLayout.apply(pixels)
        return as_logits(self.net((pixels - self.mean) / self.std), self.info.outputs)


class _GradientInInputLayout(torch.autograd.Function):
    """Identity whose backward returns the gradient in the input's own memory layout.

    A channels-last network (layout.py) hands back input gradients in channels-last layout
    even for a contiguous input, and ``grad.view(n, -1)`` then fails (torchattacks' PGDL2
    does exactly that). One copy per backward pass keeps every caller's gradient shaped like
    its input; when the layouts already agree nothing is copied."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.layout = torch.channels_last if x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(
            memory_format=torch.channels_last) else torch.contiguous_format
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous(memory_format=ctx.layout)


def as_logits(scores: torch.Tensor, outputs: str) -> torch.Tensor:
    """Logits (N x classes) from a network's ``outputs``: probabilities -> their log,
    log-probabilities as they are. Both are clamped at the log of the smallest normal
    number of their dtype (-87.3 in float32), so a probability that underflowed to 0
    gives a finite logit rather than -inf (whose gradients would be NaN)."""
    if outputs == "logits" or not scores.is_floating_point():
        return scores
    floor = torch.finfo(scores.dtype).tiny
    if outputs == "probabilities":
        return scores.clamp_min(floor).log()
    return scores.clamp_min(math.log(floor))


def sha256_of_file(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def class_index(name_or_index: str | int, class_names: Sequence[str], owner: str = "this model") -> int:
    """Resolve a class given as an index or as a unique exact name (case-insensitive).
    ``owner`` names whose classes they are in the messages ("this model", "the data").
    Raises ParameterError for an index out of range, an unknown or an ambiguous name."""
    from visualizer.core.errors import ParameterError

    text = str(name_or_index).strip()
    if text.lstrip("-").isdigit():
        idx = int(text)
        if not 0 <= idx < len(class_names):
            raise ParameterError(f"Class index {idx} is out of range: {owner} has {len(class_names)} classes "
                                 f"(0-{len(class_names) - 1}).")
        return idx
    matches = [i for i, n in enumerate(class_names) if n.lower() == text.lower()]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ParameterError(f"Class name {text!r} is ambiguous: it matches indices {matches}; give the index instead.")
    near = [f"{i} ({n})" for i, n in enumerate(class_names) if text.lower() in n.lower()][:8]
    hint = f" Similar: {', '.join(near)}." if near else ""
    raise ParameterError(f"No class named {text!r} in {owner}'s {len(class_names)} classes.{hint}")
