"""Reading a checkpoint file without running code from it.

``torch.load`` unpickles, and unpickling can call any Python function the file names.
Files are therefore read with ``weights_only=True`` (tensors and plain containers only);
a file that needs more is refused with UntrustedCheckpointError until the user trusts
that very file. Safetensors files are never unpickled at all.
"""

from __future__ import annotations

import json
import pickle
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import torch

from visualizer.core.device import available_memory_bytes
from visualizer.core.errors import ModelLoadError, UntrustedCheckpointError

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt", ".tar", ".safetensors", ".pth.tar")
SAFETENSORS_MAX_HEADER = 100_000_000      # the safetensors library's own limit


def check_file(path: str | Path) -> Path:
    """The path as a readable, non-empty file, or a ModelLoadError saying what is wrong."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelLoadError(f"The model file {p} does not exist. Check the path (it is relative to {Path.cwd()}).")
    if p.is_dir():
        found = sorted(str(c.name) for c in p.iterdir() if c.is_file() and str(c.name).lower().endswith(CHECKPOINT_SUFFIXES))
        hint = f" Files in it that look like checkpoints: {', '.join(found[:8])}." if found else ""
        raise ModelLoadError(f"{p} is a folder, not a model file: give the path of the checkpoint file itself.{hint}")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise ModelLoadError(f"Cannot read the model file {p}: {exc}") from exc
    if size == 0:
        raise ModelLoadError(f"The model file {p} is empty (0 bytes): the download or copy that made it probably failed.")
    return p


def sniff_format(p: Path) -> str:
    """"zip" (torch.save / TorchScript), "pickle" (legacy torch.save), "safetensors" or "unknown"."""
    with open(p, "rb") as fh:
        head = fh.read(9)
    size = p.stat().st_size
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if len(head) == 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] < size:
        return "safetensors"
    return "unknown"


def is_torchscript_archive(p: Path) -> bool:
    try:
        with zipfile.ZipFile(p) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    # TorchScript archives carry their compiled code and a constants table; torch.save zips do not.
    return any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names)


def declared_bytes(p: Path, kind: str) -> int | None:
    """How much memory reading the file will allocate, from its header alone: the tensor
    data a safetensors header declares, or the unpacked size of a zip's members (torch
    allocates each record at its declared size before reading it). None if unknown."""
    try:
        if kind == "safetensors":
            with open(p, "rb") as fh:
                (n,) = struct.unpack("<Q", fh.read(8))
                if n > SAFETENSORS_MAX_HEADER:
                    return None          # not a header safetensors accepts: it will say so
                header = json.loads(fh.read(n))
            ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
            size = max(ends, default=0)
            if 8 + n + size > p.stat().st_size:
                raise ModelLoadError(f"{p} is truncated or damaged: its header declares {_format_bytes(size)} of "
                                     f"tensors, but the file holds only {_format_bytes(p.stat().st_size)}.")
            return size
        if kind == "zip":
            with zipfile.ZipFile(p) as zf:
                return sum(info.file_size for info in zf.infolist())
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, struct.error, zipfile.BadZipFile):
        pass                             # damaged: the reader itself gives the message
    return None


def check_fits_in_memory(p: Path, kind: str) -> None:
    """Refuse, before reading anything, a file whose tensors cannot fit in memory: reading
    it would fail part-way at best, and at worst get the app killed by the system."""
    needed = declared_bytes(p, kind)
    free = available_memory_bytes()
    if needed is not None and free is not None and needed > free:
        raise ModelLoadError(
            f"{p} holds {_format_bytes(needed)} of weights, more than the {_format_bytes(free)} of memory "
            "available on this machine, so it was not loaded. Close other programs, or use a machine with "
            "more memory."
        )


def _format_bytes(n: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def read_checkpoint(path: str | Path, trust: bool = False) -> tuple[Any, list[str]]:
    """The object stored in a checkpoint file, and notes about how it was read."""
    p = check_file(path)
    kind = sniff_format(p)
    check_fits_in_memory(p, "safetensors" if p.suffix.lower() == ".safetensors" else kind)
    if kind == "safetensors" or p.suffix.lower() == ".safetensors":
        return _read_safetensors(p), ["Read as safetensors (no code can run from such a file)."]
    if kind == "unknown":
        raise ModelLoadError(
            f"{p} is not a PyTorch checkpoint, safetensors file or TorchScript archive "
            "(its first bytes match none of them). The file may be damaged or in another format "
            "(ONNX, Keras, TensorFlow), which this tool does not read."
        )
    if kind == "zip" and is_torchscript_archive(p):
        raise ModelLoadError(f"{p} is a TorchScript archive, not a state dict: load it as torchscript:{p}")
    try:
        return torch.load(p, map_location="cpu", weights_only=True), []
    except pickle.UnpicklingError as exc:
        if not trust:
            raise UntrustedCheckpointError(_untrusted_message(p, exc)) from None
    except Exception as exc:  # torch raises RuntimeError/EOFError/KeyError for damaged files
        raise ModelLoadError(f"{p} could not be read as a PyTorch checkpoint; it looks damaged or truncated "
                             f"({_first_line(exc)}).") from exc
    return _read_trusted(p), [
        "Loaded with full unpickling because you marked this file as trusted: "
        "it holds pickled Python objects, not only tensors."
    ]


def _read_safetensors(p: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(p), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelLoadError(f"{p} is not a valid safetensors file: {exc}") from exc


def _read_trusted(p: Path) -> Any:
    try:
        return torch.load(p, map_location="cpu", weights_only=False)
    except ModuleNotFoundError as exc:
        raise ModelLoadError(
            f"{p} was pickled with objects from the Python module {exc.name!r}, which is not installed here. "
            f"Install it (pip install {exc.name}) or re-save the weights as a plain state dict."
        ) from exc
    except Exception as exc:
        raise ModelLoadError(f"{p} could not be unpickled even with full trust: {_first_line(exc)}") from exc


def _unsafe_globals(p: Path, exc: Exception) -> list[str]:
    # Lists what the pickle would import, without executing it (zip format only);
    # older files: fall back to the name torch's safe reader stopped at.
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(str(p))
        if names:
            # The file's own classes say more than the torch.nn ones they are built from.
            return sorted(set(names), key=lambda n: (n.startswith("torch."), n))
    except Exception:
        pass
    return re.findall(r"GLOBAL ([\w.]+)", str(exc))[:1]


def _untrusted_message(p: Path, exc: Exception) -> str:
    names = _unsafe_globals(p, exc)
    what = (f"pickled Python objects ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''})"
            if names else "pickle instructions beyond plain tensors and containers")
    return (
        f"{p} contains {what}. Loading such a file runs code chosen by whoever made it, "
        "so it was NOT loaded. If you made this file or trust where it came from, pass --trust "
        "(command line) or tick \"trust this file\" (GUI) to load it with full unpickling. "
        "Safer still: re-save it as a plain state dict or safetensors file."
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
