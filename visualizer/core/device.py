"""Choosing the torch device: CUDA, then Apple MPS, then CPU, unless the user names one."""

from __future__ import annotations

import torch

from visualizer.core.errors import ParameterError


def pick_device(requested: str | None = None) -> torch.device:
    if requested in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except (RuntimeError, TypeError) as exc:
        raise ParameterError(f"Unknown device {requested!r}: use auto, cpu, cuda, cuda:N or mps.") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(f"Device {requested!r} asked for, but this torch build sees no CUDA GPU.")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ParameterError(f"Device {requested!r} does not exist: {torch.cuda.device_count()} CUDA device(s) here.")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ParameterError("Device 'mps' asked for, but Apple's Metal backend is not available here.")
    return device
