"""Model sources: bundled, torchvision, timm, checkpoint files in every published layout,
TorchScript. Real networks and real files in tmp_path; nothing is mocked."""

import argparse
import json
import os
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import sklearn
import torch
from PIL import Image
from safetensors.torch import save_file
from torch import nn

from visualizer.core.errors import (ModelLoadError, ParameterError, UntrustedCheckpointError,
                                    WeightsUnavailableError)
from visualizer.core.labels import CIFAR10
from visualizer.core.models.architectures.preact_resnet import preact_resnet18
from visualizer.core.models.architectures.wide_resnet import wide_resnet
from visualizer.core.models.downloads import unreachable_reason
from visualizer.core.models.registry import (LoadOptions, bundled_models, describe_sources, load_model,
                                             parse_model_spec)

CPU = dict(device="cpu")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def randomize_bn(net: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial batch-norm statistics, so a wrongly loaded buffer changes the logits."""
    gen = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) * 0.2 - 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=gen) * 0.2 - 0.1)
    return net.eval()


def assert_same_logits(model, net, mean, std, size=32, channels=3):
    x = torch.rand(2, channels, size, size, generator=torch.Generator().manual_seed(1))
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    with torch.no_grad():
        expected = net.eval()((x - m) / s)
        got = model(x)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert model.info.preprocessing.mean == pytest.approx(mean, abs=1e-6)
    assert model.info.preprocessing.std == pytest.approx(std, abs=1e-6)


@pytest.fixture(scope="module")
def preact():
    torch.manual_seed(0)
    return randomize_bn(preact_resnet18(10))


@pytest.fixture(scope="module")
def tiny_wrn():
    torch.manual_seed(0)
    return randomize_bn(wide_resnet(10, 1, num_classes=10))


@pytest.fixture(scope="module")
def tv_resnet18():
    from torchvision.models import resnet18

    torch.manual_seed(0)
    return randomize_bn(resnet18(weights=None))


# --- bundled -------------------------------------------------------------------------


def sample_tensor(name: str) -> torch.Tensor:
    path = Path(sklearn.__file__).parent / "datasets" / "images" / name
    img = Image.open(path).convert("RGB")
    w, h = img.size
    scale = 256 / min(w, h)
    img = img.resize((round(w * scale), round(h * scale)), Image.BICUBIC)
    w, h = img.size
    left, top = (w - 224) // 2, (h - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1)[None]


def test_lite0_imagenet_recognises_sklearn_samples():
    model = load_model("lite0-imagenet", LoadOptions(**CPU))
    assert model.info.preprocessing.input_size == 224 and model.info.preprocessing.resize_size == 256
    assert model.info.weights_sha256 and len(model.info.class_names) == 1000
    with torch.no_grad():
        china = model(sample_tensor("china.jpg")).softmax(-1)[0]
        flower = model(sample_tensor("flower.jpg")).softmax(-1)[0]
    assert model.info.class_names[int(china.argmax())] == "palace"
    assert 0.2 <= float(china.max()) <= 0.45
    assert model.info.class_names[int(flower.argmax())] == "daisy"


def test_bundled_listing_and_sources():
    entries = {e.name: e for e in bundled_models()}
    assert entries["lite0-imagenet"].available and entries["lite0-imagenet"].weights_path.is_file()
    assert {"digits-standard", "digits-robust"} <= set(entries)
    kinds = [s["source"] for s in describe_sources()]
    assert kinds == ["bundled", "torchvision", "timm", "checkpoint", "torchscript"]
    digits = entries["digits-standard"]
    if not digits.available:
        assert "digits-standard.safetensors" in digits.detail
        with pytest.raises(WeightsUnavailableError, match="digits-standard.safetensors"):
            load_model("digits-standard", LoadOptions(**CPU))
    else:
        model = load_model("digits-standard", LoadOptions(**CPU))
        assert model.info.num_classes == 10 and model.info.class_names[3] == "3"
        assert model.info.weights_sha256 and model.info.preprocessing.channels == model.input_shape[0]


def test_parse_model_spec_forms():
    assert parse_model_spec("lite0-imagenet") == ("bundled", "lite0-imagenet")
    assert parse_model_spec("bundled:digits-robust") == ("bundled", "digits-robust")
    assert parse_model_spec("torchvision:resnet50") == ("torchvision", "resnet50")
    assert parse_model_spec("timm:convnext_tiny") == ("timm", "convnext_tiny")
    assert parse_model_spec("ckpt:/data/w.pt") == ("checkpoint", "/data/w.pt")
    assert parse_model_spec("torchscript:m.pt") == ("torchscript", "m.pt")
    with pytest.raises(ParameterError, match="torchvision:NAME"):
        parse_model_spec("resnet50")
    with pytest.raises(ParameterError, match="ckpt:weights.pt"):
        parse_model_spec("weights.pt")
    with pytest.raises(ParameterError, match="lite0-imagenet"):
        parse_model_spec("bundled:nope")
    with pytest.raises(ParameterError):
        parse_model_spec("ckpt:")
    with pytest.raises(ParameterError, match="device"):
        load_model("lite0-imagenet", LoadOptions(device="bogus"))


# --- checkpoint layouts --------------------------------------------------------------


def ckpt(path, arch, **kw):
    return load_model(f"ckpt:{path}", LoadOptions(arch=arch, **CPU, **kw))


@pytest.mark.parametrize("layout", ["plain", "state_dict", "safetensors", "dataparallel", "mu_sigma"])
def test_cifar_checkpoint_layouts(tmp_path, preact, layout):
    sd = {k: v.clone() for k, v in preact.state_dict().items()}
    mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    path = tmp_path / "w.pt"
    if layout == "plain":
        torch.save(sd, path)
    elif layout == "state_dict":
        torch.save({"state_dict": sd, "epoch": 3, "best_acc": 0.9}, path)
    elif layout == "safetensors":
        path = tmp_path / "w.safetensors"
        save_file(sd, str(path))
    elif layout == "dataparallel":
        torch.save({"model_state_dict": {f"module.{k}": v for k, v in sd.items()}}, path)
    else:  # some RobustBench CIFAR nets keep their normalisation as mu/sigma buffers
        mean, std = (0.4914, 0.4822, 0.4465), (0.2471, 0.2435, 0.2616)
        sd["mu"] = torch.tensor(mean).view(1, 3, 1, 1)
        sd["sigma"] = torch.tensor(std).view(1, 3, 1, 1)
        torch.save(sd, path)
    model = ckpt(path, "preact-resnet18")
    assert_same_logits(model, preact, mean, std)
    assert model.info.class_names == CIFAR10 and model.info.preprocessing.input_size == 32
    assert model.info.weights_path == str(path) and len(model.info.weights_sha256) == 64


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


@pytest.mark.parametrize("named", [True, False])
def test_robustbench_imagenet_sequential_layout(tmp_path, tv_resnet18, named):
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    if named:
        seq = nn.Sequential(OrderedDict(normalize=Normalize(mean, std), model=tv_resnet18))
        sd = seq.state_dict()  # normalize.mean, model.conv1.weight, ...
    else:
        seq = nn.Sequential(Normalize(mean, std), tv_resnet18)
        sd = {f"module.{k}": v for k, v in seq.state_dict().items()}  # module.0.mean, module.1.conv1.weight
    torch.save(sd, tmp_path / "rb.pt")
    model = ckpt(tmp_path / "rb.pt", "torchvision:resnet18")
    assert_same_logits(model, tv_resnet18, mean, std, size=64)
    assert model.info.class_names[0] == "tench" and model.info.preprocessing.resize_size == 256


def madry_checkpoint(net, mean, std):
    inner = net.state_dict()
    model = {f"module.model.{k}": v for k, v in inner.items()}
    model.update({f"module.attacker.model.{k}": v for k, v in inner.items()})
    for owner in ("module.normalizer", "module.attacker.normalizer"):
        model[f"{owner}.new_mean"] = torch.tensor(mean).view(3, 1, 1)
        model[f"{owner}.new_std"] = torch.tensor(std).view(3, 1, 1)
    return {"model": model, "optimizer": {}, "schedule": None, "epoch": 5,
            "args": argparse.Namespace(arch="resnet18", eps=3.0, constraint="2")}


def test_madrylab_checkpoint_needs_trust_then_loads(tmp_path, tv_resnet18):
    path = tmp_path / "madry.pt"
    torch.save(madry_checkpoint(tv_resnet18, IMAGENET_MEAN, IMAGENET_STD), path)
    with pytest.raises(UntrustedCheckpointError) as err:
        ckpt(path, "torchvision:resnet18")
    message = str(err.value)
    assert "argparse.Namespace" in message and "--trust" in message and "NOT loaded" in message
    model = ckpt(path, "torchvision:resnet18", trust=True)
    assert_same_logits(model, tv_resnet18, IMAGENET_MEAN, IMAGENET_STD, size=64)
    assert any("trusted" in n for n in model.info.notes)


def test_madrylab_normaliser_yields_to_user_mean_std(tmp_path, preact):
    sd = madry_checkpoint(preact, (0.1, 0.2, 0.3), (0.3, 0.3, 0.3))
    del sd["args"]  # without the Namespace it is plain data and loads safely
    torch.save(sd, tmp_path / "m.pt")
    model = ckpt(tmp_path / "m.pt", "preact-resnet18", mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    assert_same_logits(model, preact, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


def test_timm_arch_infers_class_count_from_checkpoint(tmp_path):
    import timm

    torch.manual_seed(0)
    net = randomize_bn(timm.create_model("resnet18", pretrained=False, num_classes=7))
    save_file(net.state_dict(), str(tmp_path / "r18.safetensors"))
    model = ckpt(tmp_path / "r18.safetensors", "timm:resnet18")
    assert model.info.num_classes == 7 and model.info.class_names[6] == "class 6"
    # timm's resnet18 default config: ImageNet mean/std, 224 px, crop_pct 0.95, bicubic.
    assert model.info.preprocessing.resize_size == 235 and model.info.preprocessing.interpolation == "bicubic"
    assert_same_logits(model, net, IMAGENET_MEAN, IMAGENET_STD, size=64)
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join("abcdefg"))
    assert ckpt(tmp_path / "r18.safetensors", "timm:resnet18", labels=str(labels)).info.class_names[6] == "g"
    with pytest.raises(ModelLoadError, match="1000"):
        ckpt(tmp_path / "r18.safetensors", "timm:resnet18", labels="imagenet")
    with pytest.raises(ModelLoadError, match="--num-classes"):
        ckpt(tmp_path / "r18.safetensors", "timm:resnet18", num_classes=10)
    # One value serves every channel (test_model_channels.py); a list needs one value per channel.
    with pytest.raises(ParameterError, match="--mean has 2 values, but the model takes 3-channel images"):
        ckpt(tmp_path / "r18.safetensors", "timm:resnet18", mean=(0.5, 0.5))


def test_wrn_checkpoint_with_unused_sub_block_loads(tmp_path, tiny_wrn):
    sd = {f"module.{k}": v for k, v in tiny_wrn.state_dict().items()}
    sd.update({f"module.sub_block1.layer.0.{k}": v for k, v in tiny_wrn.block1.layer[0].state_dict().items()})
    torch.save(sd, tmp_path / "trades.pt")
    model = ckpt(tmp_path / "trades.pt", "wrn-10-1")
    assert_same_logits(model, tiny_wrn, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    assert any("never uses" in n for n in model.info.notes)


# --- refusals and damaged files ------------------------------------------------------


class WritesAFile:
    """Unpickling this creates a file: a stand-in for arbitrary code in a checkpoint."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_malicious_pickle_is_not_executed(tmp_path, tiny_wrn):
    marker = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": tiny_wrn.state_dict(), "payload": WritesAFile(str(marker))}, path)
    with pytest.raises(UntrustedCheckpointError, match="open"):
        ckpt(path, "wrn-10-1")
    assert not marker.exists()
    # The payload is live: full unpickling (what --trust allows) does run it.
    ckpt(path, "wrn-10-1", trust=True)
    assert marker.exists()


def test_key_and_shape_mismatches_are_listed(tmp_path, tiny_wrn):
    sd = dict(tiny_wrn.state_dict())
    del sd["block2.layer.0.conv1.weight"], sd["fc.bias"]
    sd["extra.head.weight"] = torch.zeros(3)
    torch.save(sd, tmp_path / "bad.pt")
    with pytest.raises(ModelLoadError) as err:
        ckpt(tmp_path / "bad.pt", "wrn-10-1")
    text = str(err.value)
    assert "2 weights the architecture needs are missing" in text
    assert "block2.layer.0.conv1.weight" in text and "fc.bias" in text
    assert "1 weights in the file are not part" in text and "extra.head.weight" in text

    torch.save(wide_resnet(10, 2).state_dict(), tmp_path / "wider.pt")
    with pytest.raises(ModelLoadError, match=r"wrong shape: conv1\.weight|wrong shape: block1"):
        ckpt(tmp_path / "wider.pt", "wrn-10-1")
    with pytest.raises(ModelLoadError, match="Only 0 of the 107 weights of preact-resnet18"):
        ckpt(tmp_path / "wider.pt", "preact-resnet18")
    torch.save({"foo.weight": torch.zeros(2)}, tmp_path / "alien.pt")
    with pytest.raises(ModelLoadError, match="None of the checkpoint"):
        ckpt(tmp_path / "alien.pt", "wrn-10-1")


def test_bad_arch_and_bad_paths(tmp_path, tiny_wrn):
    torch.save(tiny_wrn.state_dict(), tmp_path / "w.pt")
    with pytest.raises(ParameterError, match="wrn-28-10"):
        ckpt(tmp_path / "w.pt", "resnet-9000")
    with pytest.raises(ParameterError, match="--arch"):
        ckpt(tmp_path / "w.pt", None)
    with pytest.raises(ParameterError, match="Did you mean"):
        ckpt(tmp_path / "w.pt", "timm:resnet19x")
    missing = tmp_path / "nowhere" / "w.pt"
    with pytest.raises(ModelLoadError, match=str(missing)):
        ckpt(missing, "wrn-10-1")
    with pytest.raises(ModelLoadError, match="is a folder.*w.pt"):
        ckpt(tmp_path, "wrn-10-1")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="empty"):
        ckpt(tmp_path / "empty.pt", "wrn-10-1")
    (tmp_path / "junk.pt").write_bytes(os.urandom(4096).replace(b"\x80", b"\x00").replace(b"PK", b"pk"))
    with pytest.raises(ModelLoadError, match="not a PyTorch checkpoint"):
        ckpt(tmp_path / "junk.pt", "wrn-10-1")
    whole = (tmp_path / "w.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ModelLoadError, match="damaged") as err:
        ckpt(tmp_path / "cut.pt", "wrn-10-1")
    assert not isinstance(err.value, UntrustedCheckpointError)


def test_nonfinite_weights_load_with_a_warning(tmp_path, tiny_wrn):
    sd = {k: v.clone() for k, v in tiny_wrn.state_dict().items()}
    sd["block1.layer.0.conv1.weight"][0, 0, 0, 0] = float("nan")
    sd["fc.weight"][0, 0] = float("inf")
    torch.save(sd, tmp_path / "nan.pt")
    model = ckpt(tmp_path / "nan.pt", "wrn-10-1")
    warning = [n for n in model.info.notes if "NaN" in n]
    assert warning and "block1.layer.0.conv1.weight" in warning[0] and "fc.weight" in warning[0]


def test_whole_pickled_module_needs_trust(tmp_path, tiny_wrn):
    torch.save(tiny_wrn, tmp_path / "whole.pt")
    with pytest.raises(UntrustedCheckpointError, match="WideResNet"):
        load_model(f"ckpt:{tmp_path / 'whole.pt'}", LoadOptions(**CPU))
    model = load_model(f"ckpt:{tmp_path / 'whole.pt'}", LoadOptions(trust=True, input_size=32, **CPU))
    assert model.info.num_classes == 10
    assert_same_logits(model, tiny_wrn, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))


