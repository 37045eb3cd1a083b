"""The trainer's per-epoch robust accuracy (``EpochWatch``, what the Train tab plots) and a
cancelled run kept as a loadable model (``keep_on_cancel``), on tiny real MNIST runs."""

import json

import pytest
import torch
from safetensors.torch import load_file
from support import shared_data

from visualizer.core.attacks import AttackParams, run_attack
from visualizer.core.attacks.loop import drive
from visualizer.core.cancel import CancelToken
from visualizer.core.data import load_dataset
from visualizer.core.errors import ParameterError
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.training import BatchProgress, EpochWatch, TrainConfig, parse_adversarial, train_steps

MNIST = f"mnist:{shared_data('mnist')}"
WATCH = EpochWatch(AttackParams(method="pgd", norm="linf", eps=0.1, steps=5), images=40)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def config(out, epochs=1, recipe="none"):
    return TrainConfig(data=MNIST, arch="mnist-cnn", out=str(out), adversarial=parse_adversarial(recipe),
                       epochs=epochs, limit=512, batch_size=32, lr=3e-3, eval_limit=40, eval_attack="none")


def loaded(out):
    return load_model(f"ckpt:{out / 'model.safetensors'}",
                      LoadOptions(arch="mnist-cnn", labels=str(out / "labels.txt"), device="cpu"))


def test_watched_robust_accuracy_is_the_projects_pgd_on_the_saved_weights(tmp_path):
    watched = drive(train_steps(config(tmp_path / "w", recipe="fgsm-rs:linf:0.1"), device="cpu", watch=WATCH))
    record = watched.history[0]
    assert record["test_robust_images"] == 40 and record["robust_attack"]["steps"] == 5
    assert json.loads((tmp_path / "w" / "history.json").read_text())[0]["test_robust_accuracy"] == \
        record["test_robust_accuracy"]
    model = loaded(tmp_path / "w")
    x, y = load_dataset(MNIST, split="test", limit=40).batch(torch.arange(40))
    robust = 1 - float(run_attack(model, x, y, WATCH.attack).success.float().mean())
    assert record["test_robust_accuracy"] == pytest.approx(robust)
    assert record["test_robust_accuracy"] < record["test_clean_accuracy"]
    # Watching measures; it does not change what is trained.
    plain = drive(train_steps(config(tmp_path / "p", recipe="fgsm-rs:linf:0.1"), device="cpu"))
    assert "test_robust_accuracy" not in plain.history[0]
    a, b = (load_file(str(tmp_path / n / "model.safetensors")) for n in ("w", "p"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cancel_mid_epoch_keeps_the_last_finished_epoch_as_a_model(tmp_path):
    token = CancelToken()

    def cancel_in_epoch_two(event):
        if isinstance(event, BatchProgress) and event.epoch == 2:
            token.cancel()

    out = tmp_path / "run"
    result = drive(train_steps(config(out, epochs=2), device="cpu", cancel=token, keep_on_cancel=True),
                   cancel_in_epoch_two)
    assert result.cancelled and len(result.history) == 1
    assert result.card["stopped_after_epoch"] == 1 and "after epoch 1 of 2" in result.card["description"]
    saved = load_file(str(out / "model.safetensors"))
    epoch_one = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(saved[k], epoch_one[k]) for k in saved)
    model = loaded(out)
    x, y = load_dataset(MNIST, split="test", limit=40).batch(torch.arange(40))
    with torch.no_grad():
        clean = float((model(x).argmax(1) == y).float().mean())
    assert clean == pytest.approx(result.card["metrics"]["clean_accuracy"])
    assert json.loads((out / "model.json").read_text())["stopped_after_epoch"] == 1
    # The kept model does not stand in the way of --resume, which finishes the run over it.
    resumed = drive(train_steps(config(out, epochs=2), device="cpu", resume=True))
    assert not resumed.cancelled and len(resumed.history) == 2 and "stopped_after_epoch" not in resumed.card
    assert "stopped_after_epoch" not in json.loads((out / "model.json").read_text())


def test_cancel_without_keep_writes_no_model_and_a_watch_needs_images(tmp_path):
    token = CancelToken()
    token.cancel()
    result = drive(train_steps(config(tmp_path / "run", epochs=2), device="cpu", cancel=token, keep_on_cancel=True))
    assert result.cancelled and result.card is None and not (tmp_path / "run" / "model.safetensors").exists()
    with pytest.raises(ParameterError, match="at least one"):
        EpochWatch(WATCH.attack, images=0)


def test_cli_watch_writes_robust_accuracy_per_epoch_and_refuses_other_attacks(tmp_path, capsys):
    from visualizer.cli import main

    common = ["train", "--data", MNIST, "--arch", "mnist-cnn", "--limit", "128", "--batch-size", "64",
              "--eval-limit", "20", "--eval-attack", "none", "--device", "cpu", "--epochs", "2"]
    assert main([*common, "--out", str(tmp_path / "run"), "--watch", "pgd:l2:1", "--watch-limit", "20"]) == 0
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [r["test_robust_images"] for r in history] == [20, 20]
    assert history[0]["robust_attack"]["norm"] == "l2" and history[0]["robust_attack"]["steps"] == 10
    assert capsys.readouterr().err.count("robust ") == 2
    assert main([*common, "--out", str(tmp_path / "bad"), "--watch", "fgsm-rs:linf:0.1"]) == 2
    assert "pgd:NORM:EPS" in capsys.readouterr().err and not (tmp_path / "bad").exists()
