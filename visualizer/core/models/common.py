"""Small steps every model source shares: preprocessing overrides, class names, the
NaN/inf check, and handing back a ready ClassifierModel on its device."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Mapping

import torch
from torch import nn

from visualizer.core.device import is_out_of_memory, move_to, pick_device
from visualizer.core.errors import ModelLoadError, ParameterError
from visualizer.core.labels import resolve_labels
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.wrapper import ClassifierModel, ModelInfo, Preprocessing, sha256_of_file


def make_preprocessing(**fields) -> Preprocessing:
    try:
        return Preprocessing(**fields)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"Invalid preprocessing for this model: {exc}") from exc


def apply_overrides(pre: Preprocessing, options: LoadOptions) -> Preprocessing:
    """User-given input size, mean and std win over what the source says.

    A new input size keeps the source's resize-to-crop ratio (e.g. 256/224)."""
    fields: dict = {}
    if options.input_size is not None:
        if options.input_size < 1:
            raise ParameterError(f"Input size must be a positive number of pixels, not {options.input_size}.")
        ratio = pre.resize_size / pre.input_size
        fields["input_size"] = options.input_size
        fields["resize_size"] = max(options.input_size, int(round(options.input_size * ratio)))
    for name in ("mean", "std"):
        value = getattr(options, name)
        if value is not None:
            fields[name] = tuple(float(v) for v in value)
    if not fields:
        return pre
    try:
        return replace(pre, **fields)
    except ValueError as exc:
        raise ParameterError(f"Invalid preprocessing option: {exc}") from exc


def class_names_for(num_classes: int, options: LoadOptions, default: str | None = None) -> list[str]:
    """The user's labels if given (they must match the model's outputs), else ``default``
    ("imagenet", "cifar10", ...) when it fits, else numbered classes."""
    if options.labels:
        try:
            return resolve_labels(options.labels, num_classes)
        except ModelLoadError as exc:
            raise ModelLoadError(f"{exc} Give a labels list with {num_classes} names, "
                                 "or check --num-classes / --arch.") from exc
    if default is not None:
        try:
            return resolve_labels(default, num_classes)
        except ModelLoadError:
            pass
    return resolve_labels(None, num_classes)


def check_num_classes(actual: int, options: LoadOptions, what: str) -> None:
    if options.num_classes is not None and options.num_classes != actual:
        raise ModelLoadError(f"{what} has {actual} output classes, but {options.num_classes} were asked for "
                             "(--num-classes). Leave it out, or pick the matching model.")


def guess_labels(num_classes: int) -> str | None:
    """A dataset guess from the class count: 1000 -> ImageNet, 10 -> CIFAR-10."""
    return {1000: "imagenet", 10: "cifar10"}.get(num_classes)


def nonfinite_note(state_dict: Mapping[str, torch.Tensor]) -> str | None:
    bad = [k for k, t in state_dict.items()
           if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if not bad:
        return None
    shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    return (f"Warning: {len(bad)} weight tensor(s) contain NaN or infinite values ({shown}); "
            "predictions and gradients may be NaN. The training run that wrote this file probably diverged.")


def infer_num_classes(net: nn.Module, pre: Preprocessing) -> int:
    """Class count of a network we cannot inspect, from one forward pass on a blank image."""
    from visualizer.core.models.probe import short_error

    net.eval()
    blank = torch.zeros(1, pre.channels, pre.input_size, pre.input_size)
    try:
        with torch.no_grad():
            out = net(blank)
    except Exception as exc:
        raise ModelLoadError(
            f"The model failed on a blank {pre.channels}x{pre.input_size}x{pre.input_size} image: "
            f"{short_error(exc)}. "
            "Give the input size it expects (--input-size)."
        ) from exc
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != 1:
        shape = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ModelLoadError(f"The model must return one row of class scores per image; it returned {shape}.")
    return int(out.shape[1])


def finish(net: nn.Module, info: ModelInfo, options: LoadOptions, weights_file: str | Path | None) -> ClassifierModel:
    """Record where the weights came from, wrap, and move to the chosen device."""
    if weights_file is not None:
        # Absolute but not resolved: a cache's snapshot name reads better than its blob hash.
        info.weights_path = os.path.abspath(weights_file)
        info.weights_sha256 = sha256_of_file(weights_file)
    note = nonfinite_note(net.state_dict())
    if note:
        info.notes.append(note)
    device = pick_device(options.device)
    model = ClassifierModel(net, info)
    try:
        model = move_to(model, device)
    except RuntimeError as exc:      # torch.OutOfMemoryError is a RuntimeError
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
        if device.type == "cpu" or options.device not in (None, "", "auto"):
            hint = (" Free memory on it, or load the model with device auto or cpu to run it on the CPU."
                    if is_out_of_memory(exc) and device.type != "cpu" else "")
            raise ModelLoadError(f"The model could not be moved to {device}: {first_line}.{hint}") from exc
        # Chosen automatically and it does not fit: the CPU is slower but works. Whatever
        # part was already copied goes back to the CPU, and the GPU's cache is released.
        model = move_to(model, "cpu")
        if device.type == "cuda":
            torch.cuda.empty_cache()
        problem = "did not fit in the memory of" if is_out_of_memory(exc) else "could not be moved to"
        # "Warning:" so the window shows it in a dialog and the CLI prints it: every run on
        # this model will be much slower than the user expects.
        info.notes.append(f"Warning: the model {problem} {device} ({first_line}); it runs on the CPU instead, "
                          "which is slower.")
    from visualizer.core.models.probe import probe

    info.notes.extend(probe(model))
    return model
