"""Small images are upsampled before they are embedded in a figure (core/figures/drawing.py),
by a broadcast copy that lets other threads run (numpy's repeat holds the GIL: a window
exporting in a worker stalled 100 ms on it, issue 16). Same pixels as np.repeat."""

import numpy as np
import pytest

from visualizer.core.figures.drawing import upsample, upsample_factor


@pytest.mark.parametrize("shape", [(28, 28), (32, 32, 3), (5, 7, 3), (1, 1)])
@pytest.mark.parametrize("k", [1, 2, 19])
def test_upsample_is_pixel_repetition(shape, k):
    a = np.random.default_rng(0).random(shape)
    want = np.repeat(np.repeat(a, k, axis=0), k, axis=1)
    got = upsample(a, k)
    assert got.shape == want.shape and got.dtype == a.dtype
    assert np.array_equal(got, want)


def test_a_28_px_image_is_upsampled_past_512_px():
    k = upsample_factor(28, 28)
    assert upsample(np.zeros((28, 28)), k).shape[0] >= 512
