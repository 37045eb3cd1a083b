"""The shipped digits models reproduce their model card, meet the demo's targets, and
classify the bundled sample images correctly.

Loads weights straight from resources/models (safetensors + sidecar JSON), not through
the model registry, so it checks the files themselves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

pytest.importorskip("sklearn")
from safetensors.torch import load_file  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from visualizer.core.attacks import AttackParams, run_attack  # noqa: E402
from visualizer.core.labels import DIGITS  # noqa: E402
from visualizer.core.models import ClassifierModel, ModelInfo, Preprocessing  # noqa: E402
from visualizer.core.models.architectures.digits_cnn import build_digits_cnn  # noqa: E402

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
MODELS = RESOURCES / "models"
NAMES = ("digits-standard", "digits-robust")
TOLERANCE = 0.005  # half a percentage point: one of 360 test images is 0.28


def load(name: str) -> tuple[ClassifierModel, dict]:
    meta = json.loads((MODELS / f"{name}.json").read_text())
    net = build_digits_cnn(**meta["architecture_kwargs"])
    net.load_state_dict(load_file(str(MODELS / f"{name}.safetensors")))
    pre = Preprocessing(**{k: tuple(v) if isinstance(v, list) else v for k, v in meta["preprocessing"].items()})
    return ClassifierModel(net, ModelInfo(name, "bundled", meta["architecture"], pre, list(DIGITS))), meta


def upsample(images8: np.ndarray, size: int) -> torch.Tensor:
    """0..16 8x8 digits -> [0, 1] pixels at model size, the way the card describes."""
    x = torch.tensor(images8, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


@pytest.fixture(scope="module")
def models():
    torch.set_num_threads(2)
    return {name: load(name) for name in NAMES}


@pytest.fixture(scope="module")
def held_out(models):
    split = models["digits-robust"][1]["metrics"]["split"]
    digits = load_digits()
    _, test_idx = train_test_split(np.arange(len(digits.target)), test_size=split["test_size"],
                                   random_state=split["random_state"],
                                   stratify=digits.target if split["stratify"] else None)
    assert len(test_idx) == split["test_images"]
    size = models["digits-robust"][1]["preprocessing"]["input_size"]
    return upsample(digits.images[test_idx], size), torch.tensor(digits.target[test_idx])


@pytest.fixture(scope="module")
def measured(models, held_out):
    x, y = held_out
    out = {}
    for name, (model, meta) in models.items():
        with torch.no_grad():
            clean = float((model(x).argmax(1) == y).float().mean())
        params = AttackParams(**meta["metrics"]["pgd_attack"])
        robust = 1.0 - float(run_attack(model, x, y, params).success.float().mean())
        out[name] = {"clean_accuracy": clean, "pgd_accuracy": robust}
    return out


def test_sidecars_describe_one_evaluation(models):
    robust_meta = models["digits-robust"][1]
    for _, meta in models.values():
        attack = meta["metrics"]["pgd_attack"]
        assert meta["architecture"] == "digits-cnn" and meta["labels"] == "digits"
        assert attack["method"] == "pgd" and attack["steps"] == 40 and not attack["targeted"]
        # Both models are attacked at the robust model's training budget and threat model.
        assert attack["eps"] == robust_meta["train_eps"] and attack["norm"] == robust_meta["threat_model"]


@pytest.mark.parametrize("name", NAMES)
def test_numbers_match_the_card(name, models, measured):
    card_metrics = models[name][1]["metrics"]
    card_text = (MODELS / "DIGITS_MODEL_CARD.md").read_text()
    row = re.search(rf"^\| {name} \| ([\d.]+)% \| ([\d.]+)% \|$", card_text, re.M)
    assert row, f"no table row for {name} in the model card"
    for key, card_pct in zip(("clean_accuracy", "pgd_accuracy"), row.groups()):
        assert measured[name][key] == pytest.approx(card_metrics[key], abs=TOLERANCE), key
        assert 100 * card_metrics[key] == pytest.approx(float(card_pct), abs=0.05), key


def test_targets(measured):
    std, rob = measured["digits-standard"], measured["digits-robust"]
    assert std["clean_accuracy"] >= 0.95
    assert rob["clean_accuracy"] >= 0.85
    assert rob["pgd_accuracy"] >= 0.60
    assert std["pgd_accuracy"] < 0.10


def sample_files() -> list[Path]:
    return sorted((RESOURCES / "samples").glob("digit-*-test*.png"))


def test_samples_are_labelled_digits():
    files = sample_files()
    assert len(files) >= 6
    labels = [int(re.match(r"digit-(\d)-test(\d+)\.png$", f.name).group(1)) for f in files]
    assert len(set(labels)) == len(labels), "one sample per class"


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.name)
def test_samples_classified_as_labelled(path, models):
    label, index = map(int, re.match(r"digit-(\d)-test(\d+)\.png$", path.name).groups())
    pixels = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    assert pixels.shape == (8, 8)
    # The PNG holds round(v / 16 * 255) of load_digits() image `index`.
    original = load_digits().images[index]
    assert load_digits().target[index] == label
    assert np.array_equal(pixels, np.round(original / 16 * 255))
    for name, (model, meta) in models.items():
        x = upsample(pixels[None] / 255 * 16, meta["preprocessing"]["input_size"])
        with torch.no_grad():
            assert int(model(x).argmax(1)) == label, name


@pytest.mark.parametrize("path", sample_files()[:2], ids=lambda p: p.name)
def test_app_preprocessing_matches_training(path, models):
    """The app's own image pipeline turns a sample into the tensor the models were trained on."""
    images = pytest.importorskip("visualizer.core.images")
    model, meta = models["digits-robust"]
    tensor, _ = images.preprocess(images.load_image(path), model.info.preprocessing)
    pixels = np.asarray(Image.open(path).convert("L"), dtype=np.float32)
    expected = upsample(pixels[None] / 255 * 16, meta["preprocessing"]["input_size"])
    assert tuple(tensor.shape) == tuple(expected.shape)
    # A pipeline that resizes 8-bit images may round to 1/255.
    assert torch.allclose(tensor.float(), expected, atol=1.5 / 255)
