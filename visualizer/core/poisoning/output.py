"""The files of a rate sweep, one writer for ``visualizer poison`` and the window's Export:
poison.json, curves.png/pdf/svg and examples.png/pdf/svg; Export also copies the rate
folders (rate-R/model.safetensors, model.json, labels.txt) the sweep trained into."""

from __future__ import annotations

import shutil
from pathlib import Path

from visualizer.core.errors import OutputError
from visualizer.core.poisoning.sweep import SweepResult, rate_folder
from visualizer.core.training import outputs

RECORD = "poison.json"


def write_sweep_files(out: Path, record: dict, result: SweepResult, dpi: int = 200) -> list[str]:
    """Write poison.json and the two figures into ``out`` (each file atomically); nothing
    when no rate finished. Returns the names written."""
    from visualizer.core.figures.poisoning import curves_figure, examples_figure
    from visualizer.core.figures.save import save_figure

    if not record["rates"]:
        return []
    out = Path(out)
    outputs.write_json(out / RECORD, record, "the poisoning record")
    written = [RECORD]
    written += [p.name for p in save_figure(curves_figure(record), out / "curves", dpi=dpi)]
    written += [p.name for p in save_figure(examples_figure(record, result.examples_clean.numpy(),
                                                            result.examples_triggered.numpy()),
                                            out / "examples", dpi=dpi)]
    return written


def export_sweep(folder: Path, run_folder: Path, record: dict, result: SweepResult, overwrite: bool = False,
                 dpi: int = 200) -> list[str]:
    """Everything the CLI leaves in its --out folder, into ``folder``: the finished rates'
    model folders copied from ``run_folder`` (where the sweep trained), then poison.json and
    the figures. Raises OutputError when ``folder`` holds files and ``overwrite`` is False,
    or when a file cannot be written."""
    folder, run_folder = Path(folder), Path(run_folder)
    outputs.prepare_folder(folder, resume=False, overwrite=overwrite)
    written = []
    for entry in record["rates"]:
        name = rate_folder(entry["rate"])
        source = run_folder / name
        if not source.is_dir():
            raise OutputError(f"The model folder {source} of rate {entry['rate']:g} is gone; the record would "
                              "point at models that are not there.")
        try:
            shutil.copytree(source, folder / name, dirs_exist_ok=True)
        except OSError as exc:
            raise OutputError(f"Cannot copy {source} into {folder}: {exc}") from None
        written.append(name)
    return written + write_sweep_files(folder, record, result, dpi)
