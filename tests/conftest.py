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


@pytest.fixture
def full_gpu(monkeypatch):
    """A machine whose automatic device choice is a CUDA GPU too full to take the model.

    The one simulated failure in these tests (no CI machine has a GPU to fill): the device
    choice made at loading says "cuda", and moving a model there raises the error torch
    raises when CUDA memory runs out. Moving to the CPU is the real thing."""
    import visualizer.core.models.common as common
    from visualizer.core.device import move_to, pick_device

    attempts = []

    def auto_picks_cuda(requested=None):
        return torch.device("cuda") if requested in (None, "", "auto") else pick_device(requested)

    def full(module, device):
        attempts.append(torch.device(device).type)
        if torch.device(device).type == "cuda":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 1.00 GiB free)")
        return move_to(module, device)

    monkeypatch.setattr(common, "pick_device", auto_picks_cuda)
    monkeypatch.setattr(common, "move_to", full)
    return attempts
