"""What a training run leaves in its folder, every file written atomically:

    checkpoint.pt      after every epoch: weights, optimiser, schedule, RNG and history, so
                       ``--resume`` continues exactly where an interrupted run stopped
    history.json       one record per finished epoch (rewritten after each)
    model.safetensors  the final weights (the network's own state dict: ``ckpt:PATH --arch NAME``)
    model.json         the model card: data, recipe, seed, command, time, accuracies
    labels.txt         the class names, one a line (``--labels`` when loading the weights back)
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import torch

from visualizer.core.atomic import write_atomically
from visualizer.core.errors import OutputError, ParameterError
from visualizer.core.folders import removed_if_left_empty  # noqa: F401  (the trainer's and poison's)
from visualizer.core.resume import changed_settings, nothing_to_resume

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.json"
WEIGHTS = "model.safetensors"
CARD = "model.json"
LABELS = "labels.txt"
CHECKPOINT_FORMAT = 1
OUR_FILES = (CHECKPOINT, HISTORY, WEIGHTS, CARD, LABELS)


def prepare_folder(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse, before any work, to write where another run's results would be lost."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder.")
    if resume and (out / CHECKPOINT).is_file():
        return
    if resume and not nothing_to_resume(out):
        raise ParameterError(f"--resume: {out} holds no {CHECKPOINT} to resume from; choose another folder.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        hint = " (--resume continues it)" if (out / CHECKPOINT).is_file() else ""
        raise OutputError(f"{out} already holds files{hint}; choose another folder or pass --overwrite.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create {out}: {exc.strerror or exc}.") from None
    if overwrite:   # an old checkpoint must not be mistaken for this run's
        for name in OUR_FILES:
            (out / name).unlink(missing_ok=True)


def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=1, allow_nan=False) + "\n").encode("utf-8")


def write_json(path: Path, obj, what: str) -> None:
    write_atomically(path, lambda fh: fh.write(_json_bytes(obj)), what)


def save_checkpoint(out: Path, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **state}, buffer)
    write_atomically(out / CHECKPOINT, lambda fh: fh.write(buffer.getvalue()), "the training checkpoint")


def load_checkpoint(out: Path, fingerprint: dict) -> dict:
    """The saved state of an interrupted run; its settings must equal this run's."""
    path = out / CHECKPOINT
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:   # truncated, not a torch file, foreign pickles
        raise ParameterError(f"--resume: {path} cannot be read ({exc}); start again without --resume.") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ParameterError(f"--resume: {path} is not a checkpoint written by visualizer train.")
    saved = state.get("config", {})
    changed = changed_settings(saved, fingerprint)
    if changed:
        raise ParameterError(f"--resume: {out} holds a run with other settings ({changed}); "
                             "resume with the same command, or train into a new folder.")
    return state


def save_weights(out: Path, net: torch.nn.Module) -> str:
    """model.safetensors with ``net``'s own state dict; returns its SHA-256."""
    return save_state(out, net.state_dict())


def save_state(out: Path, state: dict[str, torch.Tensor]) -> str:
    """model.safetensors holding ``state`` (a network's state dict); returns its SHA-256."""
    from safetensors.torch import save

    blob = save({k: v.detach().cpu().contiguous() for k, v in state.items()})
    write_atomically(out / WEIGHTS, lambda fh: fh.write(blob), "the trained weights")
    return hashlib.sha256(blob).hexdigest()


def save_labels(out: Path, class_names: list[str]) -> None:
    text = "".join(f"{name}\n" for name in class_names).encode("utf-8")
    write_atomically(out / LABELS, lambda fh: fh.write(text), "the class names")
