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
from visualizer.core.evaluation.transfer import score_transfer, white_box_threat


@dataclass
class AttackProgress:
    """Progress inside a batch on this process: which model, threat and attack, and its steps."""

    batch: int
    model: str
    threat: str
    attack: str
    done: int
    total: int


def _run_threat(model, x, y, clean_logits, threat, seed: int, batch: int, cancel):
    """evaluate_threat relayed as AttackProgress; a transfer threat on its own source runs its
    white-box attack (with the seeds of that attack as a plain threat)."""
    run = evaluate_threat(model, x, y, clean_logits, white_box_threat(threat) if threat.is_transfer else threat,
                          seed, batch, cancel)
    while True:
        try:
            event: StageProgress = next(run)
        except StopIteration as stop:
            return stop.value
        yield AttackProgress(batch, model.info.model_id, threat.text, event.attack, event.done, event.total)


def evaluate_batch(models: list, datasets: list, threats: list, batch: int, indices: list[int], seed: int,
                   cancel: CancelToken | None = None) -> Generator[AttackProgress, None, BatchRecord | None]:
    """``datasets[m]`` is the data set as model m reads it (its own input size and class
    matching); ``indices`` the examples of this batch. None when cancelled.

    Transfer threats (``threat.source`` set) run white-box on their source model in the
    first pass; the second pass scores the source's kept points on every other model."""
    cells, masking, gallery = [], [], []
    index = torch.tensor(indices, dtype=torch.long)
    ids = [m.info.model_id for m in models]
    inputs, crafted = [], {}
    for m, (model, data) in enumerate(zip(models, datasets)):
        x, y = data.batch(index, device=model.device)
        checks = check_batch(model, x, y)
        inputs.append((x, y, checks))
        masking.append(checks.counts.to_dict())
        for t, threat in enumerate(threats):
            if threat.source is not None and threat.source != ids[m]:
                continue                      # scored in the second pass
            outcome = yield from _run_threat(model, x, y, checks.clean_logits, threat, seed, batch, cancel)
            if outcome is None:
                return None
            if threat.source is not None:
                crafted[t] = outcome.adversarial
            cells.append((m, t, outcome, checks.forward_s))
    for t, threat in enumerate(threats):
        if threat.source is None:
            continue
        for m, model in enumerate(models):
            if ids[m] != threat.source:
                x, y, checks = inputs[m]
                cells.append((m, t, score_transfer(model, x, y, checks.clean_logits, crafted[t]), checks.forward_s))
    records = []
    for m, t, outcome, forward_s in sorted(cells, key=lambda c: (c[0], c[1])):
        labels = inputs[m][1].tolist()
        records.append({"model": m, "threat": t, "rows": outcome_rows(indices, labels, outcome),
                        "wall_time_s": forward_s + outcome.wall_time_s, "warnings": outcome.warnings})
        gallery += candidates(m, t, indices, labels, outcome, threats[t].is_clean)
    return BatchRecord(batch, list(indices), records, masking, gallery)
