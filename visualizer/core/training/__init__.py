"""The trainer behind ``visualizer train``: standard, FGSM-RS (Wong et al. 2020) and PGD
(Madry et al. 2018) adversarial training on any data-set spec, with the project's own
attack loop, resumable, reproducible, and DistributedDataParallel under torchrun."""

from visualizer.core.training.evaluate import EpochWatch
from visualizer.core.training.recipe import AdversarialRecipe, TrainConfig, parse_adversarial
from visualizer.core.training.trainer import BatchProgress, EpochDone, Evaluating, TrainResult, train_steps

__all__ = ["AdversarialRecipe", "BatchProgress", "EpochDone", "EpochWatch", "Evaluating", "TrainConfig", "TrainResult",
           "parse_adversarial", "train_steps"]
