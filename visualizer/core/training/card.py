"""The model card (``model.json``) a training run writes beside its weights.

Its layout follows the bundled models' sidecars (resources/models/*.json: ``architecture``,
``architecture_kwargs``, ``preprocessing``, ``description``, ``metrics`` with
``clean_accuracy`` / ``pgd_accuracy`` / ``pgd_attack``, ``seed``, ``recipe``), so a trained
model can be bundled as it is, and adds what reproduces it: the data, the exact command,
the software and the time it took.
"""

from __future__ import annotations

import datetime
import os
import platform

import torch

from visualizer.core.models.arch import ArchChoice
from visualizer.core.training.data import TrainingData
from visualizer.core.training.distributed import World
from visualizer.core.training.recipe import TrainConfig

CARD_FORMAT = "visualizer-model-card/1"


def now_iso() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _data_record(data, limit: int | None = None) -> dict:
    record = data.describe()
    record.pop("class_names")
    if limit is not None:
        record["limit"] = limit
    return record


def build_card(config: TrainConfig, choice: ArchChoice, data: TrainingData, metrics: dict, history: list[dict],
               world: World, device: torch.device, command: str | None, started: str, train_seconds: float) -> dict:
    train, recipe = data.train, config.adversarial
    description = (f"{choice.label} trained on {train.spec.kind} ({train.split or 'all'} split, {len(train)} images), "
                   f"{recipe.describe()}, {config.epochs} epoch(s), seed {config.seed}.")
    return {
        "format": CARD_FORMAT,
        "architecture": choice.label,
        "architecture_kwargs": dict(choice.fixed_kwargs),
        "num_classes": train.num_classes,
        "class_names": list(train.class_names),
        "preprocessing": choice.preprocessing.to_dict(),
        "description": description,
        "train_eps": recipe.eps if recipe.adversarial else None,
        "threat_model": recipe.norm,
        "data": {"train": _data_record(train, config.limit), "test": _data_record(data.test, config.eval_limit),
                 "test_source": data.test_source},
        "recipe": {
            **config.fingerprint(),
            "adversarial_description": recipe.describe(),
            "optimizer": "Adam (betas 0.9, 0.999), one-cycle learning rate (PyTorch OneCycleLR defaults)",
            "attack_during_training": (recipe.attack(recipe.eps, 0).resolved().to_dict() | {"seed": "per batch"}
                                       if recipe.adversarial else None),
        },
        "seed": config.seed,
        "command": command,
        "metrics": metrics,
        "time": {"started": started, "finished": now_iso(), "train_seconds": round(train_seconds, 1),
                 "seconds_per_epoch": [h["seconds"] for h in history]},
        "environment": {
            "torch": torch.__version__, "python": platform.python_version(), "device": str(device),
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.machine(),
            "processes": world.size, "torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        },
    }
