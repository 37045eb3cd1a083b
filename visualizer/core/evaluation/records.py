"""What an evaluation produces, as plain data: one ``BatchRecord`` per finished batch (what a
process sends to rank 0 and what the resume state keeps on disk) and the ``Evaluation``
they add up to (per-example rows per model and threat, times, checks, the gallery)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field

from visualizer.core.evaluation.checks import MaskingCounts
from visualizer.core.evaluation.gallery import Candidate, Gallery
from visualizer.core.evaluation.relations import relation_warnings, wilson_interval

# per_example.csv, in order. margin: true-class logit minus the largest other (negative:
# misclassified); confidence: softmax probability of the prediction; linf/l2: norms of the
# kept point minus the clean input, [0, 1] pixel units; queries: forward passes spent on the
# example (clean pass, attack iterates, rescoring), empty where unknown (AutoAttack);
# attack: what broke it ("transfer": the source's example, on another model); rotation (degrees) / tx / ty
# (pixels): the spatial transform kept; queries_at_success: oracle queries the query attack (square, nes,
# hopskipjump) that broke it spent, its clean query included (empty otherwise).
COLUMNS = ("index", "label", "prediction", "success", "margin", "confidence", "linf", "l2", "queries", "attack",
           "rotation", "tx", "ty", "queries_at_success")


def _clean_float(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def outcome_rows(indices: list[int], labels: list[int], outcome) -> dict[str, list]:
    """Columns (see COLUMNS) of a ThreatOutcome, as JSON-ready lists (NaN -> None)."""
    t = outcome.transform.tolist()
    queries = outcome.queries.tolist()
    return {
        "index": list(indices), "label": list(labels), "prediction": outcome.prediction.tolist(),
        "success": outcome.success.tolist(), "margin": [_clean_float(v) for v in outcome.margin.tolist()],
        "confidence": [_clean_float(v) for v in outcome.confidence.tolist()],
        "linf": [_clean_float(v) for v in outcome.linf.tolist()], "l2": [_clean_float(v) for v in outcome.l2.tolist()],
        "queries": [q if q >= 0 else None for q in queries], "attack": list(outcome.attack),
        "rotation": [_clean_float(r[0]) for r in t], "tx": [_clean_float(r[1]) for r in t],
        "ty": [_clean_float(r[2]) for r in t],
        "queries_at_success": [q if q >= 0 else None for q in outcome.queries_at_success.tolist()],
    }


@dataclass
class BatchRecord:
    batch: int
    indices: list[int]
    cells: list[dict]                  # {"model", "threat", "rows", "wall_time_s", "warnings"}
    masking: list[dict]                # per model, MaskingCounts.to_dict()
    gallery: list[Candidate] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"batch": self.batch, "indices": self.indices, "cells": self.cells, "masking": self.masking}

    @classmethod
    def from_json(cls, data: dict) -> "BatchRecord":
        return cls(int(data["batch"]), list(data["indices"]), list(data["cells"]), list(data["masking"]))


@dataclass
class Evaluation:
    """Everything finished so far. ``rows[(m, t)]``: columns for model m under threat t."""

    model_ids: list[str]
    model_infos: list[dict]
    threats: list
    data: dict
    examples: int                      # examples asked for
    batch_size: int
    batches_total: int
    seed: int
    processes: int = 1
    device: str = "cpu"
    class_names: list = field(default_factory=list)     # per model: its data set's names of the label indices
    rows: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    cell_warnings: dict = field(default_factory=dict)
    masking: list = field(default_factory=list)
    gallery: Gallery = field(default_factory=Gallery)
    batches_done: set = field(default_factory=set)
    cancelled: bool = False
    wall_time_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.masking:
            self.masking = [MaskingCounts() for _ in self.model_ids]

    def add(self, record: BatchRecord) -> None:
        if record.batch in self.batches_done:
            return
        self.batches_done.add(record.batch)
        for cell in record.cells:
            key = (cell["model"], cell["threat"])
            columns = self.rows.setdefault(key, {name: [] for name in COLUMNS})
            size = len(cell["rows"]["index"])
            for name in COLUMNS:   # .get: a resume state written before a column existed
                columns[name].extend(cell["rows"].get(name, [None] * size))
            self.seconds[key] = self.seconds.get(key, 0.0) + float(cell["wall_time_s"])
            known = self.cell_warnings.setdefault(key, [])
            known.extend(w for w in cell["warnings"] if w not in known)
        for m, counts in enumerate(record.masking):
            self.masking[m].add(MaskingCounts(**counts))
        self.gallery.offer(record.gallery)

    @property
    def complete(self) -> bool:
        return len(self.batches_done) == self.batches_total

    @property
    def examples_done(self) -> int:
        key = next(iter(self.rows), None)
        return len(self.rows[key]["index"]) if key is not None else 0

    def cell_rows(self, model: int, threat: int) -> dict[str, list]:
        """Columns of one cell, sorted by example index (processes finish in any order)."""
        columns = self.rows.get((model, threat), {name: [] for name in COLUMNS})
        order = sorted(range(len(columns["index"])), key=columns["index"].__getitem__)
        return {name: [values[i] for i in order] for name, values in columns.items()}

    def summary(self, model: int, threat: int) -> dict:
        rows = self.cell_rows(model, threat)
        n = len(rows["index"])
        correct = sum(1 for s in rows["success"] if not s)
        broken = Counter(a for a in rows["attack"] if a)
        clean_correct = n - broken.get("clean", 0)
        low, high = wilson_interval(correct, n)
        seconds = self.seconds.get((model, threat), 0.0)
        known_queries = [q for q in rows["queries"] if q is not None]
        at_success = sorted(q for q in rows["queries_at_success"] if q is not None)
        return {
            "model": self.model_ids[model], "threat": self.threats[threat].text,
            "accuracy": correct / n if n else None, "correct": correct, "n": n,
            "ci95": [low, high] if n else None,
            "attack_success_rate": (clean_correct - correct) / clean_correct if clean_correct else None,
            "broken_by": dict(sorted(broken.items())),
            "mean_queries": sum(known_queries) / len(known_queries) if known_queries else None,
            # Query attacks: oracle queries of the examples they broke (None when they broke none).
            "median_queries_at_success": statistics.median(at_success) if at_success else None,
            "mean_queries_at_success": statistics.fmean(at_success) if at_success else None,
            "wall_time_s": seconds, "images_per_s": n / seconds if seconds > 0 else None,
            "warnings": list(self.cell_warnings.get((model, threat), [])),
        }

    def summaries(self) -> list[dict]:
        return [self.summary(m, t) for m in range(len(self.model_ids)) for t in range(len(self.threats))
                if (m, t) in self.rows]

    def robust_masks(self, model: int) -> dict:
        import torch

        return {t: ~torch.tensor(self.cell_rows(model, t)["success"], dtype=torch.bool)
                for t in range(len(self.threats)) if (model, t) in self.rows}

    def warnings(self) -> list[str]:
        """Masking checks, the classic relations, then each cell's attack warnings."""
        out = []
        for m, model_id in enumerate(self.model_ids):
            out += self.masking[m].warnings(model_id)
            out += relation_warnings(model_id, self.threats, self.robust_masks(m))
        for (m, t), messages in sorted(self.cell_warnings.items()):
            out += [f"{self.model_ids[m]}, {self.threats[t].text}: {w}" for w in messages]
        return out
