"""Writing a run into its output folder: result.json, lossless PNGs of the model-input crop,
raw float arrays (.npy, CHW float32) and the figure in PNG, PDF and SVG.

The folder is assembled under a temporary name beside the destination and renamed into
place at the end, so a crash or a full disk never leaves a half-written run, and an
earlier run is never overwritten unless asked.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from visualizer.core.atomic import private_to_umask
from visualizer.core.errors import OutputError
from visualizer.core.images import save_npy, save_png


def check_output_dir(out_dir: str | Path, overwrite: bool) -> Path:
    """Refuse early (before any long computation) to write where an earlier run would be lost."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} exists and is not a folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise OutputError(f"{out_dir} already holds files; choose another folder or pass --overwrite.")
    return out_dir


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
        backup = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, backup)
    os.replace(staging, out_dir)
    if backup is not None:
        shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def _staged(out_dir: Path, overwrite: bool):
    """A temporary folder beside ``out_dir``, renamed into place if the block succeeds and
    removed if it fails: the destination holds either the old run or the whole new one."""
    staging = _prepare(out_dir, overwrite)
    try:
        yield staging
        _commit(staging, out_dir)
    except (OSError, OutputError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        reason = getattr(exc, "strerror", None) or exc
        raise OutputError(f"Writing results to {out_dir} failed: {reason}. Nothing was changed there.") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_run(out_dir: str | Path, artifacts, overwrite: bool = False, dpi: int = 200, figure: bool = True,
              overlay: bool = False, formats: tuple[str, ...] = ("png", "pdf", "svg"), raw: bool = True,
              extra: dict[str, bytes] | None = None) -> dict:
    """Write an ``Artifacts`` (record, images as PNG and arrays as .npy when ``raw``, the
    figure as figure.png/.pdf/.svg when ``figure``, plus ``extra`` files given as bytes)
    into ``out_dir``. result.json is always written. Returns the record with its ``files``
    table filled in, as written to result.json."""
    out_dir = Path(out_dir)
    record = artifacts.record
    files: dict[str, str] = {}
    with _staged(out_dir, overwrite) as staging:
        for name, pixels in (artifacts.images.items() if raw else ()):
            save_png(pixels, staging / f"{name}.png")
            files[f"{name}_png"] = f"{name}.png"
        for name, array in (artifacts.arrays.items() if raw else ()):
            save_npy(np.asarray(array, dtype=np.float32), staging / f"{name}.npy")
            files[f"{name}_npy"] = f"{name}.npy"
        for name, data in (extra or {}).items():
            (staging / name).write_bytes(data)
            files[name.replace(".", "_")] = name
        if figure and formats:
            from visualizer.core.figures import save_figure

            for path in save_figure(artifacts.figure(overlay=overlay), staging / "figure", formats=formats, dpi=dpi):
                files[f"figure_{path.suffix[1:]}"] = path.name
        record = {**record, "files": files}
        (staging / "result.json").write_text(json.dumps(record, indent=1, allow_nan=False), encoding="utf-8")
    return record


def run_folder_name(index: int, model_id: str) -> str:
    """``01-digits-standard``: sorted like the rows of the comparison figure, safe on every
    file system whatever the model id holds (paths, colons)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in model_id).strip("-.") or "model"
    return f"{index + 1:02d}-{safe[:60]}"


def write_comparison(out_dir: str | Path, runs: list, overwrite: bool = False, dpi: int = 200,
                     formats: tuple[str, ...] = ("png", "pdf", "svg")) -> tuple[dict, list[dict]]:
    """The same attack on several models: each run in its own subfolder (as ``write_run``
    writes it), the comparison figure as comparison.png/.pdf/.svg and comparison.json
    listing the runs. Atomic as a whole, like ``write_run``. Returns comparison.json's dict
    and each run's record as written."""
    from visualizer.core.figures import attack_comparison_figure, save_figure

    out_dir = Path(out_dir)
    with _staged(out_dir, overwrite) as staging:
        entries, records = [], []
        for i, art in enumerate(runs):
            folder = run_folder_name(i, str((art.record.get("model") or {}).get("id", "model")))
            record = write_run(staging / folder, art, dpi=dpi, formats=formats)
            records.append(record)
            entries.append({"folder": folder, "model": record["model"]["id"], "success": record["success"],
                            "success_quantized": record["success_quantized"],
                            "clean_top1": record["clean"]["top5"][0],
                            "adversarial_top1": record["adversarial"]["top5_quantized"][0]})
        figure = attack_comparison_figure([a.record for a in runs], [a.arrays["clean"] for a in runs],
                                          [a.arrays["adversarial"] for a in runs])
        files = [p.name for p in save_figure(figure, staging / "comparison", formats=formats, dpi=dpi)]
        summary = {"schema_version": 1, "kind": "attack_comparison", "parameters": runs[0].record["parameters"],
                   "runs": entries, "files": files}
        (staging / "comparison.json").write_text(json.dumps(summary, indent=1, allow_nan=False), encoding="utf-8")
    return summary, records
