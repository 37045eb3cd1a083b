"""`visualizer train` on real MNIST: tiny subsets, one epoch. Recipes, the lean attack path
against the scored loop, bit-identical reruns and resumes, loading the weights back, the
card's numbers, and every refusal."""

import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file
from support import ROOT, shared_data

from visualizer.cli import main
from visualizer.core.attacks import AttackParams, perturb, run_attack
from visualizer.core.attacks.loop import drive
from visualizer.core.cancel import CancelToken
from visualizer.core.data import load_dataset
from visualizer.core.errors import ParameterError
from visualizer.core.models.arch import resolve_arch
from visualizer.core.training import BatchProgress, EpochDone, TrainConfig, parse_adversarial, train_steps

MNIST = f"mnist:{shared_data('mnist')}"
TINY = ["--data", MNIST, "--arch", "mnist-cnn", "--limit", "128", "--batch-size", "64", "--eval-limit", "100",
        "--eval-attack-limit", "20", "--device", "cpu"]
# Enough to learn something (~90% on 500 test digits) in a few seconds.
SHORT = ["--limit", "2048", "--batch-size", "32", "--lr", "3e-3", "--eval-limit", "500"]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These small models train several times faster on one thread when the two cores are
    shared (OpenMP threads spin at every barrier while another process holds the core)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def train_cli(out, *extra):
    return main(["train", *TINY, "--out", str(out), *extra])


def test_recipes_parse_into_the_projects_attack_parameters():
    fgsm = parse_adversarial("fgsm-rs:linf:8/255")
    params = fgsm.attack(fgsm.eps, seed=3).resolved()
    assert params.eps == pytest.approx(8 / 255) and params.steps == 1 and params.random_start
    assert params.step_size == pytest.approx(1.25 * 8 / 255)         # Wong et al. 2020
    pgd = parse_adversarial("pgd:l2:2:5").attack(2.0, seed=0).resolved()
    assert (pgd.norm, pgd.steps, pgd.step_size, pgd.best_iterate) == ("l2", 5, pytest.approx(1.0), False)
    assert parse_adversarial("pgd:linf:0.3").steps == 7 and not parse_adversarial("none").adversarial
    assert parse_adversarial(parse_adversarial("fgsm-rs:linf:8/255").spec()) == fgsm   # the card's spec reproduces
    assert parse_adversarial("pgd:linf:0.3:1e1").steps == parse_adversarial("pgd:linf:0.3:20/2").steps == 10
    for bad in ("fgsm-rs:l2:1", "pgd:linf", "pgd:linf:abc", "pgd:linf:2", "pgd:linf:0.3:x", "pgd:l1:1",
                "fgsm-rs:linf:0.3:2", "madry", "pgd:linf:0.3:7:1"):
        with pytest.raises(ParameterError):
            parse_adversarial(bad)


@pytest.mark.parametrize("norm,eps", [("linf", 0.3), ("l2", 2.0)])
def test_lean_attack_path_is_the_scored_loops_last_iterate(norm, eps):
    torch.manual_seed(0)
    net = resolve_arch("mnist-cnn").build(10)
    data = load_dataset(MNIST, split="test", limit=16)
    x, y = data.batch(torch.arange(16))
    params = AttackParams(method="pgd", norm=norm, eps=eps, steps=3, random_start=True, best_iterate=False, seed=7)
    lean = perturb(net, x, y, params)
    assert torch.equal(lean, run_attack(net, x, y, params).adversarial)
    assert not torch.equal(lean, perturb(net, x, y, AttackParams(**{**params.to_dict(), "seed": 8})))
    with pytest.raises(Exception, match="one restart"):
        perturb(net, x, y, AttackParams(**{**params.to_dict(), "restarts": 2}))


def test_same_command_same_bits_and_weights_load_back(tmp_path, capsys):
    recipe = ["--adversarial", "pgd:linf:0.1:2"]
    assert train_cli(tmp_path / "a", *recipe) == 0
    err = capsys.readouterr().err
    assert "batch/s" in err and "ETA" in err and "adv" in err and "clean" in err
    assert train_cli(tmp_path / "b", *recipe) == 0
    assert train_cli(tmp_path / "c", *recipe, "--seed", "1") == 0
    a, b, c = ((tmp_path / n / "model.safetensors").read_bytes() for n in "abc")
    assert a == b and a != c

    card = json.loads((tmp_path / "a" / "model.json").read_text())
    assert card["architecture"] == "mnist-cnn" and card["seed"] == 0 and card["data"]["train"]["size"] == 128
    assert card["recipe"]["adversarial"] == "pgd:linf:0.1:2" and card["metrics"]["pgd_images"] == 20
    assert card["command"].startswith("visualizer train --data mnist:") and "--limit 128" in card["command"]
    history = json.loads((tmp_path / "a" / "history.json").read_text())
    assert len(history) == 1 and history[0]["train_adversarial_accuracy"] is not None

    # The weights load through the app's own ckpt: path and score what the card says.
    from visualizer.core.models.registry import LoadOptions, load_model

    model = load_model(f"ckpt:{tmp_path / 'a' / 'model.safetensors'}",
                       LoadOptions(arch="mnist-cnn", labels=str(tmp_path / "a" / "labels.txt"), device="cpu"))
    assert model.info.class_names == [str(d) for d in range(10)] and model.input_shape == (1, 28, 28)
    test = load_dataset(MNIST, split="test", limit=100)
    x, y = test.batch(torch.arange(100))
    with torch.no_grad():
        clean = float((model(x).argmax(1) == y).float().mean())
    assert clean == pytest.approx(card["metrics"]["clean_accuracy"])
    robust = run_attack(model, x[:20], y[:20], AttackParams(**card["metrics"]["pgd_attack"]))
    assert 1 - float(robust.success.float().mean()) == pytest.approx(card["metrics"]["pgd_accuracy"])


