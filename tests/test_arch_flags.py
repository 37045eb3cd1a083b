"""Constructor flags a state dict cannot reveal (core/models/arch_flags.py): read from the file
where its keys or shapes show them, otherwise stated in the notes and set with --arch-kwargs.
Real torchvision/timm networks at small input sizes, saved and loaded through the registry."""

import pytest
import torch
from torch import nn

from visualizer.core.models.arch_flags import torchvision_flags
from visualizer.core.models.registry import LoadOptions, load_model

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
SIZE = 75     # the smallest input inception_v3 accepts: keeps these tests fast


def with_statistics(net: nn.Module, channels: int = 3, size: int = SIZE) -> nn.Module:
    """Batch-norm statistics measured on a batch of images (as training leaves them), so the
    network's outputs depend on its input the way a trained network's do."""
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = 1.0        # running statistics := this batch's
    net.train()
    with torch.no_grad():
        net(torch.randn(4, channels, size, size, generator=torch.Generator().manual_seed(0)))
    return net.eval()


def normalised(x):
    return (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def saved(tmp_path, name, **flags):
    from torchvision.models import get_model

    torch.manual_seed(0)
    net = with_statistics(get_model(name, weights=None, num_classes=10, init_weights=False, **flags))
    path = tmp_path / f"{name}.pt"
    torch.save(net.state_dict(), path)
    return net, path


def load(path, arch, **kw):
    return load_model(f"ckpt:{path}", LoadOptions(arch=arch, input_size=SIZE, device="cpu", **kw))


@pytest.mark.parametrize("name", ["inception_v3", "googlenet"])
def test_transform_input_false_via_arch_kwargs_gives_the_original_logits(tmp_path, name):
    net, path = saved(tmp_path, name, transform_input=False, aux_logits=False)
    x = torch.rand(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = net(normalised(x))

    model = load(path, f"torchvision:{name}", arch_kwargs={"transform_input": False})
    assert model.info.arch_kwargs["transform_input"] is False
    assert not any("transform_input=True" in n for n in model.info.notes)
    with torch.no_grad():
        torch.testing.assert_close(model(x), expected, rtol=1e-4, atol=1e-4)

    assumed = load(path, f"torchvision:{name}")       # the file cannot tell: the assumption is stated
    assert assumed.info.arch_kwargs["transform_input"] is True
    note = next(n for n in assumed.info.notes if "transform_input=True" in n)
    assert "--arch-kwargs '{\"transform_input\": false}'" in note
    with torch.no_grad():
        assert not torch.allclose(assumed(x), expected, rtol=1e-2, atol=1e-2)   # what the note warns about


def test_auxiliary_heads_are_read_from_the_file(tmp_path):
    net, path = saved(tmp_path, "googlenet", transform_input=True, aux_logits=True)
    model = load(path, "torchvision:googlenet")
    assert model.info.arch_kwargs["aux_logits"] is True
    assert not any("never uses" in n for n in model.info.notes)     # every weight of the file was loaded
    x = torch.rand(1, 3, SIZE, SIZE)
    with torch.no_grad():
        torch.testing.assert_close(model(x), net(normalised(x)), rtol=1e-4, atol=1e-4)


def test_vit_image_size_is_read_from_the_position_embedding():
    for prefix in ("", "module."):
        flags, notes = torchvision_flags("vit_b_16", {f"{prefix}encoder.pos_embedding": torch.zeros(1, 577, 4)}, {})
        assert flags == {"image_size": 384} and "384x384" in notes[0]
    assert torchvision_flags("vit_b_16", {"encoder.pos_embedding": torch.zeros(1, 197, 4)}, {}) == ({}, [])
    assert torchvision_flags("vit_b_16", {"encoder.pos_embedding": torch.zeros(1, 577, 4)},
                             {"image_size": 512})[0] == {"image_size": 512}    # the user's word wins


def test_timm_input_channels_are_read_from_the_first_convolution(tmp_path):
    import timm

    torch.manual_seed(0)
    net = with_statistics(timm.create_model("resnet18", pretrained=False, num_classes=4, in_chans=1), 1, 32)
    torch.save(net.state_dict(), tmp_path / "grey.pt")
    model = load_model(f"ckpt:{tmp_path / 'grey.pt'}",
                       LoadOptions(arch="timm:resnet18", input_size=32, device="cpu", mean=(0.5,), std=(0.25,)))
    assert model.info.arch_kwargs == {"in_chans": 1} and model.input_shape == (1, 32, 32)
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(x), net((x - 0.5) / 0.25), rtol=1e-4, atol=1e-4)


def test_bad_arch_kwargs_for_a_library_network_are_one_clear_error(tmp_path):
    from visualizer.core.errors import ModelLoadError, ParameterError

    _, path = saved(tmp_path, "googlenet", transform_input=False, aux_logits=False)
    with pytest.raises(ModelLoadError, match=r"torchvision:googlenet could not be built with .*colour=.*--arch-kwargs"):
        load(path, "torchvision:googlenet", arch_kwargs={"colour": True})
    with pytest.raises(ParameterError, match="cannot set num_classes"):
        load(path, "torchvision:googlenet", arch_kwargs={"num_classes": 10})
