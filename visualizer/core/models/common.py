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
    """User-given input size, channel count, mean and std win over what the source says.

    A new input size keeps the source's resize-to-crop ratio (e.g. 256/224). One mean or
    std value serves every channel; a list must have one value per channel (--channels, or
    the source's count)."""
    fields: dict = {}
    if options.input_size is not None:
        if options.input_size < 1:
            raise ParameterError(f"Input size must be a positive number of pixels, not {options.input_size}.")
        ratio = pre.resize_size / pre.input_size
        fields["input_size"] = options.input_size
        fields["resize_size"] = max(options.input_size, int(round(options.input_size * ratio)))
    channels = pre.channels if options.channels is None else check_channels(options.channels)
    if channels != pre.channels:
        fields["channels"] = channels
    for name in ("mean", "std"):
        given = getattr(options, name)
        if given is not None:
            fields[name] = per_channel(tuple(float(v) for v in given), channels, f"--{name}")
        elif channels != pre.channels:
            fields[name] = _source_values(getattr(pre, name), channels, name)
    if not fields:
        return pre
    try:
        return replace(pre, **fields)
    except ValueError as exc:
        raise ParameterError(f"Invalid preprocessing option: {exc}") from exc


def check_channels(channels: int) -> int:
    if channels not in (1, 3):
        raise ParameterError(f"--channels must be 1 (grayscale) or 3 (RGB), not {channels}.")
    return channels


def per_channel(values: tuple[float, ...], channels: int, what: str) -> tuple[float, ...]:
    """``values`` for ``channels`` channels: one value is repeated; otherwise the counts must agree."""
    if len(values) == 1:
        return values * channels
    if len(values) != channels:
        raise ParameterError(f"{what} has {len(values)} values, but the model takes {channels}-channel images: "
                             f"give one value (used for every channel) or {channels}"
                             + (", or --channels 3 if it takes RGB images." if channels == 1 else "."))
    return values


def _source_values(values: tuple[float, ...], channels: int, name: str) -> tuple[float, ...]:
    """The source's own mean or std for another channel count: a value shared by every
    channel carries over; per-channel values have no meaning for other channels."""
    if len(set(values)) == 1:
        return (values[0],) * channels
    raise ParameterError(f"This model's default normalisation {name} {values} is per channel for "
                         f"{len(values)} channels; with --channels {channels} give --mean and --std too.")


def with_channels(pre: Preprocessing, channels: int | None) -> Preprocessing:
    """``pre`` for a network found to take ``channels`` channels (None: unchanged); a mean
    or std shared by every channel carries over, per-channel values become their average."""
    if channels is None or channels == pre.channels:
        return pre
    fit = (lambda v: (v[0],) * channels) if channels > len(pre.mean) else (lambda v: (sum(v) / len(v),))
    return replace(pre, channels=channels, mean=fit(pre.mean), std=fit(pre.std))


def unnormalised_input(net: nn.Module, options: LoadOptions, default_size: int = 224) -> tuple[Preprocessing, str]:
    """Preprocessing for a network that says nothing about its input (TorchScript, a pickled
    module, a py: architecture): [0, 1] pixels unless --mean/--std, at --input-size or
    ``default_size``, with --channels or the first convolution's channel count (else 3);
    and the note stating those assumptions."""
    size = options.input_size or default_size
    found = input_channels(net)
    channels = options.channels or found or 3
    pre = apply_overrides(make_preprocessing(input_size=size, resize_size=size, channels=channels,
                                             mean=(0.0,) * channels, std=(1.0,) * channels), options)
    how = "given" if options.channels else "read from its first convolution" if found else "assumed"
    note = (f"Input assumed {size}x{size} pixels in [0, 1]" + ("" if options.mean or options.std
                                                               else " (no normalisation)")
            + f", {channels} channel{'s' if channels > 1 else ''} ({how}); "
            "set --input-size/--channels/--mean/--std if the model expects otherwise.")
    return pre, note


def input_channels(net: nn.Module) -> int | None:
    """The channel count the network's first convolution takes (1 or 3), or None when no
    convolution comes before the first linear layer. Works for Python and TorchScript
    modules (whose layers keep their class name in ``original_name``)."""
    for _, module in net.named_modules():
        kind = getattr(module, "original_name", None) or type(module).__name__
        if kind == "Linear":
            return None
        weight = getattr(module, "weight", None) if kind == "Conv2d" else None
        if isinstance(weight, torch.Tensor) and weight.dim() == 4:
            groups = getattr(module, "groups", 1)
            channels = int(weight.shape[1]) * (groups if isinstance(groups, int) else 1)
            return channels if channels in (1, 3) else None
    return None


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
    from visualizer.core.models.determinism import restore_buffers, snapshot_buffers
    from visualizer.core.models.probe import forward_error

    net.eval()
    blank = torch.zeros(1, pre.channels, pre.input_size, pre.input_size)
    saved = snapshot_buffers(net)
    try:
        with torch.no_grad():
            out = net(blank)
    except Exception as exc:
        raise forward_error(exc, tuple(blank.shape)) from exc
    finally:
        restore_buffers(net, saved)
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

    report = probe(model)
    info.notes.extend(report.notes)
    info.outputs, info.deterministic = report.outputs, report.deterministic
    from visualizer.core.models.layout import prefer_channels_last
    from visualizer.core.models.probe import probe_batch

    # The probe's scores are model(probe_batch) as the layout check would compute them, when
    # the model returns logits (else the wrapper now converts what it returns).
    reuse = report.scores if report.outputs == "logits" else None
    prefer_channels_last(model, probe_batch(model), report.deterministic, reuse)
    return model
