"""``ckpt:PATH --arch ARCH``: a weights file from a paper, RobustBench, MadryLab's
robustness library or the user's own training, fitted to a known architecture."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from visualizer.core.errors import ModelLoadError, ParameterError
from visualizer.core.models.arch import ARCH_FORMS, ArchChoice, classifier_key, resolve_arch
from visualizer.core.models.arch_flags import input_size_flag
from visualizer.core.models.common import (apply_overrides, check_num_classes, class_names_for, finish,
                                          guess_labels, infer_num_classes, input_channels, make_preprocessing,
                                          unnormalised_input, with_channels)
from visualizer.core.models.determinism import training_mode_note
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.safe_load import check_file, read_checkpoint
from visualizer.core.models.state_match import extract_state_dict, load_matched, match_state_dict
from visualizer.core.models.wrapper import ClassifierModel, ModelInfo


def load_checkpoint(path: str, options: LoadOptions) -> ClassifierModel:
    p = check_file(path)
    # A bad --arch fails before reading; a py: one is run here, and only when trusted.
    choice = resolve_arch(options.arch, options.arch_kwargs, options.trust) if options.arch else None
    obj, notes = read_checkpoint(p, trust=options.trust)
    if choice is None:
        if isinstance(obj, nn.Module):
            return _whole_module(obj, p, options, notes)
        raise ParameterError(f"{p.name} holds weights only: add --arch to say which network they belong to "
                             f"({', '.join(ARCH_FORMS)}).")
    tensors, more = extract_state_dict(obj)
    notes += more
    choice.read_file(tensors)
    net, match = _fit(choice, tensors, options)
    notes += choice.notes + match.notes

    pre, pre_notes = _preprocessing(choice, net, match, options)
    notes += pre_notes
    n = _num_outputs(net, match.state_dict, choice) or infer_num_classes(net, pre)
    check_num_classes(n, options, p.name)
    labels, label_notes = _default_labels(p, n, pre, options)
    notes += label_notes
    info = ModelInfo(
        model_id=f"ckpt:{p.absolute()}", source="checkpoint", architecture=choice.label, preprocessing=pre,
        class_names=class_names_for(n, options, labels),
        description=f"{choice.label} weights from {p.name}", notes=notes, arch_kwargs=dict(choice.flags),
    )
    return finish(net, info, options, p)


def _default_labels(path: Path, num_classes: int, pre, options: LoadOptions) -> tuple[str | None, list[str]]:
    """The class names to use without --labels: the ``labels.txt`` that ``visualizer train``
    (and poison, steal) writes beside its weights, else a guess from the class count for RGB
    networks only (a 10-class grayscale network is not a CIFAR-10 one), else numbered classes."""
    beside = path.parent / "labels.txt"
    if options.labels is None and beside.is_file():
        return str(beside), [f"Class names from {beside} (written beside the weights by the trainer)."]
    return (guess_labels(num_classes) if pre.channels == 3 else None), []


def _preprocessing(choice: ArchChoice, net: nn.Module, match, options: LoadOptions):
    """The input handling for this file's network, and notes saying where it came from."""
    if not choice.input_known:
        pre, note = unnormalised_input(net, options)
        return pre, [note]
    notes = []
    pre = with_channels(choice.preprocessing, input_channels(net))
    if pre.channels != choice.preprocessing.channels:
        notes.append(f"The network's first convolution takes {pre.channels}-channel images; images are fed "
                     + ("as grayscale." if pre.channels == 1 else "in colour."))
    size = input_size_flag(choice.flags)
    if size is not None and size != pre.input_size:
        pre = make_preprocessing(**{**pre.to_dict(), "input_size": size,
                                    "resize_size": max(size, round(size * pre.resize_size / pre.input_size))})
    user_norm = options.mean is not None or options.std is not None
    if match.mean is not None and not user_norm and len(match.mean) in (1, pre.channels):
        k = pre.channels // len(match.mean)  # a single grey value serves all channels
        pre = make_preprocessing(**{**pre.to_dict(), "mean": match.mean * k, "std": match.std * k})
    elif choice.own_input and not user_norm:
        notes.append(f"No normalisation in the file: {choice.label}, this project's own architecture, takes [0, 1] "
                     "pixels as the trainer feeds it. Give --mean/--std if it was trained otherwise.")
    elif choice.cifar_style and not user_norm:
        notes.append("No normalisation found in the file: the network is fed [0, 1] pixels "
                     "(RobustBench convention). Give --mean/--std if it was trained otherwise.")
    elif not user_norm:
        notes.append(f"No normalisation found in the file: assumed as for {choice.label}'s pretrained weights, "
                     f"mean={_fmt(pre.mean)}, std={_fmt(pre.std)}. Give --mean/--std if it was trained otherwise.")
    return apply_overrides(pre, options), notes


def _fmt(values) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"


def _fit(choice: ArchChoice, tensors: dict[str, torch.Tensor], options: LoadOptions):
    """Build the architecture with the file's class count and load the file into it."""
    requested = options.num_classes or choice.default_num_classes
    probe = _probe(choice, requested)  # names and shapes only, no memory or init time
    match = match_state_dict(tensors, probe.state_dict(), choice.ignorable_prefixes)
    if match.hits == 0:
        raise ModelLoadError(
            f"None of the checkpoint's {len(tensors)} weights match {choice.label}: it expects names like "
            f"{', '.join(list(probe.state_dict())[:4])}, the file has {', '.join(list(tensors)[:4])}. "
            "Is --arch right?"
        )
    key = classifier_key(probe)
    file_classes = int(match.state_dict[key].shape[0]) if key and key in match.state_dict else None
    if file_classes is not None and file_classes != requested and options.num_classes is not None:
        raise ModelLoadError(f"The checkpoint's final layer ({key}) has {file_classes} outputs, "
                             f"but --num-classes is {options.num_classes}. Leave --num-classes out or fix it.")
    net = choice.make(file_classes or requested)
    match = match_state_dict(tensors, net.state_dict(), choice.ignorable_prefixes)
    load_matched(net, match, choice.label)
    return net, match


def _probe(choice: ArchChoice, num_classes: int) -> nn.Module:
    try:
        with torch.device("meta"):
            return choice.make(num_classes)
    except Exception:  # an architecture whose construction needs real tensors
        return choice.make(num_classes)


def _num_outputs(net: nn.Module, state_dict: dict, choice: ArchChoice) -> int:
    key = classifier_key(net)
    if key and key in state_dict:
        return int(state_dict[key].shape[0])
    return int(getattr(net, "num_classes", 0) or choice.default_num_classes)  # 0: unknown


def _whole_module(net: nn.Module, p: Path, options: LoadOptions, notes: list[str]) -> ClassifierModel:
    """A trusted file that pickled the whole nn.Module: use it as it is."""
    trained = training_mode_note(net)   # before anything switches it to evaluation mode
    pre, input_note = unnormalised_input(net, options)
    n = infer_num_classes(net, pre)
    check_num_classes(n, options, p.name)
    notes = notes + ["The file holds a whole pickled network; it was used as it is.", input_note]
    notes += [trained] if trained else []
    info = ModelInfo(
        model_id=f"ckpt:{p.absolute()}", source="checkpoint", architecture=type(net).__name__, preprocessing=pre,
        class_names=class_names_for(n, options, "imagenet" if n == 1000 else None),
        description=f"{type(net).__name__} pickled in {p.name}", notes=notes,
    )
    return finish(net, info, options, p)
