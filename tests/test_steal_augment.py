"""Warped copies of a thief's answered images (core/stealing/augment.py): real MNIST digits,
the bundled victim, torchvision's warps; no mocks."""

import pytest
import torch

from mnist_support import MNIST_DIR, MNIST_SPEC
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.stealing import queries as q
from visualizer.core.stealing.augment import Warp, warped_copies

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs MNIST in ../shared/data")


@pytest.fixture(scope="module")
def victim_and_digits():
    victim = load_model("mnist-standard", LoadOptions(device="cpu"))
    return victim, q.data_queries(MNIST_SPEC, 300, victim.info.preprocessing)


def _centre_of_mass(images: torch.Tensor) -> torch.Tensor:
    """N x 2 (row, column) in pixels."""
    mass = images[:, 0]
    rows = torch.arange(mass.shape[1], dtype=mass.dtype)[None, :, None]
    cols = torch.arange(mass.shape[2], dtype=mass.dtype)[None, None, :]
    total = mass.sum((1, 2))
    return torch.stack([(mass * rows).sum((1, 2)) / total, (mass * cols).sum((1, 2)) / total], 1)


def test_the_originals_come_first_and_a_zero_warp_changes_nothing(victim_and_digits):
    _, x = victim_and_digits
    out = warped_copies(x[:20], 2, seed=0, warp=Warp())
    assert out.shape == (60, 1, 28, 28)
    assert torch.equal(out[:20], x[:20])
    assert torch.allclose(out[20:40], x[:20], atol=1e-5) and torch.allclose(out[40:], x[:20], atol=1e-5)   # grid_sample rounding
    few = x[:5]
    assert warped_copies(few, 0, seed=0, warp=Warp(10, 0.1, 2)) is few


def test_warps_are_reproducible_per_seed_and_differ_per_image(victim_and_digits):
    _, x = victim_and_digits
    warp = Warp(degrees=10, scale=0.1, shift=2, elastic=1.5)
    a, b = warped_copies(x[:30], 1, 4, warp), warped_copies(x[:30], 1, 4, warp)
    assert torch.equal(a, b)
    assert not torch.equal(a[30:], warped_copies(x[:30], 1, 5, warp)[30:])
    assert 0.0 <= a.min() and a.max() <= 1.0
    moved = (a[30:] - x[:30]).abs().flatten(1).amax(1)
    assert (moved > 0.2).float().mean() > 0.9                           # nearly every digit really moved


def test_shifts_move_the_digit_by_at_most_the_shift_and_rotation_keeps_its_ink(victim_and_digits):
    _, x = victim_and_digits
    shifted = warped_copies(x, 1, 0, Warp(shift=2))[len(x):]
    moved = (_centre_of_mass(shifted) - _centre_of_mass(x)).abs()
    assert moved.max() <= 2.0 + 0.3 and moved.mean() > 0.5             # uniform in [-2, 2] px: mean ~1
    rotated = warped_copies(x, 1, 0, Warp(degrees=15))[len(x):]
    ink = rotated.sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert 0.85 < ink.median() < 1.1                                    # bilinear resampling keeps the stroke


def test_the_victim_still_reads_mild_warps_as_the_same_digit(victim_and_digits):
    # A warp that changed the victim's answer would teach the copy a wrong label; the mild
    # warps the study uses keep it on nearly every image, a strong one does not.
    victim, x = victim_and_digits
    with torch.no_grad():
        answers = victim(x).argmax(1)
        for warp in (Warp(10, 0.1, 2), Warp(10, 0.1, 2, elastic=1.5)):
            kept = (victim(warped_copies(x, 1, 0, warp)[len(x):]).argmax(1) == answers).float().mean()
            assert kept > 0.93, warp
        strong = (victim(warped_copies(x, 1, 0, Warp(60, 0.4, 6))[len(x):]).argmax(1) == answers).float().mean()
    assert strong < 0.8
