"""Broken and odd models fail at loading with a clear message, or load with a warning;
nothing crashes later in an attack. Each model is a real TorchScript archive or checkpoint
written in the test and loaded through the real loader."""

import pytest
import torch
from torch import nn

from visualizer.core.attacks import AttackParams, drive, run_attack
from visualizer.core.attacks.spatial import SpatialParams, spatial_sweep
from visualizer.core.errors import ModelLoadError
from visualizer.core.models.registry import LoadOptions, load_model


class Tiny(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, classes)

    def forward(self, x):
        return self.logits(x)

    def logits(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3)))


class Raises(nn.Module):
    def forward(self, x):
        raise RuntimeError("this model is broken on purpose")


class WrongShape(Tiny):
    def forward(self, x):
        return self.logits(x).flatten()          # (N*C,) instead of (N, C)


class Softmaxed(Tiny):
    def forward(self, x):
        return self.logits(x).softmax(dim=1)


class Rounding(Tiny):
    """Not differentiable in practice: rounding kills the input gradient."""

    def forward(self, x):
        return self.logits(torch.round(x * 8) / 8)


def scripted(tmp_path, module, name):
    path = tmp_path / f"{name}.pt"
    torch.manual_seed(0)
    torch.jit.script(module).save(str(path))
    return f"torchscript:{path}"


def opts(**kw):
    return LoadOptions(input_size=16, device="cpu", **kw)


def test_a_model_whose_forward_raises_fails_at_loading(tmp_path):
    with pytest.raises(ModelLoadError, match="(failed on a blank|raised an error on a test image).*broken on purpose"):
        load_model(scripted(tmp_path, Raises(), "raises"), opts(num_classes=3))


def test_a_model_returning_the_wrong_shape_fails_at_loading(tmp_path):
    with pytest.raises(ModelLoadError, match=r"must return one row|logits of shape"):
        load_model(scripted(tmp_path, WrongShape(), "flat"), opts())


def test_probabilities_instead_of_logits_are_flagged(tmp_path):
    model = load_model(scripted(tmp_path, Softmaxed(), "soft"), opts())
    assert any("look like probabilities" in n for n in model.info.notes)
    plain = load_model(scripted(tmp_path, Tiny(), "plain"), opts())
    assert not any("probabilities" in n for n in plain.info.notes)


def test_nan_weights_load_with_a_warning(tmp_path):
    from visualizer.core.models.architectures.preact_resnet import preact_resnet18

    net = preact_resnet18()
    sd = net.state_dict()
    sd["linear.bias"][0] = float("nan")
    path = tmp_path / "nan.pt"
    torch.save(sd, path)
    model = load_model(f"ckpt:{path}", LoadOptions(arch="preact-resnet18", device="cpu"))
    assert any("NaN" in n for n in model.info.notes)


def test_a_non_differentiable_model_gets_a_warning_and_the_sweep_still_works(tmp_path):
    model = load_model(scripted(tmp_path, Rounding(), "round"), opts())
    x = torch.rand(2, 3, 16, 16)
    y = model(x).argmax(1)
    res = run_attack(model, x, y, AttackParams(eps=0.05, steps=3))
    assert any("gradient was exactly zero" in w for w in res.warnings)
    sweep = drive(spatial_sweep(model, x, y, SpatialParams(rotations=5, translations=3)))
    assert sweep.evaluated == 2 * 45 and torch.isfinite(sweep.true_prob).all()


def test_wrong_number_of_classes_for_the_labels(tmp_path):
    with pytest.raises(ModelLoadError, match="classes"):
        load_model(scripted(tmp_path, Tiny(classes=7), "seven"), opts(labels="cifar10"))
