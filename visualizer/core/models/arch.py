"""Resolving ``--arch`` for checkpoint files: what network to build (and with which
constructor flags), where its final layer is (to read the class count from the file), and
its default preprocessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch
from torch import nn

from visualizer.core.errors import ModelLoadError, ParameterError, VisualizerError
from visualizer.core.models.architectures import EXAMPLE_NAMES, cifar_architecture, gray_architecture
from visualizer.core.models.common import make_preprocessing
from visualizer.core.models.wrapper import Preprocessing

ARCH_FORMS = ("timm:NAME", "torchvision:NAME") + EXAMPLE_NAMES + ("wrn-DEPTH-WIDTH", "py:PATH.py:NAME")
# (file tensors, --arch-kwargs) -> (constructor flags, notes on what was read or assumed)
FlagReader = Callable[[Mapping[str, torch.Tensor], dict], "tuple[dict, list[str]]"]


@dataclass
class ArchChoice:
    label: str                                    # as shown to the user, e.g. "wrn-28-10"
    build: Callable[..., nn.Module]               # (num_classes, **flags) -> fresh random network
    default_num_classes: int                      # 0: the constructor decides (py: architectures)
    preprocessing: Preprocessing                  # the architecture's usual input handling
    cifar_style: bool                             # takes [0, 1] pixels by RobustBench convention
    ignorable_prefixes: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    fixed_kwargs: dict = field(default_factory=dict)  # what our own architectures are always built with (cards)
    user_flags: dict = field(default_factory=dict)    # --arch-kwargs
    flags: dict = field(default_factory=dict)         # what the network is built with (set by read_file)
    read_flags: FlagReader | None = None
    input_known: bool = True                      # False: nothing is known about the input (py:)
    own_input: bool = False                       # this project's own network: [0, 1] pixels in by definition

    def read_file(self, tensors: Mapping[str, torch.Tensor]) -> None:
        """Settle the constructor flags from the file's tensors and --arch-kwargs."""
        if self.read_flags is None:
            self.flags = dict(self.user_flags)
            return
        self.flags, notes = self.read_flags(tensors, self.user_flags)
        self.notes += notes

    def make(self, num_classes: int) -> nn.Module:
        """A fresh network; ModelLoadError (with the flags) if its constructor fails."""
        try:
            return self.build(num_classes, **self.flags)
        except VisualizerError:
            raise
        except Exception as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in self.flags.items())
            first = (str(exc).strip().splitlines() or [""])[0]
            raise ModelLoadError(f"{self.label} could not be built" + (f" with {shown}" if shown else "")
                                 + f": {type(exc).__name__}: {first}"
                                 + (" Check --arch-kwargs." if self.user_flags else "")) from exc


def classifier_key(net: nn.Module) -> str | None:
    """State-dict key of the final layer's weight: timm names it; otherwise the last
    Linear (or, for nets like SqueezeNet, the last 1x1 convolution)."""
    get_cfg = getattr(net, "pretrained_cfg", None) or {}
    head = get_cfg.get("classifier") if isinstance(get_cfg, dict) else None
    own = net.state_dict()
    if isinstance(head, str) and f"{head}.weight" in own:
        return f"{head}.weight"
    last_linear = last_conv = None
    for mod_name, module in net.named_modules():
        if isinstance(module, nn.Linear):
            last_linear = mod_name
        elif isinstance(module, nn.Conv2d):
            last_conv = mod_name
    chosen = last_linear if last_linear is not None else last_conv
    return f"{chosen}.weight" if chosen is not None and f"{chosen}.weight" in own else None


