"""steal.json (schema: core/schema/steal.schema.json) and the steal_curve figure in PNG, PDF
and SVG, each written atomically. The substitutes' own folders are the trainer's."""

from __future__ import annotations

import json
from pathlib import Path

from visualizer.core.atomic import write_atomically

FORMATS = ("png", "pdf", "svg")     # as core.figures.FORMATS; matplotlib is imported only to write


def write_steal(out_dir: str | Path, record: dict, dpi: int = 200, formats: tuple[str, ...] = FORMATS) -> dict:
    """Write steal.json and the figure into ``out_dir``; returns the record as written."""
    # Imported here: the window imports this package at start-up, and matplotlib costs ~0.4 s.
    from visualizer.core.figures import save_figure
    from visualizer.core.figures.steal import steal_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict = {}
    figure = steal_figure(record)
    if figure is not None:
        files["curve"] = [p.name for p in save_figure(figure, out / "steal_curve", formats, dpi)]
    record = {**record, "files": files}
    text = json.dumps(record, indent=1, allow_nan=False).encode("utf-8")
    write_atomically(out / "steal.json", lambda fh: fh.write(text), "steal.json")
    return record


def export_steal(out_dir: str | Path, record: dict, overwrite: bool = False, dpi: int = 200) -> dict:
    """The window's Export: ``write_steal`` into ``out_dir`` as one step, by the rule of every
    export (core/export.py): a folder holding files only with ``overwrite``, and then only
    when they are an earlier export's (a steal run's model folders, a thesis, are named and
    refused, never deleted). Written beside ``out_dir`` and renamed into place. Raises
    OutputError."""
    from visualizer.core.export import _staged

    with _staged(Path(out_dir), overwrite) as staging:
        written = write_steal(staging, record, dpi=dpi)
    return written
