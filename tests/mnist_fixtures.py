"""Fixtures of the evaluation tests, imported into each test module that uses them (the
helpers themselves, in mnist_support.py, also serve scripts/tiny_mnist_models.py)."""

import pytest

from mnist_support import ROBUST_EPS, as_classifier, one_thread, train_tiny_mnist


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """Imported by a test module: its tests run on one torch thread."""
    with one_thread():
        yield


@pytest.fixture(scope="module")
def model():
    """The adversarially trained tiny model as the engine's ClassifierModel (import into a test module)."""
    return as_classifier(train_tiny_mnist(robust_eps=ROBUST_EPS))
