"""Writing a run into its output folder: result.json, lossless PNGs of the model-input crop,
raw float arrays (.npy, CHW float32) and the figure in PNG, PDF and SVG.

The folder is assembled under a temporary name beside the destination and renamed into
place at the end, so a crash or a full disk never leaves a half-written run, and an
earlier run is never overwritten unless asked. The ``iter_`` forms yield progress between
files and can be cancelled there (the app runs them in a worker); the plain forms run them
to the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from visualizer.core.atomic import private_to_umask
from visualizer.core.cancel import CancelToken, is_cancelled
from visualizer.core.errors import ExportCancelled, OutputError
from visualizer.core.folders import missing_folders, remove_if_empty
from visualizer.core.images import save_npy, save_png


# Figure resolutions a person means: below 72 dpi text is unreadable, above 1200 a figure
# of a few inches is hundreds of megapixels (matplotlib would run out of memory).
DPI_RANGE = (72, 1200)


# The record an export leaves in its folder, naming (under "files") what else it wrote there.
RECORD_NAMES = ("result.json", "comparison.json", "evaluation.json", "steal.json")


def check_output_dir(out_dir: str | Path, overwrite: bool) -> Path:
    """Refuse early (before any long computation) to write where an earlier run would be lost,
    or where anything else would be: an export replaces its folder as a whole, so even with
    ``overwrite`` a folder holding files no earlier export wrote (a thesis, a data set, ``.``)
    is refused, and so is a folder its owner made read-only. Raises OutputError."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} exists and is not a folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not overwrite:
            raise OutputError(f"{out_dir} already holds files; choose another folder or pass --overwrite.")
        foreign = foreign_entries(out_dir)
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise OutputError(f"{out_dir} holds {shown}, which no earlier run of this tool wrote; overwriting "
                              "replaces the whole folder and would delete it. Choose another folder.")
    if out_dir.is_dir() and not os.access(out_dir, os.W_OK):
        raise OutputError(f"{out_dir} is read-only (no write permission); choose another folder.")
    return out_dir


