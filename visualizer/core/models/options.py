"""What the user may say about a model besides its spec (CLI flags, GUI fields)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LoadOptions:
    arch: str | None = None            # for ckpt: "timm:NAME" | "torchvision:NAME" | "wrn-28-10" | "preact-resnet18"
    num_classes: int | None = None
    input_size: int | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    labels: str | None = None          # "imagenet" | "cifar10" | "digits" | path to a file
    trust: bool = False                # allow full unpickling of THIS file
    device: str | None = None          # None/"auto" -> visualizer.core.device.pick_device
