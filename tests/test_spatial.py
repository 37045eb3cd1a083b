"""Spatial conventions and the Engstrom et al. sweep, on real images and a real model."""

import math

import pytest
import torch

from visualizer.core.attacks import drive
from visualizer.core.attacks.spatial import SpatialParams, default_max_translation, spatial_sweep
from visualizer.core.attacks.transforms import rotate_translate
from visualizer.core.cancel import CancelToken
from visualizer.core.errors import ParameterError


def asymmetric_image(h=12, w=12):
    # An L shape plus a gradient: any flip, wrong rotation direction or shift shows.
    x = torch.zeros(1, 3, h, w)
    x[0, 0, 2:9, 3] = 1.0
    x[0, 0, 8, 3:8] = 1.0
    x[0, 1] = torch.linspace(0, 1, w).view(1, w).expand(h, w)
    x[0, 2] = torch.linspace(0, 0.5, h).view(h, 1).expand(h, w)
    return x


def one(v):
    return torch.tensor([float(v)])


def test_identity_is_exact():
    x = asymmetric_image(10, 14)
    assert torch.equal(rotate_translate(x, one(0), one(0), one(0)), x)


@pytest.mark.parametrize("shift", [1, 2])
def test_shift_right_and_down_equal_zero_filled_roll(shift):
    x = asymmetric_image()
    right = torch.zeros_like(x)
    right[..., shift:] = x[..., :-shift]
    down = torch.zeros_like(x)
    down[..., shift:, :] = x[..., :-shift, :]
    assert torch.allclose(rotate_translate(x, one(0), one(shift), one(0)), right, atol=1e-5)
    assert torch.allclose(rotate_translate(x, one(0), one(0), one(shift)), down, atol=1e-5)
    # And the opposite sign moves the other way.
    left = torch.zeros_like(x)
    left[..., :-shift] = x[..., shift:]
    assert torch.allclose(rotate_translate(x, one(0), one(-shift), one(0)), left, atol=1e-5)


def test_positive_90_degrees_is_counter_clockwise_like_rot90():
    x = asymmetric_image()
    out = rotate_translate(x, one(90), one(0), one(0))
    assert torch.allclose(out, torch.rot90(x, 1, dims=(-2, -1)), atol=1e-5)
    # The top-right corner's content ends up top-left when turning counter-clockwise.
    marker = torch.zeros(1, 1, 8, 8)
    marker[0, 0, 0, 7] = 1.0
    turned = rotate_translate(marker, one(90), one(0), one(0))
    assert turned[0, 0, 0, 0] > 0.99


def test_rotation_then_translation_order():
    x = asymmetric_image()
    both = rotate_translate(x, one(90), one(2), one(0))
    rotated = torch.rot90(x, 1, dims=(-2, -1))
    shifted = torch.zeros_like(x)
    shifted[..., 2:] = rotated[..., :-2]
    assert torch.allclose(both, shifted, atol=1e-5)


def test_zero_fill_outside():
    x = torch.ones(1, 1, 8, 8)
    out = rotate_translate(x, one(0), one(3), one(0))
    assert torch.all(out[..., :3] == 0) and torch.all(out[..., 3:] == 1)


def test_default_translation_follows_the_paper():
    assert default_max_translation(28) == 3 and default_max_translation(32) == 3
    assert default_max_translation(224) == 24


def test_bad_parameters_are_refused():
    with pytest.raises(ParameterError):
        SpatialParams(mode="spiral")
    with pytest.raises(ParameterError):
        SpatialParams(rotations=0)
    with pytest.raises(ParameterError):
        SpatialParams(max_translation=-1)


def test_a_shift_of_the_whole_input_side_is_refused_naming_both_sizes():
    """Shifts of the side or more leave an empty frame: --max-translation 100 on 28 px was taken."""
    for mode in ("grid", "random"):
        params = SpatialParams(mode=mode, max_translation=28)
        with pytest.raises(ParameterError, match=r"28 px shifts the whole image out of the model's input \(28 x 28 px\)"):
            params.check_fits(28)
        params.check_fits(29)                                    # one pixel of the image stays in view
    with pytest.raises(ParameterError, match="Use less than 28 px \\(the default is 3\\)"):
        SpatialParams(max_translation=100).check_fits(28)
    SpatialParams().check_fits(1)                                # None: the default, resolved per side


