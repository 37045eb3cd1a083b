"""``torchscript:PATH``: a network exported with torch.jit.save.

A TorchScript archive holds code for the TorchScript interpreter, not arbitrary pickled
Python, but that code still does whatever its author wrote; the notes say so.
"""

from __future__ import annotations

import warnings

import torch

from visualizer.core.errors import ModelLoadError
from visualizer.core.models.common import (check_num_classes, class_names_for, finish, infer_num_classes,
                                          unnormalised_input)
from visualizer.core.models.determinism import training_mode_note
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.safe_load import check_file, check_fits_in_memory, is_torchscript_archive
from visualizer.core.models.wrapper import ClassifierModel, ModelInfo


def load_torchscript(path: str, options: LoadOptions) -> ClassifierModel:
    p = check_file(path)
    if not is_torchscript_archive(p):
        raise ModelLoadError(f"{p} is not a TorchScript archive (torch.jit.save output). "
                             "If it holds weights, load it as ckpt:PATH with --arch.")
    check_fits_in_memory(p, "zip")
    try:
        with warnings.catch_warnings():
            # torch >= 2.10 marks TorchScript deprecated; users cannot act on that here.
            warnings.simplefilter("ignore", FutureWarning)
            net = torch.jit.load(str(p), map_location="cpu")
    except Exception as exc:
        raise ModelLoadError(f"{p} could not be loaded as TorchScript: {str(exc).strip().splitlines()[0]}") from exc
    trained = training_mode_note(net)   # before anything switches it to evaluation mode
    pre, input_note = unnormalised_input(net, options)
    n = infer_num_classes(net, pre)
    check_num_classes(n, options, p.name)
    notes = ["TorchScript code runs as written by its author: load archives only from sources you trust.",
             input_note] + ([trained] if trained else [])
    name = getattr(net, "original_name", None) or "TorchScript"
    info = ModelInfo(
        model_id=f"torchscript:{p.absolute()}", source="torchscript", architecture=str(name), preprocessing=pre,
        class_names=class_names_for(n, options, "imagenet" if n == 1000 else None),
        description=f"TorchScript model {p.name}", notes=notes,
    )
    return finish(net, info, options, p)
