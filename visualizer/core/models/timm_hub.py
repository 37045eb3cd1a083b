"""timm models by name, with weights from the Hugging Face cache (or timm's old URLs in
the torch hub cache).

We look in the cache ourselves and only then let timm read the file, so an offline
machine gets a clear message in seconds instead of huggingface_hub's retry loop.
"""

from __future__ import annotations

import difflib
import math
import os
from pathlib import Path
from urllib.parse import urlparse

import torch

from visualizer.core.errors import ModelLoadError, ParameterError, WeightsUnavailableError
from visualizer.core.models.common import (apply_overrides, check_num_classes, class_names_for, finish,
                                          make_preprocessing)
from visualizer.core.models.downloads import unreachable_reason
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.wrapper import ClassifierModel, ModelInfo, Preprocessing

HF_ETAG_TIMEOUT_S = 10


def pretrained_cfg(name: str) -> dict:
    """timm's pretrained config for ``name`` (``arch`` or ``arch.tag``); ParameterError if unknown."""
    import timm
    from timm.models import get_pretrained_cfg

    if not timm.is_model(name):
        arch_names = timm.list_models()
        close = difflib.get_close_matches(name.split(".")[0].lower(), arch_names, n=6, cutoff=0.6)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ParameterError(f"timm has no model called {name!r}.{hint}")
    try:
        cfg = get_pretrained_cfg(name)
    except RuntimeError as exc:  # unknown pretrained tag
        tags = timm.list_pretrained(f"{name.split('.')[0]}.*")[:8]
        raise ParameterError(f"{exc} Known tags: {', '.join(tags) or 'none'}.") from exc
    return cfg.to_dict() if cfg is not None else {}


def preprocessing_from_cfg(cfg: dict) -> tuple[Preprocessing, list[str]]:
    notes = []
    _, height, width = tuple(cfg.get("input_size") or (3, 224, 224))
    if height != width:
        notes.append(f"This model expects {height}x{width} inputs; a {height}x{height} square is used.")
    crop_pct = float(cfg.get("crop_pct") or 0.875)
    interp = str(cfg.get("interpolation") or "bilinear")
    if interp not in ("nearest", "bilinear", "bicubic"):
        notes.append(f"timm asks for {interp!r} resizing; bicubic is used instead.")
        interp = "bicubic"
    if cfg.get("crop_mode", "center") != "center":
        notes.append(f"timm's crop mode {cfg.get('crop_mode')!r} is approximated by a centre crop.")
    pre = make_preprocessing(
        input_size=int(height), resize_size=max(int(height), int(math.floor(height / crop_pct))),
        interpolation=interp, mean=tuple(cfg.get("mean") or (0.485, 0.456, 0.406)),
        std=tuple(cfg.get("std") or (0.229, 0.224, 0.225)),
    )
    return pre, notes


def imagenet_like_names(cfg: dict, num_classes: int) -> str | list[str] | None:
    """"imagenet" for 1k heads, timm's own names for its 21k/12k heads, else None."""
    if num_classes == 1000:
        return "imagenet"
    try:
        from timm.data import ImageNetInfo, infer_imagenet_subset

        subset = infer_imagenet_subset(cfg)
        if subset:
            info = ImageNetInfo(subset)
            if info.num_classes() == num_classes:
                return [info.index_to_description(i) for i in range(num_classes)]
    except Exception:  # older timm, or not an ImageNet subset: numbered classes then
        pass
    return None


def hf_cache_dir() -> Path:
    # Read at call time: huggingface_hub fixes its constants when first imported.
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path(constants.HF_HUB_CACHE)


def _hf_offline() -> bool:
    from huggingface_hub import constants

    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return flag in ("1", "true", "yes", "on") or (flag == "" and bool(constants.HF_HUB_OFFLINE))


def _hf_files(cfg: dict) -> tuple[str, str | None, list[str]]:
    repo, _, revision = str(cfg["hf_hub_id"]).partition("@")
    if cfg.get("hf_hub_filename"):
        return repo, revision or None, [cfg["hf_hub_filename"]]
    return repo, revision or None, ["model.safetensors", "pytorch_model.bin"]