class Scripted(torch.nn.Module):
    """A real (tiny) model with a known decision: class 1 when the top-left quadrant is
    brighter than the rest, else class 0. Rotations/shifts that move the bright blob change it."""

    def forward(self, x):
        h, w = x.shape[-2:]
        tl = x[..., : h // 2, : w // 2].mean(dim=(1, 2, 3))
        rest = x.mean(dim=(1, 2, 3))
        s = 20 * (tl - rest)
        return torch.stack([-s, s], dim=1)


def test_grid_shape_values_and_worst_selection():
    x = torch.zeros(2, 1, 16, 16)
    x[0, :, 2:7, 2:7] = 1.0            # bright blob top-left -> class 1
    x[1, :, 9:14, 9:14] = 1.0          # bottom-right -> class 0
    model = Scripted()
    labels = model(x).argmax(1)
    assert labels.tolist() == [1, 0]
    params = SpatialParams(mode="grid", max_rotation=90, rotations=5, max_translation=4, translations=3)
    res = drive(spatial_sweep(model, x, labels, params))
    assert res.true_prob.shape == (2, 5, 3, 3)
    assert res.rotations.tolist() == [-90, -45, 0, 45, 90]
    assert res.translations_x.tolist() == [-4, 0, 4]
    # The identity cell (rotation 0, no shift) reproduces the clean prediction.
    clean_p = model(x).softmax(1)[torch.arange(2), labels]
    assert torch.allclose(res.true_prob[:, 2, 1, 1], clean_p, atol=1e-5)
    # Each cell equals a direct evaluation of that transform.
    t = (45.0, 4.0, -4.0)
    direct = model(rotate_translate(x[:1], one(t[0]), one(t[1]), one(t[2]))).softmax(1)[0, labels[0]]
    assert math.isclose(float(res.true_prob[0, 3, 2, 0]), float(direct), abs_tol=1e-5)
    # Worst transform: a misclassified one with the highest loss when one exists.
    for i in range(2):
        wrong = res.pred[i] != labels[i]
        if wrong.any():
            assert res.pred[i].flatten()[res.worst_index[i]] != labels[i]
            assert math.isclose(float(res.worst_loss[i]), float(res.loss[i][wrong].max()), rel_tol=1e-6)
        else:
            assert math.isclose(float(res.worst_loss[i]), float(res.loss[i].max()), rel_tol=1e-6)
    # Image 0's blob leaves the top-left quadrant under +-90 degree rotations: fooled.
    assert bool(res.fooled[0])
    expected_worst = rotate_translate(x, res.worst_transform[:, 0], res.worst_transform[:, 1], res.worst_transform[:, 2])
    assert torch.allclose(res.worst_images, expected_worst)


def test_chunking_does_not_change_results():
    x = torch.rand(2, 3, 16, 16)
    model = Scripted()
    labels = model(x).argmax(1)
    params = SpatialParams(rotations=7, translations=3, max_translation=2)
    a = drive(spatial_sweep(model, x, labels, SpatialParams(**{**params.to_dict(), "chunk_size": 1})))
    b = drive(spatial_sweep(model, x, labels, SpatialParams(**{**params.to_dict(), "chunk_size": 1000})))
    assert torch.allclose(a.true_prob, b.true_prob, atol=1e-6)
    assert torch.equal(a.worst_index, b.worst_index)


def test_random_mode_is_seeded_and_within_ranges():
    x = torch.rand(3, 3, 16, 16)
    model = Scripted()
    labels = model(x).argmax(1)
    p = SpatialParams(mode="random", k=10, max_rotation=30, max_translation=3, seed=7)
    a = drive(spatial_sweep(model, x, labels, p))
    b = drive(spatial_sweep(model, x, labels, p))
    assert a.samples.shape == (3, 10, 3) and a.true_prob.shape == (3, 10)
    assert torch.equal(a.samples, b.samples)
    assert a.samples[..., 0].abs().max() <= 30 and a.samples[..., 1:].abs().max() <= 3
    assert not torch.equal(a.samples[0], a.samples[1])     # drawn per image


def test_cancel_returns_partial_result_marked_cancelled():
    x = torch.rand(1, 3, 16, 16)
    model = Scripted()
    labels = model(x).argmax(1)
    token = CancelToken()
    gen = spatial_sweep(model, x, labels, SpatialParams(chunk_size=10), cancel=token)
    first = next(gen)
    token.cancel()
    res = drive(gen)
    assert res.cancelled and res.evaluated == first.done < 775
    assert torch.isnan(res.true_prob).sum() == 775 - first.done


def test_sweep_on_lite0_full_paper_grid(lite0, china_image):
    from visualizer.core.runs import sweep_run

    run = drive(sweep_run(lite0, china_image, SpatialParams()))
    r = run.result
    assert r.true_prob.shape == (1, 31, 5, 5) and r.evaluated == 775
    assert r.params.max_translation == 24
    # Identity cell = clean prediction of the reference class.
    assert math.isclose(float(r.true_prob[0, 15, 2, 2]), float(run.clean_probs[run.reference.index]), abs_tol=1e-4)
    assert 0 <= float(r.fooled_fraction[0]) <= 1
