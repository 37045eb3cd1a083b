"""Our CIFAR architectures: output shape, parameter count and RobustBench key names, so
published checkpoints load without renaming."""

import torch

from visualizer.core.models.architectures import cifar_architecture
from visualizer.core.models.architectures.preact_resnet import preact_resnet18
from visualizer.core.models.architectures.wide_resnet import wide_resnet


def test_wrn_28_10_shape_size_and_key_names():
    net = wide_resnet(28, 10, num_classes=10).eval()
    with torch.no_grad():
        out = net(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 10)
    # 36.5M parameters, as reported for WRN-28-10 on CIFAR-10.
    assert sum(p.numel() for p in net.parameters()) == 36_479_194
    keys = list(net.state_dict())
    assert keys[0] == "conv1.weight"
    for key in ("block1.layer.0.bn1.weight", "block1.layer.0.conv1.weight", "block1.layer.0.bn2.running_var",
                "block1.layer.0.conv2.weight", "block1.layer.0.convShortcut.weight",
                "block2.layer.0.convShortcut.weight", "block3.layer.3.conv2.weight",
                "bn1.running_mean", "fc.weight", "fc.bias"):
        assert key in keys, key
    # Only the first block of each group changes width and so has a projection shortcut.
    assert "block1.layer.1.convShortcut.weight" not in keys
    assert "block3.layer.4.bn1.weight" not in keys  # (28 - 4) / 6 = 4 blocks per group


def test_preact_resnet18_shape_size_and_key_names():
    net = preact_resnet18(num_classes=10).eval()
    with torch.no_grad():
        out = net(torch.rand(3, 3, 32, 32))
    assert out.shape == (3, 10)
    assert sum(p.numel() for p in net.parameters()) == 11_172_170  # convs 11,159,232 + BN 7,808 + linear 5,130
    keys = list(net.state_dict())
    for key in ("conv1.weight", "layer1.0.bn1.weight", "layer1.0.conv1.weight", "layer1.1.conv2.weight",
                "layer2.0.shortcut.0.weight", "layer4.1.bn2.running_mean", "bn.weight", "linear.weight"):
        assert key in keys, key
    assert "layer1.0.shortcut.0.weight" not in keys  # 64 -> 64, stride 1: identity shortcut
    assert not any(k.startswith("fc.") for k in keys)


def test_architecture_names_resolve():
    assert cifar_architecture("wrn-28-10").name == "wrn-28-10"
    assert cifar_architecture("WRN-34-10").classifier_key == "fc.weight"
    assert cifar_architecture("preact-resnet18").classifier_key == "linear.weight"
    assert cifar_architecture("wrn-27-10") is None  # depth must be 6n + 4
    assert cifar_architecture("resnet50") is None
