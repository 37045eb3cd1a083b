"""The spatial sweep adapts to running out of memory: it halves its chunk and retries the
same transforms, so the results do not change; a model that cannot take even one
transform re-raises instead of looping.

Out-of-memory is simulated (the one place a simulated failure is right: a real OOM on a CI
machine is neither safe nor repeatable): a real small network whose forward raises the
error the sweep catches whenever its batch exceeds a limit.
"""

import pytest
import torch
from torch import nn

from visualizer.core.attacks import drive
from visualizer.core.attacks.spatial import _OOM_ERRORS, SpatialParams, spatial_sweep
from visualizer.core.models.wrapper import ClassifierModel, ModelInfo, Preprocessing

OOM = _OOM_ERRORS[0]
GRID = dict(rotations=5, translations=3, max_translation=3.0)   # 45 transforms per image


def tiny_net() -> ClassifierModel:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
                        nn.Linear(8 * 16, 10))
    info = ModelInfo("tiny", "test", "tiny-cnn", Preprocessing(input_size=32, resize_size=32),
                     [str(i) for i in range(10)])
    return ClassifierModel(net, info)


class MemoryLimited(nn.Module):
    """Raises out-of-memory for batches larger than ``limit``; records every batch size."""

    def __init__(self, model: nn.Module, limit: int):
        super().__init__()
        self.model, self.limit, self.sizes, self.failures = model, limit, [], 0

    def forward(self, x):
        self.sizes.append(x.shape[0])
        if x.shape[0] > self.limit:
            self.failures += 1
            raise OOM(f"simulated: batch {x.shape[0]} > {self.limit}")
        return self.model(x)


@pytest.fixture(scope="module")
def setup():
    model = tiny_net()
    images = torch.rand((3, 3, 32, 32), generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 3, 7])
    reference = drive(spatial_sweep(model, images, labels, SpatialParams(chunk_size=4096, **GRID)))
    assert reference.evaluated == 3 * 45
    return model, images, labels, reference


@pytest.mark.parametrize("chunk_size", [None, 100], ids=["adaptive", "fixed-100"])
def test_out_of_memory_halves_chunk_and_keeps_results(setup, chunk_size):
    model, images, labels, reference = setup
    limited = MemoryLimited(model, limit=16)
    result = drive(spatial_sweep(limited, images, labels, SpatialParams(chunk_size=chunk_size, **GRID)))
    assert not result.cancelled and result.evaluated == 3 * 45
    assert limited.failures > 0, "the limit must actually have been hit"
    assert max(s for s in limited.sizes if s <= limited.limit) <= 16
    torch.testing.assert_close(result.loss, reference.loss, atol=1e-5, rtol=0)
    torch.testing.assert_close(result.true_prob, reference.true_prob, atol=1e-5, rtol=0)
    assert torch.equal(result.pred, reference.pred)
    assert torch.equal(result.worst_index, reference.worst_index)
    # Out of memory only while halving down from the first size: once a size works, the
    # adaptive sizing never grows back to one that failed (each retry wastes a forward).
    first_success = next(i for i, s in enumerate(limited.sizes) if s <= limited.limit)
    assert limited.failures == first_success

def test_out_of_memory_at_batch_one_reraises(setup):
    model, images, labels, _ = setup
    limited = MemoryLimited(model, limit=0)
    with pytest.raises(OOM):
        drive(spatial_sweep(limited, images, labels, SpatialParams(chunk_size=None, **GRID)))
    assert limited.sizes[-1] == 1
    assert limited.failures == len(limited.sizes) <= 12   # a few halvings, then give up
