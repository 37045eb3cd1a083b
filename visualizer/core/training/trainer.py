"""The training loop behind ``visualizer train``: standard, FGSM-RS or PGD adversarial
training of an architecture the app can load back, on any data-set spec.

``train_steps`` is a generator like the attack loop: it yields ``BatchProgress`` after every
weight update and ``EpochDone`` after every epoch, and returns a ``TrainResult``. Cancelling
stops after the current batch; the last finished epoch's checkpoint stays for ``--resume``
(and, with ``keep_on_cancel``, that epoch is also written as a loadable model). With an
``EpochWatch``, every epoch's record also holds robust accuracy on held-out images.

Choices, and why:
- Adam with a one-cycle schedule (the calibration in issue 12: 2 epochs give 99.2% on MNIST);
  ``sam`` > 0 makes each step sharpness-aware (``sam.py``, Foret et al. 2021), twice the cost.
- The attack of each batch comes from the project's own loop (``attacks.loop.perturb``, the
  unscored path of ``attack_steps``), so the attack that trains is the attack the user sees.
  By default it runs with the model in eval mode: batch-norm statistics are not moved by
  the k attack iterates and the attack is the one made on the finished model; Madry et al.
  and Wong et al. attacked in train mode (``--attack-mode train``). The mnist-cnn
  architectures have no batch norm or dropout, so for them both modes are the same.
- Weights are updated on the adversarial batch only, its last iterate (Madry et al. 2018).
- Reproducible: the initial weights come from the seed, the epoch's order from
  DistributedSampler(seed) (a world of one without torchrun), each batch's random start
  from a seed derived from (seed, step, rank). Nothing else draws random numbers, so the
  same command on the same CPU and thread count gives the same bits, and a resumed run
  equals an uninterrupted one.
"""

from __future__ import annotations

import contextlib

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generator

import torch
import torch.nn.functional as F
from torch.utils.data import DistributedSampler

from visualizer.core.attacks.loop import perturb
from visualizer.core.cancel import CancelToken, is_cancelled
from visualizer.core.device import pick_device
from visualizer.core.errors import ParameterError
from visualizer.core.models.arch import resolve_arch
from visualizer.core.models.layout import train_channels_last
from visualizer.core.resume import nothing_to_resume
from visualizer.core.training import outputs, sam
from visualizer.core.training.card import build_card, now_iso
from visualizer.core.training.data import TrainingData, load_training_data
from visualizer.core.training.distributed import World, join_world
from visualizer.core.training.evaluate import EpochWatch, accuracy, accuracy_steps
from visualizer.core.training.network import build_network
from visualizer.core.training.recipe import TrainConfig

# During adversarial training, clean accuracy is measured on every CLEAN_EVERY-th batch only
# (one extra forward pass each): enough for the progress line, under 2% of the epoch's cost.
CLEAN_EVERY = 20


@dataclass
class BatchProgress:
    """After one weight update. Counts are tensors on the training device (reading them
    waits for the GPU: do it only when showing them)."""

    epoch: int                 # 1-based
    epochs: int
    batch: int                 # 1-based, within the epoch, this process's batches
    batches: int
    eps: float                 # the attack budget this batch (ramps up during warm-up)
    loss_sum: torch.Tensor     # sum of training losses this epoch so far
    correct: torch.Tensor      # training-batch predictions right (adversarial ones when adversarial)
    seen: int
    clean_correct: torch.Tensor | None   # sampled clean accuracy during adversarial training
    clean_seen: int
    elapsed_s: float           # since this epoch started


@dataclass
class EpochDone:
    record: dict               # the epoch's history.json entry


@dataclass
class Evaluating:
    what: str                  # "clean" or "adversarial"
    done: int
    total: int


@dataclass
class TrainResult:
    out: Path
    card: dict | None          # None when cancelled before the end
    history: list[dict] = field(default_factory=list)
    cancelled: bool = False


def _evaluating(what: str, steps):
    """Pass an evaluation's (done, total) on as Evaluating events; return its counts."""
    while True:
        try:
            done, total = next(steps)
        except StopIteration as stop:
            return stop.value
        yield Evaluating(what, done, total)


def _batch_seed(seed: int, step: int, world: World) -> int:
    return (seed * 1_000_003 + step) * world.size + world.rank


