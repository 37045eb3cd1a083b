"""Shared fixtures. Qt runs offscreen in tests; torch uses few threads (2-core CI)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
import torch  # noqa: E402
from support import sklearn_sample  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def lite0():
    from visualizer.core.models.registry import LoadOptions, load_model

    return load_model("lite0-imagenet", LoadOptions(device="cpu"))


@pytest.fixture(scope="session")
def china_image():
    from visualizer.core.images import load_image

    return load_image(sklearn_sample("china.jpg"))


@pytest.fixture(scope="session")
def flower_image():
    from visualizer.core.images import load_image

    return load_image(sklearn_sample("flower.jpg"))
