"""Locate shipped data (bundled weights, sample images): inside the installed package
(wheel) or at the top of a source checkout."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


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
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
