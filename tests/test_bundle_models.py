"""scripts/bundle_models.py and the generic card reader, on a run `visualizer train` makes
here in seconds (real MNIST, 256 images): a run dropped into a models folder becomes a
bundled model with its checks, history, exact command and listing order."""

import importlib.util
import json

import pytest
import torch
from support import ROOT, shared_data

from visualizer.cli import main
from visualizer.core.models import model_cards
from visualizer.core.models.bundled import load_card_model
from visualizer.core.models.options import LoadOptions

MNIST = f"mnist:{shared_data('mnist')}"


def _script():
    spec = importlib.util.spec_from_file_location("bundle_models", ROOT / "scripts" / "bundle_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("runs")
    rc = main(["train", "--data", MNIST, "--arch", "mnist-cnn", "--limit", "256", "--batch-size", "64",
               "--eval-limit", "200", "--eval-attack-limit", "10", "--device", "cpu", "--threads", "1",
               "--adversarial", "pgd:l2:1.0:2", "--out", str(folder / "tiny-robust-l2")])
    assert rc == 0
    yield folder
    torch.set_num_threads(before)


def test_a_bundled_run_loads_with_its_checks_command_and_history(runs, tmp_path, capsys):
    bundle = _script()
    assert bundle.main(["tiny-robust-l2", "--runs", str(runs), "--dest", str(tmp_path)]) == 0
    card = json.loads((tmp_path / "tiny-robust-l2.json").read_text())
    assert card["command"].endswith("--device cpu --threads 1") and "--adversarial pgd:l2:1.0:2" in card["command"]
    assert card["reproduce"]["command"] == card["command"]
    assert card["reproduce"]["seed"] == 0 and card["reproduce"]["wall_time_s"] == card["time"]["train_seconds"]
    assert [h["epoch"] for h in card["history"]] == [1]
    clean, robust = card["checks"]["clean"], card["checks"]["robust"]
    assert clean["images"] == 1000 and robust["images"] == 100
    assert robust["attack"]["norm"] == "l2" and robust["attack"]["eps"] == 1.0 and robust["attack"]["steps"] == 20
    assert robust["accuracy"] < clean["accuracy"]      # a weakly trained model falls to PGD-20 at L2 1.0
    # Loaded the way the app loads bundled models: the card's class names and threat model.
    model = load_card_model("tiny-robust-l2", tmp_path / "tiny-robust-l2.safetensors",
                            tmp_path / "tiny-robust-l2.json", LoadOptions(device="cpu"))
    assert model.info.class_names == [str(i) for i in range(10)] and model.input_shape == (1, 28, 28)
    assert "L2 eps 1" in model.info.description and "clean" in model.info.description
    text = (tmp_path / "MODEL_CARDS.md").read_text()
    assert "`tiny-robust-l2`" in text and card["reproduce"]["command"] in text
    assert "| `tiny-robust-l2` | MNIST |" in capsys.readouterr().out


def test_listing_order_and_refusals(runs, tmp_path, capsys):
    bundle = _script()
    assert bundle.main(["tiny-robust-l2", "--runs", str(runs), "--dest", str(tmp_path)]) == 0
    standard = json.loads((tmp_path / "tiny-robust-l2.json").read_text())
    standard.update(train_eps=None, threat_model=None)
    (tmp_path / "zz-standard.json").write_text(json.dumps(standard))
    (tmp_path / "zz-standard.safetensors").write_bytes((tmp_path / "tiny-robust-l2.safetensors").read_bytes())
    (tmp_path / "orphan.json").write_text(json.dumps(standard))       # no weights beside it
    names = [f.name for f in model_cards.card_files(tmp_path)]
    assert names.index("zz-standard") < names.index("tiny-robust-l2")   # standard before robust
    assert "orphan" in names and not (tmp_path / "orphan.safetensors").exists()
    capsys.readouterr()
    assert bundle.main(["missing-run", "--runs", str(runs), "--dest", str(tmp_path)]) == 2
    assert "missing-run" in capsys.readouterr().err
    big = runs / "too-big"
    big.mkdir()
    (big / "model.safetensors").write_bytes(b"\0" * (3 * 1024 * 1024))
    (big / "model.json").write_text(json.dumps(standard))
    assert bundle.main(["too-big", "--runs", str(runs), "--dest", str(tmp_path)]) == 2
    assert "under 3 MB" in capsys.readouterr().err
