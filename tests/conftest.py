"""Shared fixtures. Qt runs offscreen in tests; torch uses few threads (2-core CI)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

ROOT = Path(__file__).resolve().parents[1]


def sklearn_sample(name: str) -> Path:
    import sklearn.datasets

    return Path(sklearn.datasets.__file__).parent / "images" / name


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
