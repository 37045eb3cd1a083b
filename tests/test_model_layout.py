"""The loader runs convolutional networks channels-last on the CPU (core/models/layout.py):
same predictions, gradients in the caller's layout, and a network that cannot run that way
is left as it was."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from visualizer.core.attacks.loop import run_attack
from visualizer.core.attacks.params import AttackParams
from visualizer.core.models.layout import prefer_channels_last
from visualizer.core.models.registry import load_model
from visualizer.core.models.wrapper import ClassifierModel, ModelInfo, Preprocessing


@pytest.fixture(scope="module")
def lite0():
    return load_model("lite0-imagenet")


def _first_rgb_conv_weight(model):
    return next(p for p in model.parameters() if p.dim() == 4 and p.shape[1] > 1)


def test_a_loaded_convnet_runs_channels_last_with_the_same_predictions(lite0):
    assert lite0.channels_last
    assert _first_rgb_conv_weight(lite0).is_contiguous(memory_format=torch.channels_last)
    default = copy.deepcopy(lite0).to(memory_format=torch.contiguous_format)
    assert _first_rgb_conv_weight(default).is_contiguous()
    x = torch.rand((3, 3, 224, 224), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours, theirs = lite0(x), default(x)
    assert torch.equal(ours.argmax(1), theirs.argmax(1))
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_input_gradients_come_back_in_the_inputs_own_layout(lite0, layout):
    x = torch.rand((2, 3, 224, 224), generator=torch.Generator().manual_seed(2)).contiguous(memory_format=layout)
    x.requires_grad_(True)
    grad = torch.autograd.grad(lite0(x).logsumexp(1).sum(), x)[0]
    assert grad.is_contiguous(memory_format=layout)
    if layout is torch.contiguous_format:
        assert grad.view(2, -1).shape == (2, 3 * 224 * 224)   # what torchattacks' PGDL2 does with it
    assert float(grad.abs().sum()) > 0


def test_pgd_in_either_layout_differs_by_rounding_only(lite0):
    """Layout reorders the sums, so gradients differ in their last bits; an attack
    amplifies that step by step, so compare what rounding bounds: one L2 step moves the
    image by the same eps-sized vector to 0.1% of eps, and after three steps the attack's
    loss is the same to 1e-4 relative."""
    default = copy.deepcopy(lite0).to(memory_format=torch.contiguous_format)
    gen = torch.Generator().manual_seed(3)
    x = torch.rand((2, 3, 224, 224), generator=gen)
    y = torch.randint(0, 1000, (2,), generator=gen)
    one = AttackParams(method="pgd", norm="l2", eps=1.0, steps=1, random_start=False)
    a, b = run_attack(lite0, x, y, one).adversarial, run_attack(default, x, y, one).adversarial
    assert float((a - x).flatten(1).norm(dim=1).min()) > 0.99
    assert float((a - b).flatten(1).norm(dim=1).max()) < 1e-3
    three = AttackParams(method="pgd", norm="l2", eps=1.0, steps=3, random_start=False)
    la, lb = run_attack(lite0, x, y, three).loss, run_attack(default, x, y, three).loss
    torch.testing.assert_close(la, lb, rtol=1e-4, atol=0)


class _FlattensWithView(nn.Module):
    """A user's network that flattens with ``.view``: fine in torch's default layout, an
    error on channels-last activations."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8, 5)

    def forward(self, x):
        x = self.conv(x)
        return self.fc(x.view(x.shape[0], -1))


def _wrapped(net):
    info = ModelInfo("user", "checkpoint", "user-cnn", Preprocessing(input_size=8, resize_size=8), list("abcde"))
    return ClassifierModel(net, info)


def test_a_network_that_cannot_run_channels_last_is_left_as_it_was():
    model = _wrapped(_FlattensWithView())
    x = torch.rand((2, 3, 8, 8), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        before = model(x)
    assert not prefer_channels_last(model, x, deterministic=True)
    assert not model.channels_last and model.net.conv.weight.is_contiguous()
    with torch.no_grad():
        assert torch.equal(model(x), before)


def test_random_and_fully_connected_networks_are_not_converted():
    x = torch.rand((2, 3, 8, 8), generator=torch.Generator().manual_seed(5))
    conv_net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 64, 5))
    assert not prefer_channels_last(_wrapped(conv_net), x, deterministic=False)
    dense = _wrapped(nn.Sequential(nn.Flatten(), nn.Linear(3 * 64, 5)))
    assert not prefer_channels_last(dense, x, deterministic=True)
    converted = _wrapped(copy.deepcopy(conv_net))
    assert prefer_channels_last(converted, x, deterministic=True)
    assert converted.net[0].weight.is_contiguous(memory_format=torch.channels_last)


def test_the_trainer_builds_convnets_channels_last_on_one_cpu_process_only():
    from visualizer.core.models.arch import resolve_arch
    from visualizer.core.models.layout import train_channels_last
    from visualizer.core.training.network import build_network

    cpu = torch.device("cpu")
    x = torch.rand((2, 1, 28, 28), generator=torch.Generator().manual_seed(6))
    net = build_network(resolve_arch("mnist-cnn"), 10, seed=1)
    net.train()
    assert not train_channels_last(net, cpu, True, x)          # torchrun: DDP keeps the default layout
    assert train_channels_last(net, cpu, False, x)
    convs = [m.weight for m in net.modules() if isinstance(m, nn.Conv2d) and m.weight.shape[1] > 1]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert net.training                                         # its mode is as it was
    viewing = _FlattensWithView()
    assert not train_channels_last(viewing, cpu, False, torch.rand((2, 3, 8, 8)))
    assert viewing.conv.weight.is_contiguous()


def test_the_probes_scores_spare_the_layout_check_a_forward_pass():
    """Loading ran the probe batch through the model, then again for the layout check: the
    probe's scores are now reused (one forward fewer per load; lite0's cost most)."""
    x = torch.rand((2, 3, 8, 8), generator=torch.Generator().manual_seed(6))
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 64, 5))
    calls = []
    net.register_forward_hook(lambda *_: calls.append(1))
    model = _wrapped(net)
    with torch.no_grad():
        scores = model(x)
    calls.clear()
    assert prefer_channels_last(model, x, deterministic=True, before=scores)
    assert len(calls) == 1                        # the converted layout only
    wrong = _wrapped(copy.deepcopy(net))          # scores that do not match: not converted
    assert not prefer_channels_last(wrong, x, deterministic=True, before=scores + 1.0)
