"""Broken, odd and oversized models fail at loading with a clear message, or load with a
warning; nothing crashes later in an attack. Each model is a real TorchScript archive or
checkpoint written in the test and loaded through the real loader."""

import json
import struct
import sys
import time
import zipfile

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
    assert model.info.outputs == "probabilities"
    assert any("are probabilities" in n for n in model.info.notes)
    plain = load_model(scripted(tmp_path, Tiny(), "plain"), opts())
    assert plain.info.outputs == "logits"
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


# -- too big: for the GPU (falls back to the CPU, says so), for memory (refused unread) -------------

def test_a_model_too_big_for_the_gpu_runs_on_the_cpu_with_a_warning(full_gpu):
    model = load_model("digits-standard", LoadOptions())           # device chosen automatically
    assert full_gpu == ["cuda", "cpu"] and model.device.type == "cpu"
    (note,) = [n for n in model.info.notes if "cuda" in n]
    assert note.startswith("Warning: the model did not fit in the memory of cuda (CUDA out of memory")
    assert "runs on the CPU" in note
    x = torch.rand(1, *model.input_shape)
    res = run_attack(model, x, model(x).argmax(1), AttackParams(norm="l2", eps=1.0, steps=2))
    assert res.iterates == 3
    # A device the user chose is never second-guessed: the CPU asked for, the CPU used.
    full_gpu.clear()
    plain = load_model("digits-standard", LoadOptions(device="cpu"))
    assert full_gpu == ["cpu"] and not any("cuda" in n for n in plain.info.notes)


def test_the_cli_says_when_the_model_runs_on_the_cpu_instead(full_gpu, tmp_path, capsys):
    from support import digit_sample
    from visualizer.cli import main

    out = tmp_path / "run"
    rc = main(["attack", "--model", "digits-standard", "--image", str(digit_sample()), "--norm", "l2", "--eps", "1",
               "--steps", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "warning: digits-standard: the model did not fit in the memory of cuda" in err
    assert json.loads((out / "result.json").read_text())["device"] == "cpu"


def sparse_file(path, size):
    """A file of ``size`` bytes that takes almost no disk: the tail is a hole."""
    with open(path, "r+b" if path.exists() else "wb") as fh:
        fh.truncate(size)
    return path


def more_than_memory() -> int:
    """A size no test machine has as memory (at least 200 GB)."""
    from visualizer.core.device import available_memory_bytes

    free = available_memory_bytes()
    if free is None:
        pytest.skip("this platform does not report its free memory")
    return max(200 * 10**9, 4 * free)


def huge_safetensors(path, size, complete=True):
    header = json.dumps({"weight": {"dtype": "F32", "shape": [size // 4], "data_offsets": [0, size]}}).encode()
    header += b" " * (-len(header) % 8)
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    return sparse_file(path, 8 + len(header) + size) if complete else path


def declaring(src, dst, size):
    """A copy of the torch zip ``src`` whose tensor record declares ``size`` bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, zin.read(info.filename))
        for info in zout.filelist:
            if "/data/" in info.filename:
                info.file_size = size
    return dst


def peak_rss_mb() -> float:
    resource = pytest.importorskip("resource")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


def refused_quickly_without_allocating(spec, options, match):
    before, started = peak_rss_mb(), time.perf_counter()
    with pytest.raises(ModelLoadError, match=match) as info:
        load_model(spec, options)
    assert time.perf_counter() - started < 10
    assert peak_rss_mb() - before < 200, "the weights must not have been read into memory"
    return str(info.value)


def test_weights_larger_than_memory_are_refused_before_reading(tmp_path):
    size = more_than_memory()
    path = huge_safetensors(tmp_path / "huge.safetensors", size)
    assert path.stat().st_size > size and path.stat().st_blocks * 512 < 10**7   # real size, sparse on disk
    message = refused_quickly_without_allocating(f"ckpt:{path}", LoadOptions(arch="preact-resnet18", device="cpu"),
                                                 r"holds \d+\.\d GB of weights, more than the \d+\.\d GB of memory")
    assert "huge.safetensors" in message


def test_a_safetensors_header_larger_than_its_file_is_damaged(tmp_path):
    path = huge_safetensors(tmp_path / "cut.safetensors", more_than_memory(), complete=False)
    assert path.stat().st_size < 200
    refused_quickly_without_allocating(f"ckpt:{path}", LoadOptions(arch="preact-resnet18", device="cpu"),
                                       r"truncated or damaged: its header declares \d+\.\d GB of tensors")


def test_torch_archives_declaring_more_than_memory_are_refused(tmp_path):
    from visualizer.core.models.architectures.preact_resnet import preact_resnet18

    torch.save(preact_resnet18().state_dict(), tmp_path / "real.pt")
    size = more_than_memory()
    big = declaring(tmp_path / "real.pt", tmp_path / "big.pt", size)
    refused_quickly_without_allocating(f"ckpt:{big}", LoadOptions(arch="preact-resnet18", device="cpu"),
                                       "big.pt holds .* GB of weights")
    scripted_path = scripted(tmp_path, Tiny(), "tiny").removeprefix("torchscript:")
    big_script = declaring(scripted_path, tmp_path / "bigscript.pt", size)
    refused_quickly_without_allocating(f"torchscript:{big_script}", opts(), "bigscript.pt holds .* GB of weights")
    # The untouched files load: the check reads sizes, it does not refuse archives as such.
    assert load_model(f"ckpt:{tmp_path / 'real.pt'}", LoadOptions(arch="preact-resnet18", device="cpu"))
    assert load_model(f"torchscript:{scripted_path}", opts())


def test_the_cli_refuses_a_checkpoint_larger_than_memory_in_one_line(tmp_path, capsys):
    from support import digit_sample
    from visualizer.cli import main

    path = huge_safetensors(tmp_path / "huge.safetensors", more_than_memory())
    rc = main(["attack", "--model", f"ckpt:{path}", "--arch", "preact-resnet18", "--image", str(digit_sample()),
               "--eps", "1/255", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1 and err[0].startswith("error:") and "GB of memory available" in err[0], err