def train_steps(config: TrainConfig, device: str | None = "auto", resume: bool = False, overwrite: bool = False,
                command: str | None = None, cancel: CancelToken | None = None, watch: EpochWatch | None = None,
                keep_on_cancel: bool = False, data: TrainingData | None = None
                ) -> Generator[BatchProgress | EpochDone | Evaluating, None, TrainResult]:
    """Train ``config``; yields progress events, returns a TrainResult (see the module
    docstring). ``watch``: also measure robust accuracy after every epoch (in its
    ``EpochDone`` record and history.json). ``keep_on_cancel``: a cancelled run that
    finished an epoch also writes that epoch's weights, labels and card (a loadable model;
    its checkpoint still resumes). ``data``: train and test on these in-memory sets instead
    of reading ``config.data`` (``visualizer poison`` trains on modified copies of one
    decoded set, a model thief its queries); their images must already be at the
    architecture's input size, and training labels may be N x classes probabilities (soft
    targets, cross-entropy against them; accuracy then counts their top-1). Raises
    VisualizerError subclasses for bad settings, data or output folders."""
    out = Path(config.out)
    resume = resume and not nothing_to_resume(out)     # nothing there yet: a new run (core.resume)
    world, dev = join_world(pick_device(device))
    try:
        with outputs.removed_if_left_empty(out) if world.is_main else contextlib.nullcontext():
            if world.is_main:
                outputs.prepare_folder(out, resume, overwrite)
            world.barrier()
            result = yield from _train(config, out, world, dev, resume, command, cancel, watch, keep_on_cancel,
                                       data)
    finally:
        world.close()
    return result


