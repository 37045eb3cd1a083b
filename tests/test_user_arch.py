"""``--arch py:PATH.py:NAME``: a network defined in the user's own Python file, with a state
dict saved from it. Running the file needs --trust, like unpickling; every way it can go
wrong (missing file or name, bad JSON, a failing constructor) is one clear message."""

import json

import pytest
import torch

from support import digit_sample
from visualizer.cli import main
from visualizer.core.errors import ModelLoadError, ParameterError, UntrustedCheckpointError, UntrustedCodeError
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.models.user_arch import parse_arch_kwargs

MODEL_FILE = '''
import torch
from torch import nn

from helpers import width   # a module beside this file, as authors' repositories have

MARKER = []


def SmallCNN(num_classes=10, channels=3):
    """An nn.Sequential CNN, as in many papers' code."""
    return nn.Sequential(
        nn.Conv2d(channels, width(), 3, padding=1), nn.BatchNorm2d(width()), nn.ReLU(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(4 * width(), num_classes),
    )


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        raise RuntimeError("this constructor needs a GPU")


def not_a_network():
    return 42


if __name__ == "__main__":
    raise SystemExit("training code must not run when the file is imported")
'''


@pytest.fixture
def user_model(tmp_path):
    """(model file, state dict file, the network) for SmallCNN(num_classes=7)."""
    (tmp_path / "helpers.py").write_text("def width():\n    return 6\n")
    source = tmp_path / "my_model.py"
    source.write_text(MODEL_FILE)
    namespace = {"__name__": "original"}
    exec(compile(MODEL_FILE.replace("from helpers import width", "def width():\n    return 6"), "m", "exec"),
         namespace)
    torch.manual_seed(0)
    net = namespace["SmallCNN"](num_classes=7).eval()
    for module in net.modules():     # BN statistics that are not the identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    weights = tmp_path / "weights.pt"
    torch.save(net.state_dict(), weights)
    return source, weights, net


def load(weights, arch, **kw):
    return load_model(f"ckpt:{weights}", LoadOptions(arch=arch, device="cpu", **kw))


def test_own_architecture_loads_and_gives_the_same_logits(user_model):
    source, weights, net = user_model
    model = load(weights, f"py:{source}:SmallCNN", arch_kwargs={"num_classes": 7}, trust=True, input_size=24,
                 mean=(0.5,), std=(0.25,))
    assert model.info.num_classes == 7 and model.info.architecture == f"py:{source}:SmallCNN"
    assert model.info.arch_kwargs == {"num_classes": 7} and model.info.preprocessing.channels == 3
    assert any("SmallCNN from" in n and "sha256" in n for n in model.info.notes)
    x = torch.rand(3, 3, 24, 24, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(model(x), net((x - 0.5) / 0.25), rtol=1e-5, atol=1e-5)


def test_without_trust_the_file_is_not_run(user_model, tmp_path):
    source, weights, _ = user_model
    source.write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n" + MODEL_FILE)
    with pytest.raises(UntrustedCodeError, match=r"was NOT run.*--trust") as excinfo:
        load(weights, f"py:{source}:SmallCNN")
    assert isinstance(excinfo.value, UntrustedCheckpointError)    # the window explains it like a pickle
    assert not (tmp_path / "ran").exists()


def test_the_cli_refuses_without_trust_in_one_line_then_runs_with_it(user_model, tmp_path, capsys):
    source, weights, _ = user_model
    args = ["attack", "--model", f"ckpt:{weights}", "--arch", f"py:{source}:SmallCNN", "--arch-kwargs",
            '{"num_classes": 7}', "--input-size", "16", "--image", str(digit_sample()), "--eps", "1/255",
            "--steps", "3", "--device", "cpu", "--out", str(tmp_path / "run")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "--trust" in err[0]
    assert main(args + ["--trust"]) == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "run" / "result.json").read_text())
    assert record["model"]["architecture"] == f"py:{source}:SmallCNN"
    assert record["model"]["arch_kwargs"] == {"num_classes": 7}