def resolve_arch(arch: str | None, kwargs: dict | None = None, trust: bool = False) -> ArchChoice:
    """The architecture ``arch`` names, to be built with ``kwargs`` (--arch-kwargs). A py:
    architecture runs its file here, and only with ``trust``."""
    if not arch or not arch.strip():
        raise ParameterError("A checkpoint file needs --arch to say which network it holds: "
                             f"one of {', '.join(ARCH_FORMS)}.")
    text = arch.strip()
    kwargs = dict(kwargs or {})
    kind, sep, name = text.partition(":")
    kind = kind.strip().lower() if sep else ""
    if kind == "py":
        from visualizer.core.models.user_arch import py_arch

        return py_arch(text, kwargs, trust)
    if kind in ("timm", "torchvision", "tv") and "num_classes" in kwargs:
        raise ParameterError("--arch-kwargs cannot set num_classes: the class count is read from the file's final "
                             "layer (or give --num-classes).")
    if kind == "timm":
        return _timm_arch(name.strip(), kwargs)
    if kind in ("torchvision", "tv"):
        return _torchvision_arch(name.strip(), kwargs)
    gray = gray_architecture(text)
    if gray is not None:
        if kwargs:
            raise ParameterError(f"--arch-kwargs does not apply to {gray.name}, which takes no options; it applies "
                                 "to timm:, torchvision: and py: architectures.")
        return ArchChoice(
            label=gray.name, build=lambda n: gray.build(n), default_num_classes=10,
            preprocessing=make_preprocessing(input_size=gray.input_size, resize_size=gray.input_size,
                                             interpolation="bilinear", channels=gray.channels,
                                             mean=(0.0,) * gray.channels, std=(1.0,) * gray.channels),
            cifar_style=False, fixed_kwargs=gray.kwargs, own_input=True,
        )
    cifar = cifar_architecture(text)
    if cifar is None:
        raise ParameterError(f"Unknown architecture {arch!r}. Accepted: {', '.join(ARCH_FORMS)}.")
    if kwargs:
        raise ParameterError(f"--arch-kwargs does not apply to {cifar.name}, which takes no options; it applies to "
                             "timm:, torchvision: and py: architectures.")
    return ArchChoice(
        label=cifar.name, build=lambda n: cifar.build(n), default_num_classes=10,
        preprocessing=make_preprocessing(input_size=32, resize_size=32, interpolation="bilinear"),
        cifar_style=True, ignorable_prefixes=cifar.ignorable_prefixes,
    )


def _timm_arch(name: str, kwargs: dict) -> ArchChoice:
    import timm

    from visualizer.core.models.arch_flags import timm_flags
    from visualizer.core.models.timm_hub import preprocessing_from_cfg, pretrained_cfg

    cfg = pretrained_cfg(name)
    pre, notes = preprocessing_from_cfg(cfg)

    def build(num_classes: int, **flags) -> nn.Module:
        return timm.create_model(name, pretrained=False, num_classes=num_classes, **flags)

    return ArchChoice(label=f"timm:{name}", build=build, default_num_classes=int(cfg.get("num_classes") or 1000),
                      preprocessing=pre, cifar_style=False, notes=notes, user_flags=kwargs,
                      # timm's inception_v3 returns (logits, aux) with its aux head even in eval mode:
                      # build it without the head and leave the head's weights aside.
                      ignorable_prefixes=("AuxLogits.",),
                      read_flags=lambda tensors, user: timm_flags(cfg, tensors, user))


def _torchvision_arch(name: str, kwargs: dict) -> ArchChoice:
    from visualizer.core.models import torchvision_hub as tv
    from visualizer.core.models.arch_flags import torchvision_flags

    name = tv.check_name(name)
    weights = tv.default_weights(name)
    return ArchChoice(
        label=f"torchvision:{name}", build=lambda n, **flags: tv.build_architecture(name, n, **flags),
        default_num_classes=len(weights.meta.get("categories") or []) or 1000,
        preprocessing=tv.preprocessing_from_weights(weights), cifar_style=False,
        ignorable_prefixes=("AuxLogits.", "aux1.", "aux2."), user_flags=kwargs,
        read_flags=lambda tensors, user: torchvision_flags(name, tensors, user),
    )
