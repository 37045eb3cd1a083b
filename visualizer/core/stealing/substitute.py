"""Training a substitute on a thief's oracle answers with the project's trainer
(``core.training``): the same network builder, optimiser, schedule, seeding and output
folder as ``visualizer train``, so each stolen copy is a normal trained model
(model.safetensors + model.json) that loads with ``ckpt:DIR/model.safetensors --arch NAME``.

Targets: the oracle's top-1 for a label-only oracle; otherwise its probability vectors,
renormalised (a top-k or rounded answer keeps only part of the mass; an answer rounded to
all zeros becomes uniform: the thief learns nothing from it), trained against with soft
cross-entropy (Hinton et al. 2015's distillation at temperature 1).
"""

from __future__ import annotations

from pathlib import Path

import torch

from visualizer.core.data.dataset import Dataset
from visualizer.core.data.spec import DataSpec
from visualizer.core.training.data import TrainingData
from visualizer.core.training.recipe import TrainConfig
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


def train_substitute(images: torch.Tensor, answers: torch.Tensor, test: Dataset, class_names: list[str], arch: str,
                     out: Path, source: str, epochs: int, seed: int, batch_size: int = 128, lr: float = 1e-3,
                     device: str = "cpu", cancel=None, on_epoch=None) -> dict | None:
    """Train ``arch`` on ``images`` (N x C x S x S, [0, 1], at the arch's input) against the
    oracle's ``answers`` (N labels or N x K probabilities); test accuracy on ``test``. Writes
    the trainer's files into ``out`` (new or empty) and returns the model card (None when
    cancelled). ``source`` says in the card where the images came from."""
    targets = soft_targets(answers, len(class_names))
    spec = DataSpec("oracle-answers", Path(source))
    train = Dataset(spec, None, list(class_names), targets, images=images.detach().cpu().float())
    # The per-epoch test accuracy in the history uses 500 images (the experiment measures the
    # finished substitute on the whole test set itself).
    config = TrainConfig(data=str(spec), arch=arch, out=str(out), epochs=epochs, seed=seed, eval_attack="none",
                         batch_size=batch_size, lr=lr, eval_limit=500)
    steps = train_steps(config, device=device, overwrite=True, cancel=cancel,
                        data=TrainingData(train, test, "the victim's test data"))
    while True:
        try:
            event = next(steps)
        except StopIteration as stop:
            return stop.value.card
        if isinstance(event, EpochDone) and on_epoch is not None:
            on_epoch(event.record)
