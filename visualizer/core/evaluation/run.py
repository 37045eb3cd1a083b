"""An evaluation of models under threats over the first N examples of a data set, as a
generator: it yields progress events (attack steps on this process, then a summary after
every finished round of batches) and returns the ``Evaluation`` (on rank 0; None on the
other ranks of a distributed run). Cancel stops at the next step; finished batches are kept
(and written, when a ``RunStore`` is given), the unfinished one is dropped.

The window drives it the way the CLI does: events out, a CancelToken in.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Generator

from visualizer.core.cancel import CancelToken, is_cancelled
from visualizer.core.errors import DataError, ParameterError
from visualizer.core.evaluation.batch import AttackProgress, evaluate_batch
from visualizer.core.evaluation.distributed import SingleProcess
from visualizer.core.evaluation.gallery import GALLERY_SIZE, Gallery
from visualizer.core.evaluation.records import Evaluation
from visualizer.core.evaluation.store import RunStore
from visualizer.core.evaluation.threats import check_threats_fit
from visualizer.core.evaluation.transfer import expand_transfer


@dataclass
class BatchesFinished:
    """After each round: ``examples_done`` of ``examples_total`` (all processes, earlier
    sessions included); ``cells``: accuracy so far per model and threat (rank 0 only)."""

    examples_done: int
    examples_total: int
    new_examples: int                 # done in this session
    elapsed_s: float
    cells: list[dict] | None

    @property
    def images_per_s(self) -> float:
        return self.new_examples / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float:
        rate = self.images_per_s
        return (self.examples_total - self.examples_done) / rate if rate > 0 else float("nan")


def settings_fingerprint(models: list, data: dict, threats: list, batch_size: int, seed: int) -> dict:
    """What makes two runs the same run (compared on --resume)."""
    return {"models": [[m.info.model_id, m.info.weights_sha256] for m in models],
            "data": {k: data.get(k) for k in ("spec", "split", "size")},
            "threats": [t.text for t in threats], "batch_size": batch_size, "seed": seed}


def _check_inputs(models: list, datasets: list, threats: list, batch_size: int) -> int:
    if not models or len(models) != len(datasets):
        raise ParameterError("Give one data set (as that model reads it) per model.")
    if not threats:
        raise ParameterError("Give at least one threat.")
    check_threats_fit(threats, models)
    if batch_size < 1:
        raise ParameterError(f"The batch size must be at least 1, not {batch_size}.")
    sizes = {len(d) for d in datasets}
    if len(sizes) != 1 or 0 in sizes:
        raise DataError(f"The data set must hold the same examples for every model, and some; got sizes {sorted(sizes)}.")
    return sizes.pop()


def evaluate(models: list, datasets: list, threats: list, batch_size: int = 64, seed: int = 0,
             cancel: CancelToken | None = None, store: RunStore | None = None, collective=None,
             gallery_size: int = GALLERY_SIZE) -> Generator[AttackProgress | BatchesFinished, None, Evaluation | None]:
    """``models``: loaded ClassifierModels; ``datasets[m]``: the examples as model m reads them
    (same examples, same order); ``threats``: parsed Threats (a transfer threat becomes one
    threat per source model, see evaluation.transfer)."""
    started = time.perf_counter()
    coll = collective or SingleProcess()
    n = _check_inputs(models, datasets, threats, batch_size)
    threats = expand_transfer(list(threats), [m.info.model_id for m in models])
    batches = math.ceil(n / batch_size)
    lead = coll.rank == 0
    result = Evaluation([m.info.model_id for m in models], [m.info.to_dict() for m in models], list(threats),
                        datasets[0].describe(), n, batch_size, batches, seed, coll.world_size,
                        str(models[0].device), class_names=[list(d.class_names) for d in datasets],
                        gallery=Gallery(gallery_size))
    if lead and store is not None:
        result.gallery = store.gallery(gallery_size)
        for record in store.finished():
            result.add(record)
    done_before = sorted(coll.broadcast(sorted(result.batches_done) if lead else None))
    todo = [b for b in range(batches) if b not in set(done_before)]

    def size(b: int) -> int:
        return min(n, (b + 1) * batch_size) - b * batch_size

    examples_done = sum(size(b) for b in done_before)
    new_examples = 0
    if examples_done:      # resumed: the count so far, before this run's first batch
        yield BatchesFinished(examples_done, n, 0, time.perf_counter() - started,
                              result.summaries() if lead else None)
    for first in range(0, len(todo), coll.world_size):
        round_batches = todo[first:first + coll.world_size]
        mine = round_batches[coll.rank] if coll.rank < len(round_batches) else None
        record = None
        if mine is not None:
            indices = list(range(mine * batch_size, mine * batch_size + size(mine)))
            record = yield from evaluate_batch(models, datasets, threats, mine, indices, seed, cancel)
        stop = coll.any(is_cancelled(cancel) or (mine is not None and record is None))
        gathered = coll.gather(record)
        finished = [b for b, r in zip(round_batches, gathered or []) if r is not None] if lead else []
        if lead:
            for r in gathered:
                if r is not None:
                    result.add(r)
                    if store is not None:
                        store.save(r, result.gallery)
        counted = coll.broadcast(sum(size(b) for b in finished) if lead else None)
        examples_done += counted
        new_examples += counted
        yield BatchesFinished(examples_done, n, new_examples, time.perf_counter() - started,
                              result.summaries() if lead else None)
        if stop:
            result.cancelled = True
            break
    result.wall_time_s = time.perf_counter() - started
    return result if lead else None