def test_resumed_run_equals_uninterrupted_run(tmp_path):
    def config(out):
        return TrainConfig(data=MNIST, arch="mnist-cnn", out=str(out), adversarial=parse_adversarial("fgsm-rs:linf:0.2"),
                           epochs=2, limit=192, batch_size=64, eval_limit=100, eval_attack="none", eps_warmup=2.0)

    whole = drive(train_steps(config(tmp_path / "whole"), device="cpu"))
    token = CancelToken()
    stop_after_first_epoch = lambda e: token.cancel() if isinstance(e, EpochDone) else None  # noqa: E731
    # Cancelling at the end of epoch 1: training stops there, epoch 1's checkpoint stays.
    first = drive(train_steps(config(tmp_path / "cut"), device="cpu", cancel=token), stop_after_first_epoch)
    assert first.cancelled and len(first.history) == 1 and not (tmp_path / "cut" / "model.safetensors").exists()
    resumed = drive(train_steps(config(tmp_path / "cut"), device="cpu", resume=True))
    assert not resumed.cancelled and len(resumed.history) == 2
    w1, w2 = (load_file(str(tmp_path / n / "model.safetensors")) for n in ("whole", "cut"))
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    strip = lambda h: [{k: v for k, v in r.items() if k not in ("seconds", "batches_per_s")} for r in h]  # noqa: E731
    assert strip(resumed.history) == strip(whole.history)
    assert whole.history[0]["eps"] == pytest.approx(0.1) and whole.history[1]["eps"] == pytest.approx(0.2)  # ramp


def test_ctrl_c_during_an_epochs_last_batch_keeps_that_epoch(tmp_path):
    """The last batch done means the epoch is done: it is checkpointed, not thrown away."""
    config = TrainConfig(data=MNIST, arch="mnist-cnn", out=str(tmp_path / "run"), epochs=2, limit=128,
                         batch_size=64, eval_limit=50, eval_attack="none")
    token = CancelToken()

    def cancel_on_last_batch(event):
        if isinstance(event, BatchProgress) and event.batch == event.batches:
            token.cancel()

    result = drive(train_steps(config, device="cpu", cancel=token), cancel_on_last_batch)
    assert result.cancelled and len(result.history) == 1
    assert (tmp_path / "run" / "checkpoint.pt").exists()


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    """One short standard run (2,048 images, one epoch: ~5 s on 2 free cores), shared."""
    out = tmp_path_factory.mktemp("short") / "run"
    assert main(["train", *TINY, *SHORT, "--out", str(out)]) == 0
    return json.loads((out / "model.json").read_text())


def test_short_standard_training_learns_digits(short_run):
    assert short_run["metrics"]["clean_accuracy"] > 0.85 and "pgd_accuracy" not in short_run["metrics"]
    assert short_run["environment"]["processes"] == 1


def test_two_torchrun_processes_learn_like_one(tmp_path, short_run):
    """DistributedDataParallel over gloo, started by torchrun as a user would: the same global
    batch split over two processes reaches the single process's accuracy within noise
    (500 test images at ~90%: one standard error is ~1.3 points)."""
    out = tmp_path / "ddp"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "visualizer", "train", *TINY, *SHORT, "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    card = json.loads((out / "model.json").read_text())
    assert card["environment"]["processes"] == 2 and card["data"]["train"]["size"] == 2048
    assert abs(card["metrics"]["clean_accuracy"] - short_run["metrics"]["clean_accuracy"]) < 0.05
    assert card["metrics"]["clean_images"] == 500     # the evaluation's shards add up to the whole
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "history.json", "labels.txt", "model.json",
                                                     "model.safetensors"]   # rank 0 wrote, nothing else did
    assert done.stdout.count("clean accuracy") == 1


