"""Resolving ``--arch`` for checkpoint files: what network to build, where its final layer
is (to read the class count from the file), and its default preprocessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from torch import nn

from visualizer.core.errors import ParameterError
from visualizer.core.models.architectures import EXAMPLE_NAMES, cifar_architecture, gray_architecture
from visualizer.core.models.common import make_preprocessing
from visualizer.core.models.wrapper import Preprocessing

ARCH_FORMS = ("timm:NAME", "torchvision:NAME") + EXAMPLE_NAMES + ("wrn-DEPTH-WIDTH",)


@dataclass
class ArchChoice:
    label: str                                    # as shown to the user, e.g. "wrn-28-10"
    build: Callable[[int], nn.Module]             # num_classes -> fresh random network
    default_num_classes: int
    preprocessing: Preprocessing                  # the architecture's usual input handling
    cifar_style: bool                             # takes [0, 1] pixels by RobustBench convention
    ignorable_prefixes: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)    # constructor arguments of our own architectures


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


def resolve_arch(arch: str | None) -> ArchChoice:
    if not arch or not arch.strip():
        raise ParameterError("A checkpoint file needs --arch to say which network it holds: "
                             f"one of {', '.join(ARCH_FORMS)}.")
    text = arch.strip()
    kind, sep, name = text.partition(":")
    if sep and kind.lower() == "timm":
        return _timm_arch(name.strip())
    if sep and kind.lower() in ("torchvision", "tv"):
        return _torchvision_arch(name.strip())
    gray = gray_architecture(text)
    if gray is not None:
        return ArchChoice(
            label=gray.name, build=gray.build, default_num_classes=10,
            preprocessing=make_preprocessing(input_size=gray.input_size, resize_size=gray.input_size,
                                             interpolation="bilinear", channels=gray.channels,
                                             mean=(0.0,) * gray.channels, std=(1.0,) * gray.channels),
            cifar_style=False, kwargs=gray.kwargs,
        )
    cifar = cifar_architecture(text)
    if cifar is None:
        raise ParameterError(f"Unknown architecture {arch!r}. Accepted: {', '.join(ARCH_FORMS)}.")
    return ArchChoice(
        label=cifar.name, build=cifar.build, default_num_classes=10,
        preprocessing=make_preprocessing(input_size=32, resize_size=32, interpolation="bilinear"),
        cifar_style=True, ignorable_prefixes=cifar.ignorable_prefixes,
    )


def _timm_arch(name: str) -> ArchChoice:
    import timm

    from visualizer.core.models.timm_hub import preprocessing_from_cfg, pretrained_cfg

    cfg = pretrained_cfg(name)
    pre, notes = preprocessing_from_cfg(cfg)

    def build(num_classes: int) -> nn.Module:
        return timm.create_model(name, pretrained=False, num_classes=num_classes)

    return ArchChoice(label=f"timm:{name}", build=build, default_num_classes=int(cfg.get("num_classes") or 1000),
                      preprocessing=pre, cifar_style=False, notes=notes)


def _torchvision_arch(name: str) -> ArchChoice:
    from visualizer.core.models import torchvision_hub as tv

    name = tv.check_name(name)
    weights = tv.default_weights(name)
    return ArchChoice(
        label=f"torchvision:{name}", build=lambda n: tv.build_architecture(name, n),
        default_num_classes=len(weights.meta.get("categories") or []) or 1000,
        preprocessing=tv.preprocessing_from_weights(weights), cifar_style=False,
        ignorable_prefixes=("AuxLogits.", "aux1.", "aux2."),
    )
