"""Locate shipped data (bundled weights, sample images): inside the installed package
(wheel) or at the top of a source checkout."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


@lru_cache(maxsize=1)
def resources_dir() -> Path:
    package_dir = Path(__file__).resolve().parents[1]
    for candidate in (package_dir / "resources", package_dir.parent / "resources"):
        if (candidate / "models").is_dir():
            return candidate
    raise FileNotFoundError(
        "The 'resources' folder (bundled models and samples) is missing; reinstall the package."
    )


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def sample_images() -> list[Path]:
    folder = resource_path("samples")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


# Sample folders named after a data set kind, shown in this order, under these titles.
SAMPLE_SETS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_SAMPLE_NAME = re.compile(r"^(\d+)(?:-([a-z0-9-]+))?_idx(\d+)$")


def sample_sets() -> list[tuple[str, list[Path]]]:
    """(title, images) for each folder of labelled test images under samples/ (see
    scripts/make_samples.py): known data sets first, in SAMPLE_SETS order."""
    folder = resource_path("samples")
    subdirs = sorted((p for p in folder.iterdir() if p.is_dir()),
                     key=lambda p: (list(SAMPLE_SETS).index(p.name) if p.name in SAMPLE_SETS else len(SAMPLE_SETS),
                                    p.name))
    sets = []
    for sub in subdirs:
        images = sorted((p for p in sub.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_sample_order)
        if images:
            sets.append((SAMPLE_SETS.get(sub.name, sub.name), images))
    return sets


def _sample_order(path: Path) -> tuple:
    match = _SAMPLE_NAME.match(path.stem)
    return (int(match.group(1)), path.name) if match else (1 << 30, path.name)


def sample_caption(path: Path) -> str:
    """``mnist/3_idx18.png`` -> "3 (test image 18)"; ``fashion-mnist/9-ankle-boot_idx0.png``
    -> "Ankle boot (test image 0)" (the data set's class name); any other name as it is."""
    from visualizer.core.data.idx import CLASS_NAMES

    path = Path(path)
    match = _SAMPLE_NAME.match(path.stem)
    if not match:
        return path.name
    label, name, index = match.groups()
    names = CLASS_NAMES.get(path.parent.name)
    shown = names[int(label)] if names and int(label) < len(names) else \
        (f"{label} {name.replace('-', ' ')}" if name else label)
    return f"{shown} (test image {index})"


def sample_label(path: Path) -> int | None:
    """The true class index a labelled sample's name records, else None."""
    match = _SAMPLE_NAME.match(Path(path).stem)
    return int(match.group(1)) if match else None