def foreign_entries(folder: Path) -> list[str]:
    """What in ``folder`` no earlier export wrote (paths relative to it, sorted): everything
    but the record (result.json, comparison.json or evaluation.json), the files it lists, an
    evaluation's resume state and a comparison's run subfolders, checked the same way."""
    ours: set[str] = set()
    subfolders: list[str] = []
    for record_name in RECORD_NAMES:
        try:
            record = json.loads((folder / record_name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict):
            continue
        ours |= {record_name, *_listed_names(record.get("files"))}
        if record_name == "evaluation.json":
            ours.add(".evaluation-state")
        if record_name == "comparison.json" and isinstance(record.get("runs"), list):
            subfolders += [str(run.get("folder")) for run in record["runs"] if isinstance(run, dict)]
    foreign = []
    for entry in sorted(folder.iterdir()):
        if entry.name in subfolders and entry.is_dir():
            foreign += [f"{entry.name}/{name}" for name in foreign_entries(entry)]
        elif entry.name not in ours:
            foreign.append(entry.name)
    return foreign


def _listed_names(files) -> set[str]:
    """Every file name in a record's ``files`` (a table of names, a list, or lists in a table)."""
    if isinstance(files, str):
        return {files}
    if isinstance(files, dict):
        files = list(files.values())
    return set().union(*(_listed_names(f) for f in files)) if isinstance(files, list) else set()


def _prepare(out_dir: Path, overwrite: bool) -> Path:
    check_output_dir(out_dir, overwrite)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
        private_to_umask(staging, folder=True)    # it becomes the export folder: not drwx------
        return staging
    except OSError as exc:
        raise OutputError(f"Cannot write into {out_dir.parent}: {exc.strerror or exc}.") from exc


def _commit(staging: Path, out_dir: Path) -> None:
    backup = None
    if out_dir.exists():
        shutil.copymode(out_dir, staging)      # the replaced folder's permissions (group, setgid) stay
        backup = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, backup)
    os.replace(staging, out_dir)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def _staged(out_dir: Path, overwrite: bool):
    """A temporary folder beside ``out_dir``, renamed into place if the block succeeds and
    removed if it fails: the destination holds either the old run or the whole new one."""
    made = missing_folders(out_dir.parent)       # what mkdir -p makes: gone again if the export fails
    try:
        staging = _prepare(out_dir, overwrite)
    except OutputError:
        remove_if_empty(made)
        raise
    try:
        yield staging
        _commit(staging, out_dir)
    except (OSError, OutputError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        remove_if_empty(made)
        reason = getattr(exc, "strerror", None) or exc
        raise OutputError(f"Writing results to {out_dir} failed: {reason}. Nothing was changed there.") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        remove_if_empty(made)
        raise


@dataclass(frozen=True)
class ExportStep:
    """Progress of an export: ``done`` of ``total`` files written; ``file`` is written next."""

    done: int
    total: int
    file: str


def _run_tasks(artifacts, dpi: int, figure: bool, overlay: bool, formats: tuple[str, ...], raw: bool,
               extra: dict[str, bytes] | None, figure_writer=None) -> list[tuple[str, Callable[[Path, dict], None]]]:
    """The files of one run, in writing order: (file name, writer(staging folder, files table)).
    ``figure_writer(artifacts, overlay, folder, formats, dpi)``: draws and saves every format
    of the figure at once elsewhere (figure_child.py) and returns the paths; what it fails to
    write is drawn here."""
    tasks: list[tuple[str, Callable[[Path, dict], None]]] = []

    def png(name, pixels):
        def write(folder, files):
            save_png(pixels, folder / f"{name}.png")
            files[f"{name}_png"] = f"{name}.png"
        return write

    def npy(name, array):
        def write(folder, files):
            save_npy(np.asarray(array, dtype=np.float32), folder / f"{name}.npy")
            files[f"{name}_npy"] = f"{name}.npy"
        return write

    def data(name, content):
        def write(folder, files):
            (folder / name).write_bytes(content() if callable(content) else content)
            files[name.replace(".", "_")] = name
        return write

    built = []          # the figure, built once by the first format that needs it

    def fig(fmt):
        def write(folder, files):
            from visualizer.core.figures import save_figure

            if not built:
                built.append(artifacts.figure(overlay=overlay))
            for path in save_figure(built[0], folder / "figure", formats=(fmt,), dpi=dpi):
                files[f"figure_{path.suffix[1:]}"] = path.name
        return write

    def every_fig(folder, files):      # all formats at once by figure_writer; here if it fails
        try:
            paths = figure_writer(artifacts, overlay, folder, formats, dpi)
        except (OSError, RuntimeError, ValueError, subprocess.SubprocessError):
            paths = []
        for path in paths:
            files[f"figure_{path.suffix[1:]}"] = path.name
        for fmt in formats:
            if f"figure_{fmt}" not in files:
                fig(fmt)(folder, files)

    if raw:
        tasks += [(f"{name}.png", png(name, pixels)) for name, pixels in artifacts.images.items()]
        tasks += [(f"{name}.npy", npy(name, array)) for name, array in artifacts.arrays.items()]
    tasks += [(name, data(name, content)) for name, content in (extra or {}).items()]
    if figure and figure_writer is not None and formats:
        tasks.append((", ".join(f"figure.{fmt}" for fmt in formats), every_fig))
    elif figure:
        tasks += [(f"figure.{fmt}", fig(fmt)) for fmt in formats]
    return tasks


def _check_cancel(cancel: CancelToken | None, out_dir: Path) -> None:
    if is_cancelled(cancel):
        raise ExportCancelled(f"Export to {out_dir} cancelled: nothing was written there.")


def iter_write_run(out_dir: str | Path, artifacts, overwrite: bool = False, dpi: int = 200, figure: bool = True,
                   overlay: bool = False, formats: tuple[str, ...] = ("png", "pdf", "svg"), raw: bool = True,
                   extra: dict[str, bytes] | None = None, cancel: CancelToken | None = None, figure_writer=None):
    """``write_run`` as a generator: yields an ExportStep before each file and returns the
    record. ``cancel`` is checked between files; a cancelled export raises ExportCancelled
    and leaves the destination as it was (the staging folder is removed). ``figure_writer``:
    see _run_tasks (the window passes figure_child.save_figure_in_child)."""
    out_dir = Path(out_dir)
    tasks = _run_tasks(artifacts, dpi, figure, overlay, formats, raw, extra, figure_writer)
    files: dict[str, str] = {}
    with _staged(out_dir, overwrite) as staging:
        for i, (name, write) in enumerate(tasks):
            _check_cancel(cancel, out_dir)
            yield ExportStep(i, len(tasks) + 1, name)
            write(staging, files)
        _check_cancel(cancel, out_dir)
        yield ExportStep(len(tasks), len(tasks) + 1, "result.json")
        record = {**artifacts.record, "files": files}
        (staging / "result.json").write_text(json.dumps(record, indent=1, allow_nan=False), encoding="utf-8")
    return record


def write_run(out_dir: str | Path, artifacts, overwrite: bool = False, dpi: int = 200, figure: bool = True,
              overlay: bool = False, formats: tuple[str, ...] = ("png", "pdf", "svg"), raw: bool = True,
              extra: dict[str, bytes] | None = None, figure_writer=None) -> dict:
    """Write an ``Artifacts`` (record, images as PNG and arrays as .npy when ``raw``, the
    figure as figure.png/.pdf/.svg when ``figure``, plus ``extra`` files given as bytes or
    as a function making them, called when the file is written) into ``out_dir``.
    ``figure_writer``: see _run_tasks.
    result.json is always written. Returns the record with its ``files`` table filled in, as
    written to result.json."""
    return drain(iter_write_run(out_dir, artifacts, overwrite=overwrite, dpi=dpi, figure=figure, overlay=overlay,
                                formats=formats, raw=raw, extra=extra, figure_writer=figure_writer))


def drain(gen):
    """Run a generator to its end; its return value."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def run_folder_name(index: int, model_id: str) -> str:
    """``01-digits-standard``: sorted like the rows of the comparison figure, safe on every
    file system whatever the model id holds (paths, colons)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in model_id).strip("-.") or "model"
    return f"{index + 1:02d}-{safe[:60]}"


