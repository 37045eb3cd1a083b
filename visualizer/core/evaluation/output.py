"""An evaluation's files: evaluation.json (schema: core/schema/evaluation.schema.json),
per_example.csv, table / curves / gallery figures in PNG, PDF and SVG. Each file is written
atomically, so an interrupted write never leaves half a file; the resumable state beside
them (store.py) is what a resumed run continues from."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from visualizer.core.atomic import write_atomically
from visualizer.core.figures.evaluation import curves_figure, display_names, table_figure
from visualizer.core.figures.gallery import gallery_figure
from visualizer.core.figures.transfer import transfer_figure
from visualizer.core.evaluation.transfer import transfer_matrices
from visualizer.core.evaluation.records import COLUMNS, Evaluation
from visualizer.core.export import _staged, run_folder_name
from visualizer.core.figures import FORMATS, save_figure
from visualizer.core.results import _header


def evaluation_record(ev: Evaluation, warnings: list[str] | None = None) -> dict:
    """evaluation.json's content (without ``files``). ``warnings``: extra ones to include."""
    rec = _header("evaluation", ev.device, ev.seed, ev.wall_time_s)
    threats = [t.to_dict() for t in ev.threats]
    results = []
    for cell in ev.summaries():
        threat = threats[[t["id"] for t in threats].index(cell["threat"])]
        results.append({**cell, "threat_label": threat["label"], "norm": threat["norm"], "eps": threat["eps"],
                        "parameters": threat["attacks"]})
    rec.update({
        "data": ev.data,
        "examples": {"requested": ev.examples, "done": ev.examples_done, "batch_size": ev.batch_size,
                     "batches_done": len(ev.batches_done), "batches_total": ev.batches_total},
        "processes": ev.processes,
        "seeding": "every batch and attack stage seeds its own generator from (seed, batch, threat id, stage), "
                   "so resumed and distributed runs draw the same random numbers as one uninterrupted process",
        "complete": ev.complete,
        "cancelled": ev.cancelled,
        "models": ev.model_infos,
        "threats": threats,
        "results": results,
        "transfer": transfer_matrices(threats, results, ev.model_ids),
        "masking_checks": [{"model": mid, **ev.masking[m].to_dict()} for m, mid in enumerate(ev.model_ids)],
        "warnings": list(dict.fromkeys(ev.warnings() + list(warnings or []))),
    })
    return rec


def per_example_csv(ev: Evaluation) -> bytes:
    """One row per model, threat and example (COLUMNS, after model and threat); empty cells
    where a value does not apply."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("model", "threat") + COLUMNS)
    for m, model_id in enumerate(ev.model_ids):
        for t, threat in enumerate(ev.threats):
            rows = ev.cell_rows(m, t)
            for k in range(len(rows["index"])):
                values = []
                for name in COLUMNS:
                    v = rows[name][k]
                    values.append("" if v is None else int(v) if isinstance(v, bool) else
                                  f"{v:.6g}" if isinstance(v, float) else v)
                writer.writerow([model_id, threat.text] + values)
    return buffer.getvalue().encode("utf-8")


def write_evaluation(out_dir: str | Path, ev: Evaluation, dpi: int = 200, warnings: list[str] | None = None,
                     formats: tuple[str, ...] = FORMATS) -> dict:
    """Write every file into ``out_dir``; returns evaluation.json's content as written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = evaluation_record(ev, warnings)
    files: dict[str, list[str] | str] = {}
    csv_bytes = per_example_csv(ev)
    write_atomically(out / "per_example.csv", lambda fh: fh.write(csv_bytes), "the per-example table")
    files["per_example"] = "per_example.csv"
    # Transfer threats show in their own matrix, not as one column per source in the table.
    plain = {**record, "threats": [t for t in record["threats"] if t.get("source") is None]}
    plain["results"] = [r for r in record["results"] if r["threat"] in {t["id"] for t in plain["threats"]}]
    if plain["results"]:
        files["table"] = [p.name for p in save_figure(table_figure(plain), out / "table", formats, dpi)]
        curves = curves_figure(plain)
        if curves is not None:
            files["curves"] = [p.name for p in save_figure(curves, out / "curves", formats, dpi)]
    if record["results"]:
        matrix = transfer_figure(record)
        if matrix is not None:
            files["transfer_matrix"] = [p.name for p in save_figure(matrix, out / "transfer_matrix", formats, dpi)]
    side = record["models"][0]["preprocessing"]["input_size"] if record["models"] else None
    galleries = []
    names = display_names(ev.model_ids)
    for m, info in enumerate(ev.model_infos):
        rows = [ev.gallery.get(m, t) for t in range(len(ev.threats))]
        figure = gallery_figure(names[m], _class_names(ev, m), record["threats"], rows, side)
        if figure is None:
            continue
        stem = "gallery" if len(ev.model_ids) == 1 else f"gallery-{run_folder_name(m, names[m])}"
        galleries += [p.name for p in save_figure(figure, out / stem, formats, dpi)]
    if galleries:
        files["gallery"] = galleries
    record["files"] = files
    text = json.dumps(record, indent=1, allow_nan=False).encode("utf-8")
    write_atomically(out / "evaluation.json", lambda fh: fh.write(text), "evaluation.json")
    return record


def export_evaluation(out_dir: str | Path, ev: Evaluation, overwrite: bool = False, dpi: int = 200) -> dict:
    """``write_evaluation`` into a fresh folder as one step (the window's Export): written
    beside ``out_dir`` and renamed into place, so ``out_dir`` holds either what it held before
    or every file. A non-empty ``out_dir`` only with ``overwrite``. Raises OutputError."""
    out = Path(out_dir)
    with _staged(out, overwrite) as staging:
        record = write_evaluation(staging, ev, dpi=dpi)
    return record


def _class_names(ev: Evaluation, model: int) -> list[str]:
    return list(ev.class_names[model]) if model < len(ev.class_names) else list(ev.data.get("class_names") or [])
