"""The one entry point the CLI and GUI use to get a model: a spec string plus options.

Spec forms:
  lite0-imagenet | bundled:NAME      a bundled model (works offline)
  torchvision:NAME                   torchvision classifier with its ImageNet weights
  timm:NAME                          timm model with its pretrained weights
  ckpt:PATH (with --arch)            a weights file: state dict, safetensors, MadryLab, RobustBench;
                                     --arch may be py:FILE.py:NAME (the user's own class, with --trust)
  torchscript:PATH                   a torch.jit.save archive
"""

from __future__ import annotations

from visualizer.core.device import pick_device
from visualizer.core.errors import ParameterError
from visualizer.core.models.bundled import (BUNDLED_NAMES, BundledModelEntry, bundled_models, bundled_names,
                                            load_bundled)
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.wrapper import ClassifierModel

__all__ = ["LoadOptions", "BundledModelEntry", "load_model", "parse_model_spec", "model_key",
           "repeated_model", "repeat_text", "bundled_models", "describe_sources"]

_PREFIXES = {
    "bundled": "bundled",
    "torchvision": "torchvision", "tv": "torchvision",
    "timm": "timm",
    "ckpt": "checkpoint", "checkpoint": "checkpoint",
    "torchscript": "torchscript", "jit": "torchscript",
}
SPEC_FORMS = ("NAME of a bundled model (" + ", ".join(BUNDLED_NAMES) + ")", "bundled:NAME", "torchvision:NAME",
              "timm:NAME", "ckpt:PATH (with --arch)", "torchscript:PATH")


def parse_model_spec(spec: str) -> tuple[str, str]:
    """("bundled" | "torchvision" | "timm" | "checkpoint" | "torchscript", name or path)."""
    text = (spec or "").strip()
    names = bundled_names()   # the folder as it is now: a model copied in is found without a restart
    if text.lower() in names:
        return "bundled", text.lower()
    head, sep, rest = text.partition(":")
    kind = _PREFIXES.get(head.strip().lower()) if sep else None
    if kind is None:
        hint = ""
        if text.lower().endswith((".pt", ".pth", ".bin", ".ckpt", ".safetensors", ".tar")):
            hint = f" It looks like a file: write ckpt:{text} (with --arch) or torchscript:{text}."
        raise ParameterError(f"Unknown model {spec!r}.{hint} Accepted forms: {'; '.join(SPEC_FORMS)}.")
    rest = rest.strip()
    if not rest:
        what = "path" if kind in ("checkpoint", "torchscript") else "name"
        raise ParameterError(f"{head}: needs a {what} after the colon, e.g. "
                             + {"bundled": "bundled:lite0-imagenet", "torchvision": "torchvision:resnet50",
                                "timm": "timm:convnext_tiny", "checkpoint": "ckpt:weights.pt",
                                "torchscript": "torchscript:model.pt"}[kind] + ".")
    if kind == "bundled":
        if rest.lower() not in names:
            raise ParameterError(f"No bundled model called {rest!r}. Bundled models: {', '.join(names)}.")
        rest = rest.lower()
    return kind, rest


def model_key(spec: str) -> tuple[str, str]:
    """What makes two specs the same model: the source and its name (lower case) or its file
    (absolute path), so ``lite0-imagenet`` and ``bundled:LITE0-imagenet`` are one model, and so
    are ``ckpt:w.pt`` and ``ckpt:./w.pt``. ParameterError for a spec that is not valid."""
    from pathlib import Path

    kind, target = parse_model_spec(spec)
    if kind in ("checkpoint", "torchscript"):
        return kind, str(Path(target).expanduser().resolve())
    return kind, target.lower()


def repeated_model(specs, options=None) -> tuple[str, str] | None:
    """The first model given twice in ``specs``, as (its first spelling, its repeat), or None.
    ``options`` (one dict per spec, optional): a spec loaded with other options (another
    normalisation, say) is another model. The same model twice compares nothing, and its
    results would share one name in every table. ParameterError for a spec that is not valid."""
    import json

    seen: dict[tuple, str] = {}
    for i, spec in enumerate(specs):
        key = (*model_key(spec), json.dumps(options[i], sort_keys=True, default=str) if options else "")
        if key in seen:
            return seen[key], spec
        seen[key] = spec
    return None


