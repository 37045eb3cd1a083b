"""Folders a run makes, and unmakes when it is refused: ``--out runs/2026/mnist/a`` makes
``runs/2026/mnist`` too (as ``mkdir -p``), and a run refused after that (unreadable data, a
folder it may not write into) must leave none of them behind."""

from __future__ import annotations

import contextlib
from pathlib import Path


def missing_folders(path: str | Path) -> list[Path]:
    """``path`` and each of its parents that do not exist yet, deepest first (what
    ``mkdir(parents=True)`` would make)."""
    missing = []
    for folder in (Path(path).absolute(), *Path(path).absolute().parents):
        if folder.exists():
            break
        missing.append(folder)
    return missing


def remove_if_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) while they are empty: one that holds anything, and
    every folder above it, stays."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:       # not empty (or already gone, or not ours to remove): stop there
            if folder.exists():
                return


@contextlib.contextmanager
def removed_if_left_empty(out: str | Path):
    """Around a run that makes ``out``: the folders it made (``out`` and the missing parents
    above it) go again if the run ends with nothing written there (bad data found while
    reading it, cancelled in its first epoch), so a refused command leaves no folder."""
    made = missing_folders(out)
    try:
        yield
    finally:
        remove_if_empty(made)
