"""Constructor flags a state dict cannot fully reveal, for ``--arch torchvision:NAME`` and
``--arch timm:NAME``: what each flag is set to, read from the file where its keys or shapes
show it, stated as an assumption in the model notes where they cannot, and overridable
with ``--arch-kwargs``.

Flags that change the evaluation forward pass, checked against torchvision 0.2x / timm 1.x:

- torchvision ``inception_v3`` and ``googlenet``: ``transform_input`` re-normalises the input
  inside the network (ImageNet statistics -> [-1, 1]). torchvision sets it to True for its
  pretrained weights (and so for anything fine-tuned from them) but ``weights=None`` gives
  False. No weight depends on it: assumed True, stated in the notes. ``aux_logits`` only
  adds weights (``AuxLogits.*``, ``aux1.*``/``aux2.*``); read from the file.
- torchvision ``vit_*``: ``image_size`` sets the position-embedding length; read from
  ``encoder.pos_embedding`` (and the default input size follows it).
- timm: ``in_chans`` shows in the first convolution's weight shape; read from the file.
  timm has no transform_input equivalent (its inception_v3 normalises through its config);
  its inception_v3 ``aux_logits`` would make even the eval forward return a tuple, so it is
  built without, and the file's ``AuxLogits.*`` weights are left aside (arch.py).
- Flags with no weights that every classifier leaves at their default (torchvision ResNet's
  ``replace_stride_with_dilation``, MobileNetV3's ``dilated``, timm's ``output_stride`` and
  ``global_pool`` "avg" vs "max") are not noted on every load; ``--arch-kwargs`` sets them.
"""

from __future__ import annotations

import math
from typing import Mapping

import torch

# As torchvision builds them for its pretrained weights: no auxiliary heads unless the file
# has their weights, inputs converted internally from ImageNet normalisation.
TORCHVISION_DEFAULTS = {
    "inception_v3": {"aux_logits": False, "init_weights": False, "transform_input": True},
    "googlenet": {"aux_logits": False, "init_weights": False, "transform_input": True},
}
_AUX_KEYS = {"inception_v3": ("AuxLogits.",), "googlenet": ("aux1.", "aux2.")}
_DEFAULT_VIT_SIZE = 224


def _has_key(tensors: Mapping[str, torch.Tensor], part: str) -> bool:
    # Keys may carry wrapper prefixes ("module.", "model."): look for the part anywhere after a dot.
    return any(k.startswith(part) or f".{part}" in k for k in tensors)


def _ending(tensors: Mapping[str, torch.Tensor], suffix: str) -> torch.Tensor | None:
    for key, value in tensors.items():
        if key == suffix or key.endswith("." + suffix):
            return value
    return None


def torchvision_flags(name: str, tensors: Mapping[str, torch.Tensor], user: dict) -> tuple[dict, list[str]]:
    """Constructor keyword arguments for torchvision ``name`` given the file's tensors and
    the user's --arch-kwargs (which win), and notes on what was read or assumed."""
    flags = dict(TORCHVISION_DEFAULTS.get(name, {}))
    notes: list[str] = []
    if name in _AUX_KEYS:
        flags["aux_logits"] = any(_has_key(tensors, part) for part in _AUX_KEYS[name])
        if "transform_input" not in user:
            notes.append(
                f"torchvision:{name} is built with transform_input=True, as torchvision does for its pretrained "
                "weights (the network converts its ImageNet-normalised input to [-1, 1] itself). A network made "
                f"with {name}(weights=None) has transform_input=False, and the file cannot tell which: if it was "
                "trained from scratch, pass --arch-kwargs '{\"transform_input\": false}'.")
    if name.startswith("vit_") and "image_size" not in user:
        size = _vit_image_size(name, _ending(tensors, "encoder.pos_embedding"))
        if size is not None and size != _DEFAULT_VIT_SIZE:
            flags["image_size"] = size
            notes.append(f"Built for {size}x{size} inputs, read from the file's position embedding.")
    flags.update(user)
    return flags, notes


def _vit_image_size(name: str, pos: torch.Tensor | None) -> int | None:
    patch = name.rsplit("_", 1)[-1]
    if pos is None or pos.dim() != 3 or not patch.isdigit():
        return None
    side = math.isqrt(pos.shape[1] - 1)     # one class token, then a side x side grid of patches
    return side * int(patch) if side * side == pos.shape[1] - 1 else None


def timm_flags(cfg: dict, tensors: Mapping[str, torch.Tensor], user: dict) -> tuple[dict, list[str]]:
    """Constructor keyword arguments for a timm model with pretrained config ``cfg``."""
    flags: dict = {}
    notes: list[str] = []
    first = cfg.get("first_conv")
    weight = _ending(tensors, f"{first}.weight") if isinstance(first, str) else None
    if "in_chans" not in user and weight is not None and weight.dim() == 4 and weight.shape[1] != 3:
        flags["in_chans"] = int(weight.shape[1])
        notes.append(f"Built for {flags['in_chans']}-channel input, read from the file's first convolution "
                     f"({first}).")
    flags.update(user)
    return flags, notes


def input_size_flag(flags: dict) -> int | None:
    """The input side a constructor flag fixes (torchvision image_size, timm img_size), if any."""
    for key in ("image_size", "img_size"):
        value = flags.get(key)
        if isinstance(value, int) and value > 0:
            return value
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, int) for v in value):
            return int(value[0])
    return None