def repeat_text(first: str, repeat: str, done: str = "given") -> str:
    """"'a' is the same model given twice" or "'a' and 'A' are the same model given twice"."""
    if first.strip() == repeat.strip():
        return f"{first.strip()!r} is the same model {done} twice"
    return f"{first.strip()!r} and {repeat.strip()!r} are the same model {done} twice"


def load_model(spec: str, options: LoadOptions | None = None) -> ClassifierModel:
    """The model named by ``spec``, in eval mode on the chosen device, taking [0, 1] pixels."""
    options = options or LoadOptions()
    kind, target = parse_model_spec(spec)
    pick_device(options.device)  # a bad --device fails before any loading work
    if options.arch and kind != "checkpoint":
        raise ParameterError("--arch only applies to ckpt:PATH models; the other sources know their architecture.")
    if options.arch_kwargs and not options.arch:
        raise ParameterError("--arch-kwargs only applies with --arch (a ckpt:PATH model's architecture).")
    if kind == "bundled":
        return load_bundled(target, options)
    if kind == "torchvision":
        from visualizer.core.models.torchvision_hub import load_torchvision

        return load_torchvision(target, options)
    if kind == "timm":
        from visualizer.core.models.timm_hub import load_timm

        return load_timm(target, options)
    if kind == "checkpoint":
        from visualizer.core.models.checkpoint import load_checkpoint

        return load_checkpoint(target, options)
    from visualizer.core.models.torchscript import load_torchscript

    return load_torchscript(target, options)


def describe_sources() -> list[dict]:
    """What `visualizer models` prints: each source (named as in ModelInfo.source), its syntax
    and an example; bundled models with their availability."""
    import torch

    from visualizer.core.models.arch import ARCH_FORMS
    from visualizer.core.models.timm_hub import hf_cache_dir

    return [
        {"source": "bundled", "syntax": "NAME or bundled:NAME", "example": "lite0-imagenet",
         "description": "Models that ship with the tool and work offline.",
         "models": [{"name": e.name, "description": e.description, "available": e.available, "detail": e.detail,
                     "weights_path": str(e.weights_path) if e.weights_path else None} for e in bundled_models()]},
        {"source": "torchvision", "syntax": "torchvision:NAME", "example": "torchvision:resnet50",
         "description": "torchvision ImageNet classifiers with their default weights, read from (or "
                        "downloaded into) the torch hub cache.",
         "cache": str(torch.hub.get_dir()) + "/checkpoints"},
        {"source": "timm", "syntax": "timm:NAME", "example": "timm:convnext_tiny",
         "description": "timm models with their pretrained weights, read from (or downloaded into) the "
                        "Hugging Face cache.",
         "cache": str(hf_cache_dir())},
        {"source": "checkpoint", "syntax": "ckpt:PATH --arch ARCH [--arch-kwargs JSON]",
         "example": "ckpt:cifar_wrn.pt --arch wrn-28-10",
         "description": "A weights file (.pt/.pth/.bin state dict, .safetensors, MadryLab robustness or "
                        "RobustBench layouts). Pickled files needing more than tensors load only with --trust. "
                        "--arch py:FILE.py:NAME builds the class or function NAME from your own Python file "
                        "(it runs that file, so it needs --trust too); --arch-kwargs '{\"depth\": 28}' passes "
                        "constructor arguments (also to timm:/torchvision:, e.g. transform_input).",
         "architectures": list(ARCH_FORMS)},
        {"source": "torchscript", "syntax": "torchscript:PATH", "example": "torchscript:model.pt",
         "description": "A torch.jit.save archive; assumed to take [0, 1] pixels unless --mean/--std are given, "
                        "with the channel count of its first convolution (or --channels)."},
    ]