def iter_write_comparison(out_dir: str | Path, runs: list, overwrite: bool = False, dpi: int = 200,
                          formats: tuple[str, ...] = ("png", "pdf", "svg"), cancel: CancelToken | None = None,
                          figure_writer=None, comparison_writer=None):
    """``write_comparison`` as a generator: yields ExportSteps over every file of every run,
    returns (comparison.json's dict, each run's record). Cancellable like ``iter_write_run``.
    ``figure_writer``: each run's figure, as for iter_write_run; ``comparison_writer(runs,
    folder, formats, dpi)``: the comparison figure elsewhere (figure_child.py), drawn here
    if it fails."""
    from visualizer.core.figures import attack_comparison_figure, save_figure

    out_dir = Path(out_dir)
    per_run = [len(_run_tasks(art, dpi, True, False, formats, True, None)) + 1 for art in runs]
    total = sum(per_run) + len(formats) + 1
    done = 0
    with _staged(out_dir, overwrite) as staging:
        entries, records = [], []
        for i, art in enumerate(runs):
            folder = run_folder_name(i, str((art.record.get("model") or {}).get("id", "model")))
            steps = iter_write_run(staging / folder, art, dpi=dpi, formats=formats, cancel=cancel,
                                   figure_writer=figure_writer)
            try:
                while True:
                    try:
                        step = next(steps)
                    except StopIteration as stop:
                        record = stop.value
                        break
                    yield ExportStep(done + step.done, total, f"{folder}/{step.file}")
            finally:
                steps.close()      # closed part-way (the app quitting): its staging folder goes too
            done += per_run[i]
            records.append(record)
            entries.append({"folder": folder, "model": record["model"]["id"], "success": record["success"],
                            "success_quantized": record["success_quantized"],
                            "clean_top1": record["clean"]["top5"][0],
                            "adversarial_top1": record["adversarial"]["top5_quantized"][0]})
        figure = None
        files = []
        if comparison_writer is not None and formats:
            _check_cancel(cancel, out_dir)
            yield ExportStep(done, total, ", ".join(f"comparison.{fmt}" for fmt in formats))
            try:
                files = [p.name for p in comparison_writer(runs, staging, formats, dpi)]
            except (OSError, RuntimeError, ValueError, subprocess.SubprocessError):
                files = []
        for fmt in formats:
            if f"comparison.{fmt}" in files:
                done += 1
                continue
            _check_cancel(cancel, out_dir)
            yield ExportStep(done, total, f"comparison.{fmt}")
            if figure is None:
                figure = attack_comparison_figure([a.record for a in runs], [a.arrays["clean"] for a in runs],
                                                  [a.arrays["adversarial"] for a in runs])
            files += [p.name for p in save_figure(figure, staging / "comparison", formats=(fmt,), dpi=dpi)]
            done += 1
        _check_cancel(cancel, out_dir)
        yield ExportStep(done, total, "comparison.json")
        summary = {"schema_version": 1, "kind": "attack_comparison", "parameters": runs[0].record["parameters"],
                   "runs": entries, "files": files}
        (staging / "comparison.json").write_text(json.dumps(summary, indent=1, allow_nan=False), encoding="utf-8")
    return summary, records


def write_comparison(out_dir: str | Path, runs: list, overwrite: bool = False, dpi: int = 200,
                     formats: tuple[str, ...] = ("png", "pdf", "svg")) -> tuple[dict, list[dict]]:
    """The same attack on several models: each run in its own subfolder (as ``write_run``
    writes it), the comparison figure as comparison.png/.pdf/.svg and comparison.json
    listing the runs. Atomic as a whole, like ``write_run``. Returns comparison.json's dict
    and each run's record as written."""
    return drain(iter_write_comparison(out_dir, runs, overwrite=overwrite, dpi=dpi, formats=formats))
