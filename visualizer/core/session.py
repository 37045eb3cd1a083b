"""Saving and reopening a whole session (image, models, parameters, results) as one file.

The file is a zip archive (``.advsession``) holding ``session.json``, the original image
bytes and every run's arrays as ``.npy`` files. Nothing in it is pickled: reopening a
session someone sent you cannot run code. Reopening restores the views from the stored
records and arrays without recomputing; models are reloaded by their specs.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from visualizer import __version__
from visualizer.core.artifacts import Artifacts
from visualizer.core.atomic import write_atomically
from visualizer.core.errors import OutputError, VisualizerError

FORMAT = "adversarial-visualizer-session"
FORMAT_VERSION = 1
SUFFIX = ".advsession"
MAX_MEMBER_BYTES = 2 << 30      # refuse absurd members (zip bombs) before reading them


class SessionError(VisualizerError):
    """A session file cannot be read or written."""


@dataclass
class ModelRef:
    spec: str                      # as given to load_model, e.g. "digits-robust" or "ckpt:/x.pt"
    options: dict = field(default_factory=dict)   # LoadOptions fields


@dataclass
class StoredRun:
    slot: str                      # e.g. "attack:0" (kind and model column) or "saliency"
    artifacts: Artifacts


@dataclass
class Session:
    image_name: str | None = None
    image_bytes: bytes | None = None
    models: list[ModelRef] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    runs: list[StoredRun] = field(default_factory=list)
    ui: dict = field(default_factory=dict)


def save_session(session: Session, path: str | Path) -> Path:
    """Write atomically: a temporary file beside the target, renamed over it at the end."""
    path = Path(path)
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "tool_version": __version__,
        "image": {"name": session.image_name, "file": "image.bin" if session.image_bytes is not None else None},
        "models": [{"spec": m.spec, "options": m.options} for m in session.models],
        "parameters": session.parameters,
        "ui": session.ui,
        "runs": [],
    }
    def write(fh) -> None:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            if session.image_bytes is not None:
                zf.writestr("image.bin", session.image_bytes)
            for i, run in enumerate(session.runs):
                names = {}
                for name, array in run.artifacts.arrays.items():
                    member = f"runs/{i}/{name}.npy"
                    buf = io.BytesIO()
                    np.save(buf, np.asarray(array), allow_pickle=False)
                    zf.writestr(member, buf.getvalue())
                    names[name] = member
                manifest["runs"].append({"slot": run.slot, "record": run.artifacts.record, "arrays": names})
            zf.writestr("session.json", json.dumps(manifest, indent=1, allow_nan=False))

    try:
        write_atomically(path, write, "the session")
    except (OutputError, ValueError, TypeError) as exc:
        raise SessionError(f"Saving the session to {path} failed: {exc}. Any earlier file there is unchanged.") from None
    return path


def load_session(path: str | Path) -> Session:
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise SessionError(f"Session file not found: {path}") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise SessionError(f"{path.name} is not a session file (or it is damaged): {exc}") from None
    with zf:
        manifest = _read_manifest(zf, path)
        image = manifest.get("image") or {}
        session = Session(
            image_name=image.get("name"),
            image_bytes=_read(zf, image["file"], path) if image.get("file") else None,
            models=[ModelRef(m["spec"], _untrusted(m.get("options"))) for m in manifest.get("models", [])],
            parameters=dict(manifest.get("parameters") or {}),
            ui=dict(manifest.get("ui") or {}),
        )
        for entry in manifest.get("runs", []):
            try:
                arrays = {name: np.load(io.BytesIO(_read(zf, member, path)), allow_pickle=False)
                          for name, member in entry["arrays"].items()}
                session.runs.append(StoredRun(entry["slot"], Artifacts(record=entry["record"], arrays=arrays)))
            except (KeyError, TypeError, ValueError) as exc:
                raise SessionError(f"{path.name} is damaged: a stored result cannot be read ({exc}).") from None
    return session


def _read_manifest(zf: zipfile.ZipFile, path: Path) -> dict:
    try:
        manifest = json.loads(_read(zf, "session.json", path))
    except ValueError as exc:
        raise SessionError(f"{path.name} is damaged: its session.json is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SessionError(f"{path.name} is not an Adversarial Visualizer session.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise SessionError(
            f"{path.name} was saved by a newer version of the tool (session format {version}, "
            f"this version reads up to {FORMAT_VERSION}); update the tool to open it."
        )
    return manifest


def _read(zf: zipfile.ZipFile, member: str, path: Path) -> bytes:
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise SessionError(f"{path.name} is damaged: {member} is missing.") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise SessionError(f"{path.name}: {member} claims {info.file_size} bytes, more than this tool accepts.")
    try:
        return zf.read(member)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise SessionError(f"{path.name} is damaged: {member} cannot be read ({exc}).") from None


def _untrusted(options) -> dict:
    """A model's load options from a session file, without trust: trust lets a checkpoint's
    pickle or a py: architecture file run code, and is given by the user for one file in
    one load, never by a file someone may have sent them."""
    options = dict(options or {})
    options.pop("trust", None)
    return options
