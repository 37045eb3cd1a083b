"""visualizer.core.model_input: every model source sees the 8-bit pixels its own reference
pipeline feeds it (torchvision's ``Weights.transforms()``, timm's eval transform, torchvision's
Resize + CenterCrop where a source defines none), compared element by element on photos and
synthetic images; the crop geometry; the fallback for extreme shapes; maps drawn back onto
the image."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from image_factories import smooth_rgb
from support import digit_sample, sklearn_sample
from visualizer.core import model_input
from visualizer.core.images import image_from_array, load_image
from visualizer.core.model_input import CropGeometry, map_to_original, preprocess
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.models.wrapper import Preprocessing

CPU = dict(device="cpu")
GRID_SLACK = 1e-3           # float32 k/255 times 255 is k to within this


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _pictures() -> dict[str, tuple]:
    """name -> (LoadedImage, the same picture as torchvision's PIL loader opens it)."""
    out = {}
    for name in ("china.jpg", "flower.jpg"):
        out[name] = (load_image(sklearn_sample(name)), Image.open(sklearn_sample(name)).convert("RGB"))
    out["digit"] = (load_image(digit_sample()), Image.open(digit_sample()).convert("RGB"))
    for name, array in (("smooth-301x250", smooth_rgb(301, 250)), ("noise-257x913", _noise(257, 913)),
                        ("noise-1001x97", _noise(1001, 97, 1)), ("noise-13x7", _noise(13, 7, 2))):
        out[name] = (image_from_array(array, name), Image.fromarray(array))
    return out


PICTURES = _pictures()
PHOTOS = ("china.jpg", "flower.jpg", "smooth-301x250", "noise-257x913", "digit")


def _levels(x: torch.Tensor) -> torch.Tensor:
    """Model input (1 x C x H x W in [0, 1]) as 8-bit levels; it must lie on the 8-bit grid."""
    levels = x[0].double() * 255
    off_grid = float((levels - levels.round()).abs().max())
    assert off_grid < GRID_SLACK, f"model input is not 8-bit: a value lies {off_grid:.3f} levels off the grid"
    return levels


def _reference_levels(transform, picture: Image.Image, mean=None, std=None) -> torch.Tensor:
    """The reference pipeline's output as levels (normalisation undone when it has one)."""
    out = transform(picture)
    if not out.is_floating_point():
        return out.double()
    out = out.double()
    if mean is not None:
        out = out * torch.tensor(std, dtype=torch.float64).view(-1, 1, 1) + torch.tensor(mean, dtype=torch.float64).view(-1, 1, 1)
    return out * 255


def assert_same_pixels(pre: Preprocessing, transform, picture_names=PHOTOS, mean=None, std=None) -> None:
    for name in picture_names:
        image, picture = PICTURES[name]
        ours = _levels(preprocess(image, pre)[0])
        reference = _reference_levels(transform, picture, mean, std)
        assert ours.shape == reference.shape, name
        worst = float((ours - reference).abs().max())
        assert worst <= 1 + GRID_SLACK, f"{name}: up to {worst:.2f} levels from the reference pipeline"


def _plain_reference(pre: Preprocessing):
    """torchvision's Resize + CenterCrop (+ Grayscale): the standard pipeline where a model
    source defines no transforms of its own (checkpoints of CIFAR nets, TorchScript, digits)."""
    from torchvision.transforms import InterpolationMode, v2

    steps = [v2.Grayscale()] if pre.channels == 1 else []
    steps += [v2.Resize(pre.resize_size, interpolation=InterpolationMode(pre.interpolation)),
              v2.CenterCrop(pre.input_size), v2.PILToTensor()]
    return v2.Compose(steps)


# --------------------------------------------------------------------------- the 8-bit grid

@pytest.mark.parametrize("name", list(PICTURES))
@pytest.mark.parametrize("interpolation,channels", [("bicubic", 3), ("bilinear", 1), ("nearest", 3)])
def test_model_input_lies_on_the_8bit_grid(name, interpolation, channels):
    pre = Preprocessing(input_size=24, resize_size=27, interpolation=interpolation, channels=channels,
                        mean=(0.5,) * channels, std=(0.5,) * channels)
    x, _ = preprocess(PICTURES[name][0], pre)
    assert x.shape == (1, channels, 24, 24) and x.dtype == torch.float32
    _levels(x)


def test_finer_than_8bit_sources_are_rounded_to_8bit_first():
    levels = np.arange(64 * 64 * 3, dtype=np.float64).reshape(64, 64, 3) % 997 / 996  # not on the grid
    image = image_from_array(levels.astype(np.float32))
    pre = Preprocessing(input_size=32, resize_size=40, interpolation="bicubic")
    eight_bit = image_from_array(np.rint(levels * 255).astype(np.uint8))
    torch.testing.assert_close(preprocess(image, pre)[0], preprocess(eight_bit, pre)[0], atol=0, rtol=0)


# --------------------------------------------------------------------------- every model source

@pytest.mark.parametrize("arch", ["resnet18", "resnet50", "inception_v3", "efficientnet_b3", "vit_b_16",
                                  "regnet_y_400mf", "convnext_tiny"])
def test_torchvision_weights_transforms(arch):
    """torchvision:NAME and ckpt --arch torchvision:NAME take their preprocessing from the
    weights' own transforms object (no download needed to build it)."""
    from visualizer.core.models.torchvision_hub import default_weights, preprocessing_from_weights

    weights = default_weights(arch)
    transform = weights.transforms()
    assert_same_pixels(preprocessing_from_weights(weights), transform, mean=transform.mean, std=transform.std)


@pytest.mark.parametrize("name", ["tf_efficientnet_lite0", "resnet50.a1_in1k", "resnet18.tv_in1k",
                                  "vit_base_patch16_224.augreg2_in21k_ft_in1k", "deit_tiny_patch16_224.fb_in1k",
                                  "inception_v3.tv_in1k"])
def test_timm_eval_transform(name):
    """timm:NAME and ckpt --arch timm:NAME: timm's resolve_data_config + create_transform."""
    from timm.data import create_transform, resolve_data_config

    from visualizer.core.models.timm_hub import preprocessing_from_cfg, pretrained_cfg

    cfg = pretrained_cfg(name)
    config = resolve_data_config({}, pretrained_cfg=cfg)
    pre, _ = preprocessing_from_cfg(cfg)
    assert_same_pixels(pre, create_transform(**config), mean=config["mean"], std=config["std"])


def test_bundled_lite0_sees_timms_pixels_and_ranks_the_same_top5(lite0):
    from timm.data import create_transform, resolve_data_config

    from visualizer.core.models.timm_hub import pretrained_cfg

    config = resolve_data_config({}, pretrained_cfg=pretrained_cfg("tf_efficientnet_lite0"))
    transform = create_transform(**config)
    assert_same_pixels(lite0.info.preprocessing, transform, mean=config["mean"], std=config["std"])
    for name in ("china.jpg", "flower.jpg"):
        image, picture = PICTURES[name]
        with torch.no_grad():
            ours = lite0(preprocess(image, lite0.info.preprocessing)[0])[0]
            reference = lite0.net(transform(picture)[None])[0]   # timm's normalised tensor, straight in
        assert ours.topk(5).indices.tolist() == reference.topk(5).indices.tolist(), name
        torch.testing.assert_close(ours.softmax(0), reference.softmax(0), atol=2e-3, rtol=0)


def test_bundled_digits_see_the_grayscale_pipeline():
    model = load_model("digits-standard", LoadOptions(**CPU))
    pre = model.info.preprocessing
    assert pre.channels == 1
    assert_same_pixels(pre, _plain_reference(pre))


def test_checkpoints_see_their_architectures_reference_pixels(tmp_path):
    from torchvision.models import resnet18

    from visualizer.core.models.architectures.wide_resnet import wide_resnet
    from visualizer.core.models.torchvision_hub import default_weights

    torch.manual_seed(0)
    torch.save(resnet18(weights=None).state_dict(), tmp_path / "r18.pt")
    model = load_model(f"ckpt:{tmp_path / 'r18.pt'}", LoadOptions(arch="torchvision:resnet18", **CPU))
    transform = default_weights("resnet18").transforms()
    assert_same_pixels(model.info.preprocessing, transform, mean=transform.mean, std=transform.std)

    torch.save(wide_resnet(10, 1, num_classes=10).state_dict(), tmp_path / "wrn.pt")
    cifar = load_model(f"ckpt:{tmp_path / 'wrn.pt'}", LoadOptions(arch="wrn-10-1", **CPU))
    assert_same_pixels(cifar.info.preprocessing, _plain_reference(cifar.info.preprocessing))


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
def test_torchscript_models_see_resize_and_centre_crop(tmp_path):
    net = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(48, 10)).eval()
    torch.jit.save(torch.jit.script(net), str(tmp_path / "m.pt"))
    model = load_model(f"torchscript:{tmp_path / 'm.pt'}", LoadOptions(input_size=64, **CPU))
    assert_same_pixels(model.info.preprocessing, _plain_reference(model.info.preprocessing))


