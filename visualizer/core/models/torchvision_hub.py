"""torchvision classifiers by name, with their published ImageNet weights.

The weights file lives in the torch hub cache (``torch.hub.get_dir()/checkpoints``), named
as in its download URL. It is checked with ``weights_only=True`` before torchvision reads it.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import torch

from visualizer.core.errors import ModelLoadError, ParameterError, WeightsUnavailableError
from visualizer.core.models.common import (apply_overrides, check_num_classes, class_names_for, finish,
                                          make_preprocessing)
from visualizer.core.models.downloads import unreachable_reason
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.wrapper import ClassifierModel, ModelInfo, Preprocessing


def torchvision_names() -> list[str]:
    import torchvision
    from torchvision.models import list_models

    # Only the image classifiers (not detection, segmentation, video or quantized models).
    return sorted(list_models(module=torchvision.models))


def check_name(name: str) -> str:
    names = torchvision_names()
    if name in names:
        return name
    lowered = {n.lower(): n for n in names}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name.lower(), names, n=6, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else f" Examples: {', '.join(names[:8])}, ..."
    raise ParameterError(f"torchvision has no image classifier called {name!r}.{hint}")


def default_weights(name: str):
    from torchvision.models import get_model_weights

    return get_model_weights(name).DEFAULT


def preprocessing_from_weights(weights) -> Preprocessing:
    t = weights.transforms()
    crop = int(t.crop_size[0])
    resize = int(t.resize_size[0]) if t.resize_size else crop
    interp = getattr(t.interpolation, "value", str(t.interpolation)).lower()
    return make_preprocessing(input_size=crop, resize_size=max(resize, crop),
                              interpolation=interp if interp in ("nearest", "bilinear", "bicubic") else "bilinear",
                              mean=tuple(float(m) for m in t.mean), std=tuple(float(s) for s in t.std))


def cache_path(weights) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(weights.url).path)


def build_architecture(name: str, num_classes: int, **flags):
    """A randomly initialised torchvision network (for ckpt: files), built with the
    constructor ``flags`` (core/models/arch_flags.py decides them)."""
    from torchvision.models import get_model

    return get_model(name, weights=None, num_classes=num_classes, **flags)


def load_torchvision(name: str, options: LoadOptions) -> ClassifierModel:
    from torchvision.models import get_model

    name = check_name(name)
    weights = default_weights(name)
    path = cache_path(weights)
    notes: list[str] = []
    if not path.is_file():
        _download(name, weights, path)
        notes.append(f"Weights downloaded to {path}.")
    _check_safe(path)
    try:
        # The file is in the cache now, so torchvision reads it instead of downloading.
        net = get_model(name, weights=weights)
    except Exception as exc:
        raise ModelLoadError(f"torchvision could not load {path} into {name}: {exc}. "
                             "Delete the file to have it downloaded again.") from exc
    categories = list(weights.meta.get("categories") or [])
    pre = apply_overrides(preprocessing_from_weights(weights), options)
    n = len(categories)
    check_num_classes(n, options, f"torchvision:{name}")
    names = class_names_for(n, options) if options.labels or not categories else categories
    info = ModelInfo(
        model_id=f"torchvision:{name}", source="torchvision", architecture=name, preprocessing=pre,
        class_names=names, description=f"torchvision {name}, weights {weights} (standard ImageNet training).",
        notes=notes,
    )
    return finish(net, info, options, path)


def _check_safe(path: Path) -> None:
    # torchvision itself unpickles with weights_only=False; refuse anything a safe read rejects.
    try:
        torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:
        try:
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ModelLoadError(
                f"The cached weights file {path} cannot be read safely as plain weights ({str(exc).splitlines()[0]}). "
                "It may be damaged or replaced: delete it so it can be downloaded again."
            ) from exc


def _download(name: str, weights, path: Path) -> None:
    url = weights.url
    reason = unreachable_reason(url)
    if reason is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            match = re.search(r"-([a-f0-9]*)\.", path.name)  # torchvision's hash-prefix naming
            torch.hub.download_url_to_file(url, str(path), match.group(1) if match else None, progress=False)
            return
        except Exception as exc:  # URLError, HTTPError, hash mismatch, disk errors
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    raise WeightsUnavailableError(
        f"The weights for torchvision:{name} are not on this machine and could not be downloaded ({reason}).\n"
        f"Download {url}\nand save it, keeping the name {path.name}, in the folder {path.parent}\n"
        "(torch's hub cache; set TORCH_HOME to move it). "
        f"Or load a weights file of your own with ckpt:PATH --arch torchvision:{name}."
    )
