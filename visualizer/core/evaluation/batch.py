"""One batch of examples through every model and every threat: the unit a process works on,
rank 0 records, and a resumed run skips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generator

import torch

from visualizer.core.cancel import CancelToken
from visualizer.core.evaluation.checks import check_batch
from visualizer.core.evaluation.ensemble import StageProgress, evaluate_threat
from visualizer.core.evaluation.gallery import candidates
from visualizer.core.evaluation.records import BatchRecord, outcome_rows


@dataclass
class AttackProgress:
    """Progress inside a batch on this process: which model, threat and attack, and its steps."""

    batch: int
    model: str
    threat: str
    attack: str
    done: int
    total: int


def evaluate_batch(models: list, datasets: list, threats: list, batch: int, indices: list[int], seed: int,
                   cancel: CancelToken | None = None) -> Generator[AttackProgress, None, BatchRecord | None]:
    """``datasets[m]`` is the data set as model m reads it (its own input size and class
    matching); ``indices`` the examples of this batch. None when cancelled."""
    cells, masking, gallery = [], [], []
    index = torch.tensor(indices, dtype=torch.long)
    for m, (model, data) in enumerate(zip(models, datasets)):
        x, y = data.batch(index, device=model.device)
        checks = check_batch(model, x, y)
        masking.append(checks.counts.to_dict())
        labels = y.tolist()
        for t, threat in enumerate(threats):
            run = evaluate_threat(model, x, y, checks.clean_logits, threat, seed, batch, cancel)
            while True:
                try:
                    event: StageProgress = next(run)
                except StopIteration as stop:
                    outcome = stop.value
                    break
                yield AttackProgress(batch, model.info.model_id, threat.text, event.attack, event.done, event.total)
            if outcome is None:
                return None
            cells.append({"model": m, "threat": t, "rows": outcome_rows(indices, labels, outcome),
                          "wall_time_s": checks.forward_s + outcome.wall_time_s, "warnings": outcome.warnings})
            gallery += candidates(m, t, indices, labels, outcome, threat.is_clean)
    return BatchRecord(batch, list(indices), cells, masking, gallery)