# --------------------------------------------------------------------------- geometry

def _pre(input_size=224, resize=256, interpolation="bilinear", channels=3):
    return Preprocessing(input_size=input_size, resize_size=resize, interpolation=interpolation,
                         channels=channels, mean=(0.0,) * channels, std=(1.0,) * channels)


def _random_image(h, w, seed=0):
    return image_from_array(np.random.default_rng(seed).random((h, w, 3)).astype(np.float32))


def test_preprocess_geometry_300x200():
    x, geo = preprocess(_random_image(200, 300), _pre())
    assert x.shape == (1, 3, 224, 224) and x.dtype == torch.float32
    assert geo.original_size == (300, 200)
    assert geo.resized_size == (384, 256)
    assert geo.crop_box == (80, 16, 304, 240)
    assert geo.box_in_original() == pytest.approx((62.5, 12.5, 237.5, 187.5))
    d = geo.to_dict()
    assert d["crop_box"] == [80, 16, 304, 240] and CropGeometry.from_dict(d) == geo


@pytest.mark.parametrize("hw", [(1, 1), (1, 4000), (4000, 1), (3, 2000), (7, 5)])
def test_preprocess_tiny_and_extreme_shapes(hw):
    x, geo = preprocess(_random_image(*hw), _pre())
    assert x.shape == (1, 3, 224, 224)
    assert torch.isfinite(x).all() and x.min() >= 0 and x.max() <= 1
    _levels(x)
    l, t, r, b = geo.crop_box
    assert r - l == 224 and b - t == 224
    assert 0 <= l and r <= geo.resized_size[0] and 0 <= t and b <= geo.resized_size[1]
    if hw == (1, 1):
        torch.testing.assert_close(x, x[..., :1, :1].expand_as(x))  # a constant colour


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("hw", [(3, 999), (999, 3), (300, 2000)])
def test_windowed_resize_matches_full_resize(monkeypatch, interpolation, hw):
    # Sizes where the exact scale lands on whole resized pixels, so both paths sample the
    # same points; the window's torch filters round each pass as Pillow does, so they agree
    # to within a level per pass (these are random-noise images: the hardest case).
    pre = _pre(input_size=8, resize=12 if hw != (300, 2000) else 240, interpolation=interpolation)
    img = _random_image(*hw, seed=3)
    full, geo_full = preprocess(img, pre)
    monkeypatch.setattr(model_input, "MAX_RESIZED_PIXELS", 16)
    windowed, geo_win = preprocess(img, pre)
    assert geo_win == geo_full
    assert float((_levels(windowed) - _levels(full)).abs().max()) <= 2 + GRID_SLACK