def _train(config: TrainConfig, out: Path, world: World, dev: torch.device, resume: bool, command: str | None,
           cancel: CancelToken | None, watch: EpochWatch | None, keep_on_cancel: bool,
           given: TrainingData | None = None):
    recipe = config.adversarial
    eval_attack = config.eval_params()   # a bad --eval-attack fails before any work
    if config.batch_size % world.size:
        raise ParameterError(f"--batch-size {config.batch_size} must divide evenly among the {world.size} "
                             "torchrun processes (it is the global batch).")
    choice = resolve_arch(config.arch)
    data: TrainingData = given if given is not None else load_training_data(config, choice.preprocessing)
    model = build_network(choice, data.train.num_classes, config.seed)
    model.to(dev)
    train_set, test_set = data.train.to(dev), data.test.to(dev)
    # Weights as built, before any step: the layout moves no value (see layout.py).
    train_channels_last(model, dev, world.backend is not None, train_set.batch(slice(0, 2), dev)[0])
    ddp = model
    if world.backend is not None:
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    local_batch = config.batch_size // world.size
    sampler = DistributedSampler(range(len(train_set)), num_replicas=world.size, rank=world.rank, shuffle=True,
                                 seed=config.seed, drop_last=False)
    batches = math.ceil(len(sampler) / local_batch)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr,
                                                   total_steps=config.epochs * batches)
    history: list[dict] = []
    start_epoch, train_seconds, started = 0, 0.0, now_iso()
    if resume:
        state = outputs.load_checkpoint(out, config.fingerprint())
        model.net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        start_epoch, history = int(state["epoch"]), list(state["history"])
        train_seconds, started = float(state["train_seconds"]), str(state["started"])

    clean_test = test_set.first(config.eval_limit)
    cancelled = False
    for epoch in range(start_epoch, config.epochs):
        sampler.set_epoch(epoch)
        order = torch.tensor(list(iter(sampler)), dtype=torch.long)
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), dtype=torch.long, device=dev)
        clean_correct = torch.zeros((), dtype=torch.long, device=dev) if recipe.adversarial else None
        seen = clean_seen = 0
        eps = 0.0
        epoch_start = time.perf_counter()
        model.train()
        for b in range(batches):
            x, y = train_set.batch(order[b * local_batch:(b + 1) * local_batch], dev)
            step = epoch * batches + b
            if recipe.adversarial:
                ramp = min(1.0, (step + 1) / (config.eps_warmup * batches)) if config.eps_warmup > 0 else 1.0
                eps = recipe.eps * ramp
                if b % CLEAN_EVERY == 0:   # sampled clean accuracy, on the same model the attack sees
                    model.eval()
                    with torch.no_grad():
                        clean_correct += (model(x).argmax(1) == y).sum()
                    clean_seen += len(y)
                model.train(config.attack_mode == "train")
                x = perturb(model, x, y, recipe.attack(eps, _batch_seed(config.seed, step, world)))
                model.train()
            logits = ddp(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.sam:   # the gradient at the weights moved rho up it (sharpness-aware, sam.py)
                params = [p for p in model.parameters() if p.requires_grad]
                moved = sam.climb(params, config.sam)
                optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(ddp(x), y).backward()
                sam.come_back(params, moved)
            optimizer.step()
            schedule.step()
            loss_sum += loss.detach() * len(y)
            correct += (logits.detach().argmax(1) == (y if y.dim() == 1 else y.argmax(1))).sum()
            seen += len(y)
            yield BatchProgress(epoch + 1, config.epochs, b + 1, batches, eps, loss_sum, correct, seen,
                                clean_correct, clean_seen, time.perf_counter() - epoch_start)
            # A cancel during the epoch's last batch lands after it: that epoch is then done,
            # and is checkpointed below rather than thrown away.
            if is_cancelled(cancel) and b + 1 < batches:
                cancelled = True
                break
        if cancelled:
            break
        seconds = time.perf_counter() - epoch_start
        train_seconds += seconds
        totals = world.sum([float(loss_sum), float(correct), seen,
                            float(clean_correct) if clean_correct is not None else 0.0, clean_seen])
        test_correct, test_n = accuracy(model, clean_test, dev, world)
        record = {
            "epoch": epoch + 1,
            "train_loss": totals[0] / max(totals[2], 1),
            ("train_adversarial_accuracy" if recipe.adversarial else "train_accuracy"): totals[1] / max(totals[2], 1),
            "train_clean_accuracy_sampled": totals[3] / totals[4] if recipe.adversarial and totals[4] else None,
            "test_clean_accuracy": test_correct / max(test_n, 1),
            "test_images": test_n,
            "eps": eps if recipe.adversarial else None,
            "lr_end": schedule.get_last_lr()[0],
            "seconds": round(seconds, 3),
            "batches_per_s": round(batches / seconds, 3) if seconds > 0 else None,
        }
        if watch is not None:
            robust = yield from _evaluating("adversarial", accuracy_steps(
                model, test_set.first(watch.images), dev, world, batch_size=200, attack=watch.attack))
            record.update(watch.record(*robust))
        history.append(record)
        if world.is_main:
            outputs.save_checkpoint(out, {
                "config": config.fingerprint(), "epoch": epoch + 1, "model": model.net.state_dict(),
                "optimizer": optimizer.state_dict(), "scheduler": schedule.state_dict(),
                "rng": torch.get_rng_state(), "history": history, "train_seconds": train_seconds,
                "started": started})
            outputs.write_json(out / outputs.HISTORY, history, "the training history")
        yield EpochDone(record)
        if is_cancelled(cancel):   # at an epoch boundary: stop before the next epoch's first batch
            cancelled = True
            break

    if cancelled:
        card = None
        if keep_on_cancel and history:
            card = _keep_last_epoch(config, choice, data, history, world, dev, command, started, train_seconds, out)
        return TrainResult(out, card, history, cancelled=True)
    last = history[-1]
    metrics = {"clean_accuracy": last["test_clean_accuracy"], "clean_images": last["test_images"]}
    if eval_attack is not None:
        correct_n, n = yield from _evaluating("adversarial", accuracy_steps(
            model, test_set.first(config.eval_attack_limit), dev, world, batch_size=200, attack=eval_attack))
        metrics.update(pgd_accuracy=correct_n / max(n, 1), pgd_images=n, pgd_attack=eval_attack.resolved().to_dict())
    card = build_card(config, choice, data, metrics, history, world, dev, command, started, train_seconds)
    if world.is_main:
        card["weights_sha256"] = outputs.save_weights(out, model.net)
        outputs.save_labels(out, data.train.class_names)
        outputs.write_json(out / outputs.HISTORY, history, "the training history")
        outputs.write_json(out / outputs.CARD, card, "the model card")
    world.barrier()
    return TrainResult(out, card, history)


def _keep_last_epoch(config: TrainConfig, choice, data: TrainingData, history: list[dict], world: World,
                     dev: torch.device, command: str | None, started: str, train_seconds: float, out: Path) -> dict:
    """A cancelled run's last finished epoch as a loadable model: the weights come from that
    epoch's checkpoint (a cancel mid-epoch has moved the live ones past it)."""
    last = history[-1]
    metrics = {"clean_accuracy": last["test_clean_accuracy"], "clean_images": last["test_images"]}
    card = build_card(config, choice, data, metrics, history, world, dev, command, started, train_seconds)
    card["stopped_after_epoch"] = last["epoch"]
    card["description"] += f" Cancelled: these are the weights after epoch {last['epoch']} of {config.epochs}."
    if world.is_main:
        state = outputs.load_checkpoint(out, config.fingerprint())
        card["weights_sha256"] = outputs.save_state(out, state["model"])
        outputs.save_labels(out, data.train.class_names)
        outputs.write_json(out / outputs.CARD, card, "the model card")
    world.barrier()
    return card
