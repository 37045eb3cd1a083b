"""Training a substitute on a thief's oracle answers with the project's trainer
(``core.training``): the same network builder, optimiser, schedule, seeding and output
folder as ``visualizer train``, so each stolen copy is a normal trained model
(model.safetensors + model.json) that loads with ``ckpt:DIR/model.safetensors --arch NAME``.

Targets: the oracle's top-1 for a label-only oracle; otherwise its probability vectors,
renormalised (a top-k or rounded answer keeps only part of the mass; an answer rounded to
all zeros becomes uniform: the thief learns nothing from it), trained against with soft
cross-entropy (Hinton et al. 2015's distillation at temperature 1).

Two ways to train a copy whose gradients transfer better, at no extra query: ``shifts``
(every answered image also trained on in K randomly shifted versions, up to 2 px, with the
same answer) and ``adversarial`` (the trainer's adversarial recipe at a small eps: a
slightly robust surrogate, Springer, Mitchell & Kenyon 2021).

A copy's seed S is the thief's: the trainer gets ``thief_seed(S)``, drawn from a salted
stream, never S itself. The victim may have been trained by this very trainer (the bundled
``mnist-standard`` was, with seed 0), and the trainer draws a network's initial weights from
its seed: a copy seeded like the victim would start from the victim's own initial weights,
which its trained weights still follow, and transfer better than any real thief's copy could.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from visualizer.core.data.dataset import Dataset
from visualizer.core.errors import ParameterError
from visualizer.core.data.spec import DataSpec
from visualizer.core.training.data import TrainingData
from visualizer.core.training.recipe import TrainConfig, parse_adversarial
from visualizer.core.training.trainer import EpochDone, train_steps


def soft_targets(answers: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Oracle answers -> training targets: N int64 labels stay labels; N x K probabilities
    are renormalised to sum to 1 (all-zero rows become uniform)."""
    if answers.dim() == 1:
        return answers.long().cpu()
    answers = answers.float().cpu().clamp_min(0)
    total = answers.sum(dim=1, keepdim=True)
    uniform = torch.full_like(answers, 1.0 / num_classes)
    return torch.where(total > 0, answers / total.clamp_min(1e-12), uniform)


SHIFT_PIXELS = 2
THIEF_SALT = b"visualizer steal: the thief's own random stream, seed "


def thief_seed(seed: int) -> int:
    """The trainer seed of the copy a thief seeds ``seed`` (any whole number): the first 31
    bits of sha256(salt + seed) with bit 31 set, so in [2**31, 2**32), never a small seed such
    as ``visualizer train``'s default 0. Its initial weights, data order, shifts and
    adversarial starts are then independent of any model trained with a small seed, and still
    reproducible."""
    digest = hashlib.sha256(THIEF_SALT + str(int(seed)).encode()).digest()
    return (1 << 31) | (int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF)


def shifted_copies(images: torch.Tensor, copies: int, seed: int, most: int = SHIFT_PIXELS) -> torch.Tensor:
    """``images`` (N x C x S x S) followed by ``copies`` versions of them, each image moved by
    a random whole-pixel offset of up to ``most`` px each way (the uncovered border is 0,
    MNIST's background): (copies + 1) * N images, the i-th of each block from the i-th image."""
    if copies < 1:
        return images
    gen = torch.Generator().manual_seed(int(seed))
    side_h, side_w = images.shape[-2:]
    padded = torch.nn.functional.pad(images, (most,) * 4)
    out = [images]
    for _ in range(copies):
        offsets = torch.randint(0, 2 * most + 1, (len(images), 2), generator=gen).tolist()
        out.append(torch.stack([padded[i, :, dy:dy + side_h, dx:dx + side_w] for i, (dy, dx) in enumerate(offsets)]))
    return torch.cat(out)


def train_substitute(images: torch.Tensor, answers: torch.Tensor, test: Dataset, class_names: list[str], arch: str,
                     out: Path, source: str, epochs: int, seed: int, batch_size: int = 128, lr: float = 1e-3,
                     device: str = "cpu", cancel=None, on_epoch=None, adversarial: str = "none",
                     shifts: int = 0, sam: float = 0.0, warps: int = 0, warp=None) -> dict | None:
    """Train ``arch`` on ``images`` (N x C x S x S, [0, 1], at the arch's input) against the
    oracle's ``answers`` (N labels or N x K probabilities); test accuracy on ``test``. Writes
    the trainer's files into ``out`` (new or empty) and returns the model card (None when
    cancelled). ``source`` says in the card where the images came from. ``seed``: the thief's;
    the trainer (and so the card) gets ``thief_seed(seed)``. ``shifts``: K shifted versions of
    each image join it (``shifted_copies``, seeded the same); ``adversarial``: a ``visualizer
    train --adversarial`` recipe, e.g. ``pgd:l2:1.0:3`` (ParameterError if bad); ``sam``: SAM's
    rho (``core.training.sam``, a flat copy), 0 for plain steps; ``warps``: K warped versions
    of each image join it (``augment.warped_copies`` with ``warp``, an ``augment.Warp``)."""
    recipe = parse_adversarial(adversarial)
    targets = soft_targets(answers, len(class_names))
    seed = thief_seed(seed)
    if shifts:
        images = shifted_copies(images, shifts, seed)
        targets = torch.cat([targets] * (shifts + 1))
    if warps:
        from visualizer.core.stealing.augment import warped_copies

        if warp is None:
            raise ParameterError(f"warps={warps} needs the warp to draw (an augment.Warp).")
        images = warped_copies(images, warps, seed, warp)
        targets = torch.cat([targets] * (warps + 1))
    spec = DataSpec("oracle-answers", Path(source))
    train = Dataset(spec, None, list(class_names), targets, images=images.detach().cpu().float())
    # The per-epoch test accuracy in the history uses 500 images (the experiment measures the
    # finished substitute on the whole test set itself).
    config = TrainConfig(data=str(spec), arch=arch, out=str(out), adversarial=recipe, epochs=epochs, seed=seed,
                         eval_attack="none",
                         batch_size=batch_size, lr=lr, eval_limit=500, sam=sam)
    steps = train_steps(config, device=device, overwrite=True, cancel=cancel,
                        data=TrainingData(train, test, "the victim's test data"))
    while True:
        try:
            event = next(steps)
        except StopIteration as stop:
            return stop.value.card
        if isinstance(event, EpochDone) and on_epoch is not None:
            on_epoch(event.record)