def test_windowed_resize_is_close_when_scales_differ(monkeypatch):
    pre = _pre(input_size=32, resize=40)
    img = image_from_array(smooth_rgb(7, 1501))  # 40 * 1501 / 7 is not a whole number
    full, _ = preprocess(img, pre)
    monkeypatch.setattr(model_input, "MAX_RESIZED_PIXELS", 16)
    windowed, _ = preprocess(img, pre)
    assert (windowed - full).abs().max() < 0.02


def test_preprocess_grayscale_is_pillows_luma():
    colour = np.array([51, 153, 230], dtype=np.uint8)
    img = image_from_array(np.broadcast_to(colour, (40, 60, 3)).copy())
    x, _ = preprocess(img, _pre(input_size=16, resize=20, channels=1))
    assert x.shape == (1, 1, 16, 16)
    luma = Image.fromarray(colour.reshape(1, 1, 3)).convert("L").getpixel((0, 0))
    torch.testing.assert_close(x * 255, torch.full_like(x, float(luma)), atol=1e-4, rtol=0)
    assert abs(luma - (0.299 * 51 + 0.587 * 153 + 0.114 * 230)) <= 0.5   # ITU-R 601


def test_preprocess_grayscale_before_resizing():
    img = _random_image(30, 50)
    x, _ = preprocess(img, _pre(input_size=16, resize=20, channels=1))
    rgb, _ = preprocess(img, _pre(input_size=16, resize=20))
    luma = (rgb[0] * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0)
    # Both linear up to 8-bit rounding (of the luma, and of each resize pass).
    assert float((x[0, 0] - luma).abs().max()) <= 2.5 / 255


