"""The rate sweep behind ``visualizer poison``: decode the data once, then for every poison
rate plant the poisons in a copy, train with the project's trainer (``train_steps`` on the
in-memory copy), measure clean accuracy and attack success rate, and optionally run the
spectral-signature detector and retrain without what it flags.

A generator like the trainer: it passes the trainer's events on, adds ``RateStarted`` /
``RateDone``, and returns a ``SweepResult``. Cancelling stops after the current batch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from visualizer.core.cancel import CancelToken, is_cancelled
from visualizer.core.data.dataset import Dataset
from visualizer.core.errors import ParameterError
from visualizer.core.models.arch import resolve_arch
from visualizer.core.models.wrapper import class_index
from visualizer.core.poisoning import detector
from visualizer.core.poisoning.badnets import badnets
from visualizer.core.poisoning.clean_label import check_robust_model, clean_label
from visualizer.core.poisoning.config import FIGURE_EXAMPLES, PoisonConfig
from visualizer.core.poisoning.poisoned_set import PoisonedSet, require_in_memory, triggered_test_set
from visualizer.core.poisoning.trained import evaluate_backdoor, load_trained, note_poisoning
from visualizer.core.training import TrainConfig, parse_adversarial, train_steps
from visualizer.core.training.data import TrainingData, load_training_data


@dataclass
class RateStarted:
    rate: float
    number: int          # 1-based
    rates: int
    poisons: int
    what: str            # "poisoned" or "retrained without flagged examples"


@dataclass
class RateDone:
    entry: dict          # the rate's poison.json entry
    # with the detector: the pixels (K x C x H x W, [0, 1]) of the training images in
    # entry["detection"]["most_suspect"], in that order, as the model was trained on them
    suspect_images: torch.Tensor | None = None


@dataclass
class SweepReady:
    """The data is read and the figure's examples are chosen (before any training)."""

    examples_clean: torch.Tensor        # K x C x H x W pixels in [0, 1]
    examples_triggered: torch.Tensor
    example_labels: list[int]
    class_names: list[str]
    target: int                         # the class index the trigger should produce


@dataclass
class SweepResult:
    entries: list[dict]
    data: TrainingData
    examples_clean: torch.Tensor        # K x C x H x W pixels: the figure's test images
    examples_triggered: torch.Tensor
    example_labels: list[int]
    seconds: float
    cancelled: bool = False


SUSPECTS_SHOWN = 16      # flagged training images kept for the record and the window, most suspect first


def rate_folder(rate: float) -> str:
    return f"rate-{rate:g}"


def _train_config(config: PoisonConfig, out: Path) -> TrainConfig:
    return TrainConfig(data=config.data, arch=config.arch, out=str(out), adversarial=parse_adversarial("none"),
                       epochs=config.epochs, seed=config.seed, limit=config.limit, eval_limit=config.eval_limit,
                       eval_attack="none", batch_size=config.batch_size, lr=config.lr)


def _figure_examples(triggered: Dataset) -> torch.Tensor:
    """Indices into the triggered set: the first test image of each non-target class, then
    the next ones, FIGURE_EXAMPLES in all."""
    labels = triggered.labels
    firsts = [int(torch.nonzero(labels == c).flatten()[0]) for c in labels.unique().tolist()]
    rest = [i for i in range(len(labels)) if i not in set(firsts)]
    return torch.tensor((firsts + rest)[:FIGURE_EXAMPLES], dtype=torch.long)


def sweep_steps(config: PoisonConfig, robust_model: Callable | None = None, device: str | None = "cpu",
                command: str | None = None, cancel: CancelToken | None = None):
    started = time.perf_counter()
    out = Path(config.out)
    dev = torch.device(device if device not in (None, "auto") else "cpu")
    choice = resolve_arch(config.arch)
    data = load_training_data(_train_config(config, out), choice.preprocessing)
    train, test = require_in_memory(data.train), require_in_memory(data.test).first(config.eval_limit)
    try:
        config.target = class_index(config.target, train.class_names, owner="the data")
    except ParameterError as exc:
        raise ParameterError(f"--target: {exc}") from None
    if config.attack == "clean-label":
        if robust_model is None:
            raise ParameterError("clean-label poisoning needs --robust-model (an adversarially trained model of "
                                 "this data, e.g. from `visualizer train --adversarial pgd:linf:0.3`).")
        check_robust_model(robust_model, tuple(train.images.shape[1:]), train.num_classes, dev)
    triggered = triggered_test_set(test, config.trigger, config.target)
    shown = _figure_examples(triggered)
    others = torch.nonzero(test.labels != config.target).flatten()
    examples_clean, _ = test.batch(others[shown])
    examples_triggered, example_labels = triggered.batch(shown)
    entries: list[dict] = []
    result = SweepResult(entries, data, examples_clean, examples_triggered, example_labels.tolist(), 0.0)
    yield SweepReady(examples_clean, examples_triggered, result.example_labels, list(train.class_names),
                     config.target)
    for number, rate in enumerate(config.rates, start=1):
        poisoned = _poison(config, train, rate, robust_model, dev)
        yield RateStarted(rate, number, len(config.rates), len(poisoned.poison_index), "poisoned")
        folder = out / rate_folder(rate)
        trained = yield from _train_and_measure(config, poisoned.data, data, test, triggered, folder, command,
                                                 cancel, device, rate, poisoned, shown, examples_clean)
        if trained is None:
            result.cancelled = True
            break
        entry, model = trained
        entry["detection"], suspects = None, None
        if config.detect and len(poisoned.poison_index):
            found = yield from _detect_and_retrain(config, poisoned, model, data, test, triggered, folder, command,
                                                   cancel, device, rate, number, shown, examples_clean, dev)
            if found is None:
                result.cancelled = True
                entries.append(entry)
                break
            entry["detection"], suspects = found
        entries.append(entry)
        yield RateDone(entry, suspects)
        if is_cancelled(cancel):
            result.cancelled = True
            break
    result.seconds = time.perf_counter() - started
    return result