@pytest.mark.parametrize("arch, kwargs, error, message", [
    ("py:{dir}/missing.py:SmallCNN", None, ModelLoadError, "missing.py does not exist"),
    ("py:{dir}:SmallCNN", None, ModelLoadError, "is not a file"),
    ("py:{dir}/my_model.py", None, ParameterError, r"py:PATH.py:NAME"),
    ("py:{dir}/my_model.py:ResNet", None, ModelLoadError, r"defines no 'ResNet'\. It defines: Broken, SmallCNN"),
    ("py:{dir}/my_model.py:MARKER", None, ModelLoadError, "is a list, not a class or function"),
    ("py:{dir}/my_model.py:Broken", None, ModelLoadError, "Broken\\(\\) failed: RuntimeError: this constructor needs"),
    ("py:{dir}/my_model.py:SmallCNN", {"depth": 28}, ModelLoadError,
     "SmallCNN\\(depth=28\\) failed: TypeError.*--arch-kwargs"),
    ("py:{dir}/my_model.py:not_a_network", None, ModelLoadError, "returned a int, not a torch nn.Module"),
])
def test_clear_errors(user_model, tmp_path, arch, kwargs, error, message):
    _, weights, _ = user_model
    with pytest.raises(error, match=message):
        load(weights, arch.format(dir=tmp_path), arch_kwargs=kwargs, trust=True)


def test_a_file_that_fails_to_run_says_where(user_model, tmp_path):
    _, weights, _ = user_model
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\n\nraise ValueError('no config found')\n")
    with pytest.raises(ModelLoadError, match=r"Running .*bad.py failed at line 3: ValueError: no config found"):
        load(weights, f"py:{bad}:Net", trust=True)
    bad.write_text("def Net(:\n")
    with pytest.raises(ModelLoadError, match=r"bad.py is not valid Python: .* line 1"):
        load(weights, f"py:{bad}:Net", trust=True)


@pytest.mark.parametrize("text, message", [
    ('{"depth": 28,}', "not valid JSON"),
    ("depth=28", "not valid JSON"),
    ("[28, 10]", "must be a JSON object"),
])
def test_bad_json_kwargs(text, message):
    with pytest.raises(ParameterError, match=message):
        parse_arch_kwargs(text)
    assert parse_arch_kwargs("  ") is None and parse_arch_kwargs('{"a": false}') == {"a": False}


def test_the_cli_reports_bad_json_in_one_line(user_model, tmp_path, capsys):
    source, weights, _ = user_model
    rc = main(["saliency", "--model", f"ckpt:{weights}", "--arch", f"py:{source}:SmallCNN", "--arch-kwargs",
               "{num_classes: 7}", "--trust", "--image", str(digit_sample()), "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "--arch-kwargs is not valid JSON" in err[0]


def test_arch_kwargs_need_an_arch_that_takes_them(user_model):
    _, weights, _ = user_model
    with pytest.raises(ParameterError, match="only applies with --arch"):
        load_model("digits-standard", LoadOptions(arch_kwargs={"a": 1}))
    with pytest.raises(ParameterError, match="does not apply to preact-resnet18"):
        load(weights, "preact-resnet18", arch_kwargs={"a": 1})


def test_a_session_file_never_grants_trust(tmp_path):
    """Trust lets code run; a session file (perhaps from someone else) must not carry it."""
    from visualizer.core.session import ModelRef, Session, load_session, save_session

    options = {"arch": "py:/somewhere/net.py:Net", "arch_kwargs": {"depth": 28}, "trust": True, "device": "cpu"}
    path = save_session(Session(models=[ModelRef("ckpt:/somewhere/w.pt", options)]), tmp_path / "s.advsession")
    restored = load_session(path).models[0].options
    assert "trust" not in restored
    assert restored == {k: v for k, v in options.items() if k != "trust"}
