"""The Poison panel's worker side: the core's rate sweep (``sweep_steps``, as `visualizer
poison` runs it) with its events turned into snapshots the GUI thread can draw.

The worker passes on only the latest event of a burst, so every snapshot carries all that
finished so far (rate entries, the examples, each rate's most suspect images): a rate is
never lost when its ``RateDone`` is dropped for a later batch's progress."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from visualizer.core.poisoning import RateDone, RateStarted, SweepReady, sweep_steps
from visualizer.core.training import BatchProgress

STEPS_PER_RATE = 1000            # the progress bar's resolution within one rate


@dataclass(frozen=True)
class PoisonSnapshot:
    entries: tuple[dict, ...]              # poison.json rate entries finished so far
    examples: dict | None                  # {"clean", "triggered": K x C x H x W arrays, "labels", "names", "target"}
    suspects: dict                         # rate -> K x C x H x W array of the most suspect training images
    done: int                              # progress in STEPS_PER_RATE units per rate
    total: int
    detail: str                            # "rate 2/5 (0.1%, 60 poisons): poisoned · epoch 1/1 · 41 batch/s"


@dataclass
class PoisonRun:
    result: object                         # SweepResult
    record: dict                           # poison.json as the CLI writes it
    out: Path                              # where the sweep trained (rate-R/ folders)
    suspects: dict = field(default_factory=dict)


def sweep_job(request, robust_model, cancel):
    """The worker's generator: ``sweep_steps`` for ``request`` (a PoisonRequest) with
    ``robust_model`` (clean-label: a callable on [0, 1] pixels, or a bundled name loaded
    here); yields PoisonSnapshot, returns PoisonRun."""
    from visualizer.cli.poison import command_line
    from visualizer.core.poisoning.record import build_record
    from visualizer.core.training.card import now_iso

    config = request.config
    if isinstance(robust_model, str):      # a bundled model: loaded here, off the GUI thread
        from visualizer.core.models.options import LoadOptions
        from visualizer.core.models.registry import load_model

        robust_model = load_model(robust_model, LoadOptions(device="cpu"))
    command, started = command_line(config), now_iso()
    rates = len(config.rates)
    # with the detector, a poisoned rate trains twice: poisoned, then without what was flagged
    phases = 2 if config.detect else 1
    entries: list[dict] = []
    suspects: dict = {}
    examples = None
    base, share, what = 0, STEPS_PER_RATE, ""
    steps = sweep_steps(config, robust_model, device="cpu", command=command, cancel=cancel)
    try:
        while True:
            try:
                event = next(steps)
            except StopIteration as stop:
                result = stop.value
                return PoisonRun(result, build_record(config, result, command, started), Path(config.out), suspects)
            if isinstance(event, SweepReady):
                examples = {"clean": event.examples_clean.numpy(), "triggered": event.examples_triggered.numpy(),
                            "labels": list(event.example_labels), "names": list(event.class_names),
                            "target": event.target}
            elif isinstance(event, RateStarted):
                retraining = event.what != "poisoned"
                share = STEPS_PER_RATE // (phases if event.rate > 0 else 1)
                base = (event.number - 1) * STEPS_PER_RATE + (share if retraining else 0)
                what = (f"rate {event.number}/{event.rates} ({event.rate * 100:g}%, {event.poisons} poisons): "
                        f"{event.what}")
            elif isinstance(event, RateDone):
                entries.append(event.entry)
                if event.suspect_images is not None:
                    suspects[event.entry["rate"]] = event.suspect_images.numpy()
                base, share = len(entries) * STEPS_PER_RATE, 0
            done = base
            detail = what
            if isinstance(event, BatchProgress) and event.batches:
                fraction = ((event.epoch - 1) * event.batches + event.batch) / (event.epochs * event.batches)
                done = base + int(share * fraction)
                detail = f"{what} · epoch {event.epoch}/{event.epochs}"
            yield PoisonSnapshot(tuple(entries), examples, dict(suspects), min(done, rates * STEPS_PER_RATE),
                                 rates * STEPS_PER_RATE, detail)
    finally:
        steps.close()
