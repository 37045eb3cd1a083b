"""Architectures we define ourselves, for checkpoints whose models are not in timm or
torchvision: the CIFAR-10 networks of the robustness literature, and, in digits_cnn.py, the
bundled demo CNN, also the 28x28 grayscale ``mnist-cnn`` networks ``visualizer train`` builds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from torch import nn


@dataclass(frozen=True)
class CifarArchitecture:
    name: str
    build: Callable[[int], nn.Module]       # num_classes -> fresh network
    classifier_key: str                     # state-dict key of the final layer's weight
    # Keys some published checkpoints carry for modules the forward pass never uses
    # (TRADES-era WRN code defined an unused "sub_block1").
    ignorable_prefixes: tuple[str, ...] = ()


_WRN = re.compile(r"^(?:wrn|wide-?resnet)-?(\d+)-(\d+)$")
_PREACT18 = {"preact-resnet18", "preactresnet18", "preact-resnet-18", "preact_resnet18"}

EXAMPLE_NAMES = ("wrn-28-10", "wrn-34-10", "preact-resnet18", "mnist-cnn", "mnist-cnn-wide")


@dataclass(frozen=True)
class GrayArchitecture:
    """A network for 28x28 grayscale images fed as [0, 1] pixels (MNIST, Fashion-MNIST)."""

    name: str
    build: Callable[[int], nn.Module]       # num_classes -> fresh network
    kwargs: dict                            # constructor arguments besides num_classes, for model cards
    input_size: int = 28
    channels: int = 1


def gray_architecture(name: str) -> GrayArchitecture | None:
    """``mnist-cnn`` or ``mnist-cnn-wide`` (see digits_cnn.py), else None."""
    from visualizer.core.models.architectures.digits_cnn import MNIST_VARIANTS, build_digits_cnn

    key = name.strip().lower()
    if key not in MNIST_VARIANTS:
        return None
    kwargs = dict(MNIST_VARIANTS[key])
    return GrayArchitecture(key, lambda num_classes: build_digits_cnn(num_classes=num_classes, **kwargs), kwargs,
                            input_size=kwargs["input_size"])


def cifar_architecture(name: str) -> CifarArchitecture | None:
    """The architecture called ``name`` ("wrn-DEPTH-WIDTH" or "preact-resnet18"), else None."""
    key = name.strip().lower()
    match = _WRN.match(key)
    if match:
        depth, width = int(match.group(1)), int(match.group(2))
        if (depth - 4) % 6 != 0 or depth < 10 or width < 1:
            return None

        def build(num_classes: int) -> nn.Module:
            from visualizer.core.models.architectures.wide_resnet import wide_resnet

            return wide_resnet(depth, width, num_classes)

        return CifarArchitecture(f"wrn-{depth}-{width}", build, "fc.weight", ("sub_block1.",))
    if key in _PREACT18:
        def build18(num_classes: int) -> nn.Module:
            from visualizer.core.models.architectures.preact_resnet import preact_resnet18

            return preact_resnet18(num_classes)

        return CifarArchitecture("preact-resnet18", build18, "linear.weight")
    return None