def find_cached_weights(cfg: dict) -> Path | None:
    if cfg.get("hf_hub_id"):
        from huggingface_hub import try_to_load_from_cache

        repo, revision, files = _hf_files(cfg)
        for filename in files:
            found = try_to_load_from_cache(repo, filename, cache_dir=hf_cache_dir(), revision=revision)
            if isinstance(found, str) and os.path.isfile(found):
                return Path(found)
    if cfg.get("url"):
        legacy = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(cfg["url"]).path)
        if legacy.is_file():
            return legacy
    return None


def _download(cfg: dict) -> tuple[Path | None, str]:
    """The downloaded file, or None and why not."""
    if cfg.get("hf_hub_id"):
        from huggingface_hub import constants, hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError

        if _hf_offline():
            return None, "HF_HUB_OFFLINE is set"
        reason = unreachable_reason(constants.ENDPOINT)
        if reason:
            return None, reason
        repo, revision, files = _hf_files(cfg)
        for filename in files:
            try:
                return Path(hf_hub_download(repo, filename, revision=revision, cache_dir=hf_cache_dir(),
                                            etag_timeout=HF_ETAG_TIMEOUT_S)), ""
            except EntryNotFoundError:
                continue
            except Exception as exc:
                return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"{repo} has none of {', '.join(files)}"
    if cfg.get("url"):
        reason = unreachable_reason(cfg["url"])
        if reason:
            return None, reason
        target = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(cfg["url"]).path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(cfg["url"], str(target), None, progress=False)
            return target, ""
        except Exception as exc:
            return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None, "timm lists no pretrained weights for it"


def _unavailable(name: str, cfg: dict, reason: str) -> WeightsUnavailableError:
    own = f"Or load a weights file of your own with ckpt:PATH --arch timm:{name}."
    if cfg.get("hf_hub_id"):
        repo, _, files = _hf_files(cfg)
        return WeightsUnavailableError(
            f"The weights for timm:{name} (Hugging Face repo {repo}, file {files[0]}) are not in the "
            f"Hugging Face cache {hf_cache_dir()} and could not be downloaded ({reason}).\n"
            "Run this once with internet access to cache them there (set HF_HOME or HF_HUB_CACHE to "
            f"move the cache). {own}"
        )
    if cfg.get("url"):
        folder = Path(torch.hub.get_dir()) / "checkpoints"
        return WeightsUnavailableError(
            f"The weights for timm:{name} are not on this machine and could not be downloaded ({reason}).\n"
            f"Download {cfg['url']} into the folder {folder}. {own}"
        )
    return WeightsUnavailableError(f"timm has no pretrained weights for {name}. {own}")


def load_timm(name: str, options: LoadOptions) -> ClassifierModel:
    import timm

    cfg = pretrained_cfg(name)
    path = find_cached_weights(cfg)
    notes: list[str] = []
    if path is None:
        path, reason = _download(cfg)
        if path is None:
            raise _unavailable(name, cfg, reason)
        notes.append(f"Weights downloaded to {path}.")
    try:
        # timm reads the file itself (safetensors, or torch.load with weights_only=True)
        # and applies the model's own checkpoint conversions.
        net = timm.create_model(name, pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    except Exception as exc:
        raise ModelLoadError(f"timm could not load the weights file {path} into {name}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    n = int(getattr(net, "num_classes", 0) or cfg.get("num_classes") or 0)
    if n <= 0:
        raise ModelLoadError(f"timm:{name} is not a classifier (it has no classification head).")
    check_num_classes(n, options, f"timm:{name}")
    pre, pre_notes = preprocessing_from_cfg(cfg)
    default = imagenet_like_names(cfg, n)
    if isinstance(default, list) and not options.labels:
        names = default
    else:
        names = class_names_for(n, options, default if isinstance(default, str) else None)
    info = ModelInfo(
        model_id=f"timm:{name}", source="timm", architecture=cfg.get("architecture") or name,
        preprocessing=apply_overrides(pre, options), class_names=names,
        description=f"timm {name}" + (f" ({cfg['hf_hub_id']})" if cfg.get("hf_hub_id") else ""),
        notes=notes + pre_notes,
    )
    return finish(net, info, options, path)
