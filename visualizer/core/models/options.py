"""What the user may say about a model besides its spec (CLI flags, GUI fields)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LoadOptions:
    arch: str | None = None            # for ckpt: "timm:NAME" | "torchvision:NAME" | "wrn-28-10" | "py:PATH.py:NAME"
    arch_kwargs: dict | None = None    # keyword arguments for the --arch constructor (JSON object)
    num_classes: int | None = None
    input_size: int | None = None
    channels: int | None = None        # 1 or 3; None: what the source or the network's first layer says
    mean: tuple[float, ...] | None = None   # one value (every channel) or one per channel
    std: tuple[float, ...] | None = None
    labels: str | None = None          # "imagenet" | "cifar10" | "digits" | path to a file
    trust: bool = False                # allow code from THIS model to run: full unpickling, a py: architecture
    device: str | None = None          # None/"auto" -> visualizer.core.device.pick_device
