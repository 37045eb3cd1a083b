"""The training and held-out sets of a run: ``--data`` at ``--split`` (first ``--limit``
examples), tested on ``--test-data``, else the same spec's test split, else a seeded
``--holdout`` fraction of the training data that training then never sees."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from visualizer.core.data.dataset import Dataset, load_dataset
from visualizer.core.data.spec import IDX_KINDS, parse_data_spec
from visualizer.core.errors import DataError
from visualizer.core.models.wrapper import Preprocessing
from visualizer.core.training.recipe import TrainConfig


@dataclass
class TrainingData:
    train: Dataset
    test: Dataset
    test_source: str          # how the test set was chosen, for the model card


def _has_test_split(data: Dataset) -> bool:
    return data.spec.kind in IDX_KINDS or data.split is not None


def load_training_data(config: TrainConfig, pre: Preprocessing) -> TrainingData:
    train = load_dataset(config.data, config.split, preprocessing=pre)
    if config.test_data:
        test = load_dataset(config.test_data, "test", preprocessing=pre, class_names=train.class_names)
        return TrainingData(train.first(config.limit), test, f"--test-data {parse_data_spec(config.test_data)}")
    if _has_test_split(train) and config.split == "train":
        test = load_dataset(config.data, "test", preprocessing=pre, class_names=train.class_names)
        return TrainingData(train.first(config.limit), test, "the test split")
    # No separate test data: hold out a seeded random part, chosen before --limit applies.
    n_test = int(round(len(train) * config.holdout))
    if n_test < 1 or n_test >= len(train):
        raise DataError(f"{train.spec}: {len(train)} images are too few to hold out {config.holdout:.0%} for testing; "
                        "give --test-data.")
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(config.seed))
    test = train.subset(order[-n_test:].sort().values)
    kept = train.subset(order[:-n_test].sort().values).first(config.limit)
    return TrainingData(kept, test, f"a held-out {config.holdout:.0%} of the data ({n_test} images, seed {config.seed})")