@pytest.mark.slow
def test_one_epoch_on_10k_images_passes_95_percent(tmp_path):
    """The issue's accuracy check (about 20 s on 2 free cores, minutes on a loaded machine)."""
    assert train_cli(tmp_path / "s", "--limit", "10000", "--batch-size", "64", "--lr", "2e-3",
                     "--eval-limit", "1000") == 0
    assert json.loads((tmp_path / "s" / "model.json").read_text())["metrics"]["clean_accuracy"] > 0.95


def test_refusals_are_one_clear_line(tmp_path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("earlier work")
    cases = [
        (["--adversarial", "pgd:linf:2"], "exceeds the whole [0, 1] pixel range"),
        (["--adversarial", "fgsm-rs:l2:1"], "fgsm-rs takes the norm linf"),
        (["--data", f"mnist:{tmp_path / 'none'}"], "does not exist"),
        (["--arch", "resnet-9000"], "Unknown architecture"),
        (["--out", str(tmp_path / "full")], "already holds files"),
        (["--resume", "--out", str(tmp_path / "full")], "holds no checkpoint.pt"),
        (["--eval-attack", "fgsm-rs:linf:0.1"], "--eval-attack takes"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        # Three options take recipes: each refusal says which one, and which recipe.
        (["--adversarial", "pgd:l2:-1"], "error: --adversarial 'pgd:l2:-1': Epsilon must be positive"),
        (["--watch", "pgd:linf:8"], "error: --watch 'pgd:linf:8': An L-inf epsilon of 8.0 exceeds"),
        (["--eval-attack", "pgd:linf:0.1:x"], "error: --eval-attack 'pgd:linf:0.1:x': The number of steps must be"),
        (["--eps-warmup", "2"], "--eps-warmup ramps the eps of adversarial training up; standard training"),
    ]
    for extra, message in cases:
        out = ["--out", str(tmp_path / "new")] if "--out" not in extra else []
        rc = main(["train", *TINY, *out, *extra])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and err[-1].startswith("error: ") and message in err[-1], (extra, err)
    assert (tmp_path / "full" / "keep.txt").read_text() == "earlier work"


def test_a_warmup_longer_than_the_training_is_a_warning(tmp_path, capsys):
    assert train_cli(tmp_path / "w", "--limit", "64", "--adversarial", "pgd:linf:0.3:1", "--eps-warmup", "4",
                     "--eval-attack", "none") == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: --eps-warmup 4 is longer than the 1 epoch(s): the eps never reaches 0.3; the last "
                        "batch trains at 0.075"]
    history = json.loads((tmp_path / "w" / "history.json").read_text())
    assert history[-1]["eps"] == pytest.approx(0.075)


def test_resume_refuses_other_settings(tmp_path, capsys):
    out = tmp_path / "r"
    assert train_cli(out, "--limit", "64") == 0
    capsys.readouterr()
    assert main(["train", *TINY, "--limit", "64", "--out", str(out), "--resume", "--seed", "5"]) == 2
    assert "seed 0 -> 5" in capsys.readouterr().err


def test_resume_may_measure_differently(tmp_path, capsys):
    # The card's final attack runs after training: changing only it must not block a resume.
    out = tmp_path / "r"
    assert train_cli(out, "--limit", "64", "--epochs", "2") == 0
    (out / "model.safetensors").unlink()   # as if cut short after the checkpoint
    capsys.readouterr()
    assert main(["train", *TINY, "--limit", "64", "--epochs", "2", "--out", str(out), "--resume",
                 "--eval-attack", "pgd:linf:0.1:3", "--eval-attack-limit", "10"]) == 0
    card = json.loads((out / "model.json").read_text())
    assert card["metrics"]["pgd_images"] == 10 and card["metrics"]["pgd_attack"]["steps"] == 3


def test_threads_must_be_a_positive_count(tmp_path, capsys):
    assert main(["train", *TINY, "--out", str(tmp_path / "t"), "--threads", "0"]) == 2
    assert "argument --threads: must be at least 1, not 0" in capsys.readouterr().err


def test_cifar_architecture_trains_on_resized_digits_and_loads_back(tmp_path):
    """A 3-channel 32 px architecture gets MNIST resized and repeated to RGB, the way the app
    feeds it a digit; the weights load back under the same --arch name."""
    out = tmp_path / "wrn"
    assert main(["train", *TINY, "--arch", "wrn-10-1", "--limit", "64", "--eval-limit", "64",
                 "--eval-attack", "none", "--out", str(out)]) == 0
    card = json.loads((out / "model.json").read_text())
    assert card["preprocessing"]["channels"] == 3 and card["preprocessing"]["input_size"] == 32
    from visualizer.core.models.registry import LoadOptions, load_model

    model = load_model(f"ckpt:{out / 'model.safetensors'}", LoadOptions(arch="wrn-10-1", device="cpu"))
    test = load_dataset(MNIST, split="test", limit=64, preprocessing=model.info.preprocessing)
    x, y = test.batch(torch.arange(64))
    with torch.no_grad():
        assert float((model(x).argmax(1) == y).float().mean()) == pytest.approx(card["metrics"]["clean_accuracy"])
