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