# --------------------------------------------------------------------------- map_to_original

def test_map_of_ones_fills_the_box():
    _, geo = preprocess(_random_image(200, 300), _pre())
    out = map_to_original(torch.ones(224, 224), geo)
    assert out.shape == (200, 300)
    inside = np.zeros((200, 300), bool)
    inside[12:187, 62:237] = True   # pixel centres inside (62.5, 12.5, 237.5, 187.5)
    np.testing.assert_allclose(out[inside], 1, atol=1e-6)
    assert np.isnan(out[~inside]).all()
    assert (map_to_original(np.ones((1, 1, 224, 224)), geo, fill=-1)[~inside] == -1).all()


def test_map_round_trip_when_crop_covers_whole_image():
    img = image_from_array(smooth_rgb(100, 100))
    x, geo = preprocess(img, _pre(input_size=224, resize=224))
    assert geo.box_in_original() == (0, 0, 100, 100)
    back = map_to_original(x[0, 0], geo)
    assert np.abs(back - img.pixels[..., 0]).max() < 0.01


def test_map_identity_geometry_is_exact():
    geo = CropGeometry((5, 4), (5, 4), (0, 0, 5, 4))
    values = np.arange(20, dtype=np.float32).reshape(4, 5)
    np.testing.assert_array_equal(map_to_original(values, geo), values)


def test_map_lower_resolution_map():
    _, geo = preprocess(_random_image(200, 300), _pre())
    out = map_to_original(np.full((7, 7), 3.0), geo, fill=0)  # e.g. a coarse 7 x 7 saliency grid
    assert out.max() == pytest.approx(3) and (out[:, :62] == 0).all()


def test_map_to_original_on_a_finer_grid_keeps_detail():
    # An 8 x 8 image seen at 32 x 32: mapping onto a 4x finer grid reproduces the map exactly.
    geo = CropGeometry(original_size=(8, 8), resized_size=(32, 32), crop_box=(0, 0, 32, 32))
    rng = np.random.default_rng(0)
    m = rng.standard_normal((32, 32)).astype(np.float32)
    np.testing.assert_allclose(map_to_original(m, geo, scale=4), m, atol=1e-6)
    assert map_to_original(m, geo).shape == (8, 8)
