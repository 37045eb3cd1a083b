"""poison.json: everything a rate sweep measured, with what reproduces it. Its JSON Schema
is core/schema/poison.schema.json (``poison_schema()``)."""

from __future__ import annotations

import platform

import torch

from visualizer.core.poisoning.config import PoisonConfig
from visualizer.core.poisoning.sweep import SweepResult
from visualizer.core.training.card import now_iso

POISON_FORMAT = "visualizer-poison/1"
ASR_DEFINITION = ("attack success rate: the fraction of test images of the classes other than the target, "
                  "with the trigger stamped, that the model classifies as the target")
ATTACK_DESCRIPTION = {
    "badnets": "BadNets (Gu, Dolan-Gavitt & Garg 2017): trigger stamped on images of other classes, relabelled "
               "as the target",
    "clean-label": "clean-label backdoor (Turner, Tsipras & Madry 2018): target-class images, labels kept, "
                   "perturbed by L-inf PGD against a robust model, then the trigger stamped",
}


def _data(d) -> dict:
    record = d.describe()
    record.pop("class_names")
    return record


def build_record(config: PoisonConfig, result: SweepResult, command: str | None, started: str) -> dict:
    train = result.data.train
    target_name = train.class_names[config.target]
    return {
        "format": POISON_FORMAT,
        "attack": config.attack,
        "attack_description": ATTACK_DESCRIPTION[config.attack],
        "trigger": {"spec": config.trigger.spec(), "description": config.trigger.describe()},
        "target": config.target,
        "target_name": target_name,
        "class_names": list(train.class_names),
        "asr_definition": ASR_DEFINITION,
        "data": {"train": _data(train) | {"limit": config.limit},
                 "test": _data(result.data.test) | {"limit": config.eval_limit},
                 "test_source": result.data.test_source},
        "training": {"arch": config.arch, "epochs": config.epochs, "seed": config.seed,
                     "batch_size": config.batch_size, "lr": config.lr,
                     "recipe": "standard training (visualizer train's trainer)"},
        "clean_label": ({"robust_model": config.robust_model, "norm": "linf", "eps": config.perturb_eps,
                         "steps": config.perturb_steps} if config.attack == "clean-label" else None),
        "detector": ({"method": "spectral-signatures (Tran, Li & Madry 2018)", "eps": config.detect_eps,
                      "directions": config.detect_directions,
                      "layer": "input of the last linear layer"} if config.detect else None),
        "examples": {"labels": result.example_labels,
                     "note": "the figure's test images (first of each non-target class), predictions per rate"},
        "rates": result.entries,
        "cancelled": result.cancelled,
        "command": command,
        "time": {"started": started, "finished": now_iso(), "seconds": round(result.seconds, 1)},
        "environment": {"torch": torch.__version__, "python": platform.python_version(),
                        "torch_threads": torch.get_num_threads()},
    }