# --- TorchScript ---------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
def test_torchscript_round_trip(tmp_path, tiny_wrn):
    path = tmp_path / "wrn.ts"
    torch.jit.save(torch.jit.script(tiny_wrn), str(path))
    model = load_model(f"torchscript:{path}", LoadOptions(input_size=32, **CPU))
    assert model.info.num_classes == 10 and model.info.source == "torchscript"
    assert any("runs as written" in n for n in model.info.notes)
    assert_same_logits(model, tiny_wrn, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    mean, std = (0.4, 0.4, 0.4), (0.2, 0.2, 0.2)
    assert_same_logits(load_model(f"torchscript:{path}", LoadOptions(input_size=32, mean=mean, std=std, **CPU)),
                       tiny_wrn, mean, std)
    with pytest.raises(ModelLoadError, match="torchscript:"):
        ckpt(path, "wrn-10-1")
    torch.save(tiny_wrn.state_dict(), tmp_path / "sd.pt")
    with pytest.raises(ModelLoadError, match="not a TorchScript archive"):
        load_model(f"torchscript:{tmp_path / 'sd.pt'}", LoadOptions(**CPU))


# --- hub caches ----------------------------------------------------------------------


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return tmp_path


def test_offline_hub_models_fail_fast_with_directions(empty_caches):
    if unreachable_reason("https://download.pytorch.org") is None:
        pytest.skip("this machine is online; the offline path is what is tested here")
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as err:
        load_model("torchvision:resnet18", LoadOptions(**CPU))
    text = str(err.value)
    assert "resnet18-f37072fd.pth" in text and "https://download.pytorch.org/models/" in text
    assert str(empty_caches / "torch" / "hub" / "checkpoints") in text
    with pytest.raises(WeightsUnavailableError) as err:
        load_model("timm:resnet18", LoadOptions(**CPU))
    text = str(err.value)
    assert "timm/resnet18.a1_in1k" in text and str(empty_caches / "hf" / "hub") in text
    assert "--arch timm:resnet18" in text
    assert time.monotonic() - start < 15


def test_torchvision_weights_are_read_from_the_hub_cache(empty_caches, tv_resnet18):
    target = empty_caches / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    target.parent.mkdir(parents=True)
    torch.save(tv_resnet18.state_dict(), target)
    model = load_model("torchvision:resnet18", LoadOptions(**CPU))
    assert model.info.weights_path == str(target)
    assert model.info.class_names[0] == "tench" and model.info.preprocessing.input_size == 224
    assert_same_logits(model, tv_resnet18, IMAGENET_MEAN, IMAGENET_STD, size=64)


def test_unsafe_file_in_torchvision_cache_is_refused(empty_caches, tv_resnet18):
    marker = empty_caches / "pwned.txt"
    target = empty_caches / "torch" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    target.parent.mkdir(parents=True)
    torch.save({"fc.weight": torch.zeros(1), "x": WritesAFile(str(marker))}, target)
    with pytest.raises(ModelLoadError, match="cannot be read safely"):
        load_model("torchvision:resnet18", LoadOptions(**CPU))
    assert not marker.exists()


def test_timm_weights_are_read_from_the_hf_cache(empty_caches):
    import timm

    torch.manual_seed(0)
    net = randomize_bn(timm.create_model("resnet18", pretrained=False))
    # The Hugging Face cache layout: refs/main names the snapshot holding the files.
    repo = empty_caches / "hf" / "hub" / "models--timm--resnet18.a1_in1k"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    save_file(net.state_dict(), str(snapshot / "model.safetensors"))
    model = load_model("timm:resnet18", LoadOptions(**CPU))
    assert model.info.weights_path == str(snapshot / "model.safetensors")
    assert model.info.preprocessing.interpolation == "bicubic" and model.info.class_names[1] == "goldfish"
    assert_same_logits(model, net, IMAGENET_MEAN, IMAGENET_STD, size=64)
    assert json.dumps(model.info.to_dict())
