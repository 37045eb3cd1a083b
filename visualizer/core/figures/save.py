"""Saving a figure as PNG, PDF and SVG, atomically, with reproducible bytes (no dates)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from matplotlib.figure import Figure

from visualizer.core.atomic import write_atomically
from visualizer.core.errors import OutputError
from visualizer.core.figures.style import figure_style

FORMATS = ("png", "pdf", "svg")


_METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}


def save_figure(fig: Figure, stem: str | Path, formats: Iterable[str] = FORMATS, dpi: int = 200) -> list[Path]:
    """Write ``stem.<format>`` for each format atomically (a temporary file in the same folder,
    then ``os.replace``) and return the paths. A suffix on ``stem`` that is itself one of the
    formats is dropped (``fig.png`` -> ``fig``), so callers may pass a file name."""
    stem = Path(stem)
    if stem.suffix.lower().lstrip(".") in FORMATS:
        stem = stem.with_suffix("")
    wanted = []
    for fmt in formats:
        fmt = str(fmt).lower().lstrip(".")
        if fmt not in FORMATS:
            raise OutputError(f"Cannot save a figure as {fmt!r}; choose from {', '.join(FORMATS)}.")
        if fmt not in wanted:
            wanted.append(fmt)
    folder = stem.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the folder {folder}: {exc}") from exc
    written = []
    with figure_style():
        for fmt in wanted:
            target = folder / f"{stem.name}.{fmt}"
            write_atomically(target, lambda fh, f=fmt: fig.savefig(fh, format=f, dpi=dpi, metadata=_METADATA.get(f)),
                             "the figure")
            written.append(target)
    return written