def _poison(config: PoisonConfig, train: Dataset, rate: float, robust_model, dev) -> PoisonedSet:
    if rate == 0:
        return PoisonedSet(train, torch.zeros(0, dtype=torch.long), train.labels)
    if config.attack == "badnets":
        return badnets(train, config.trigger, config.target, rate, config.seed)
    return clean_label(train, config.trigger, config.target, rate, config.seed, robust_model,
                       config.perturb_eps, config.perturb_steps, dev)


def _train_and_measure(config, train_set, data, test, triggered, folder, command, cancel, device, rate,
                       poisoned, shown, examples_clean):
    """Train on ``train_set`` into ``folder``; (entry, model) or None when cancelled."""
    training = TrainingData(train_set, test, data.test_source)
    result = yield from train_steps(_train_config(config, folder), device=device, overwrite=True, command=command,
                                    cancel=cancel, data=training)
    if result.cancelled:
        return None
    model = load_trained(folder, config.arch, train_set.num_classes, device)
    measured = evaluate_backdoor(model, test, triggered, config.target, device, shown, examples_clean)
    note_poisoning(folder, result.card, config, rate, poisoned)
    entry = {"rate": rate, "poisons": int(len(poisoned.poison_index)), "training_images": len(train_set),
             **measured, "model": f"{folder.name}/model.safetensors",
             "train_seconds": result.card["time"]["train_seconds"]}
    return entry, model


def _detect_and_retrain(config, poisoned, model, data, test, triggered, folder, command, cancel, device, rate,
                        number, shown, examples_clean, dev):
    """(the entry's detection record, the most suspect images' pixels), or None when cancelled."""
    acts = detector.penultimate_activations(model, poisoned.data, dev)
    eps = config.detect_eps
    if eps is None:
        eps = detector.largest_class_fraction(poisoned.data.labels, poisoned.poison_index)
    flagged = detector.flag_per_class(acts, poisoned.data.labels, eps, config.detect_directions)
    found = detector.precision_recall(flagged, poisoned.poison_index)
    suspects, relative = detector.most_suspect(acts, poisoned.data.labels, flagged, config.detect_directions,
                                               SUSPECTS_SHOWN)
    poison_set = set(poisoned.poison_index.tolist())
    most_suspect = [{"index": i, "label": int(poisoned.data.labels[i]),
                     "true_label": int(poisoned.original_labels[i]), "poison": i in poison_set,
                     "relative_score": round(float(r), 3)}
                    for i, r in zip(suspects.tolist(), relative.tolist())]
    suspect_images, _ = poisoned.data.batch(suspects)
    keep = torch.ones(len(poisoned.data), dtype=torch.bool)
    keep[flagged] = False
    kept_index = torch.nonzero(keep).flatten()
    remaining = int(keep[poisoned.poison_index].sum())
    yield RateStarted(rate, number, len(config.rates), remaining, "retrained without flagged examples")
    cleaned = PoisonedSet(poisoned.data.subset(kept_index), torch.zeros(0, dtype=torch.long), poisoned.original_labels)
    trained = yield from _train_and_measure(config, cleaned.data, data, test, triggered, folder / "cleaned",
                                            command, cancel, device, rate, cleaned, shown, examples_clean)
    if trained is None:
        return None
    entry, _ = trained
    entry["poisons"] = remaining
    entry["model"] = f"{folder.name}/cleaned/model.safetensors"
    return {"method": "spectral-signatures", "eps": eps, "removal_margin": detector.REMOVAL_MARGIN,
            "directions": config.detect_directions,
            "eps_source": "--detect-eps" if config.detect_eps is not None else
            "the true poisoned fraction of the most poisoned class (known budget, as in Tran et al.'s experiments)",
            **found, "retrained": entry, "most_suspect": most_suspect}, suspect_images
