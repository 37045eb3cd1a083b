"""Choosing the torch device (CUDA, then Apple MPS, then CPU, unless the user names one),
moving a model there, and what to do when memory runs out."""

from __future__ import annotations

import os
from pathlib import Path

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


def move_to(module: torch.nn.Module, device: torch.device | str) -> torch.nn.Module:
    """``module.to(device)``: the one place a loaded model is moved to its device (tests
    inject a GPU out-of-memory fault here; no CI machine has a GPU to fill)."""
    return module.to(device)


OUT_OF_MEMORY_ERRORS = tuple(e for e in (getattr(torch, "OutOfMemoryError", None),
                                         getattr(torch.cuda, "OutOfMemoryError", None), MemoryError) if e)


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA/MPS out of memory, or the CPU allocator refusing (torch raises that as a plain
    RuntimeError)."""
    text = str(exc)
    return isinstance(exc, OUT_OF_MEMORY_ERRORS) or (
        isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text))


def out_of_memory_message(exc: BaseException) -> str:
    """What to tell the user when a run ran out of memory (not a bug, and not their fault)."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    return (f"Ran out of memory ({first}). Close other programs or use a smaller model, image or sweep; "
            "on a GPU, running on the CPU (device cpu) is slower but has more memory.")


def available_memory_bytes() -> int | None:
    """Memory a new allocation can take: Linux's MemAvailable, capped by a container's
    (cgroup v2) limit; elsewhere the free physical pages, or failing that all of them;
    None when unknown (Windows)."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            found.append(int(limit))
    except OSError:
        pass
    for name in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):    # free pages; else (macOS) all of them
        if found:
            break
        try:
            found.append(os.sysconf(name) * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    return min(found) if found else None
