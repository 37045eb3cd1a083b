"""Ctrl-C in the command line: a run interrupted before it computed anything writes nothing
(an empty figure would also replace an earlier good run with --overwrite) and exits 130."""

import json
import os
import signal
import subprocess
import sys
import time

from support import digit_sample


def _interrupt(args, marker):
    """Run ``visualizer ARGS`` (one torch thread), send Ctrl-C once ``marker`` (a progress
    bar's text: the handler is installed) appears on stderr; (returncode, stdout, stderr)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "visualizer", *args], stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    seen = ""
    deadline = time.monotonic() + 120
    while marker not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert marker in seen, seen
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    return proc.returncode, stdout, seen + stderr


def test_saliency_interrupted_before_any_map_writes_nothing(tmp_path):
    out = tmp_path / "sal"
    rc, stdout, stderr = _interrupt(["saliency", "--model", "digits-standard", "--image", str(digit_sample()),
                                     "--method", "ig", "--ig-steps", "16384", "--device", "cpu", "--out", str(out)],
                                    "saliency ig [")
    assert rc == 130, (stdout, stderr)
    assert "nothing written" in stderr
    assert not (out / "result.json").exists()


def test_attack_on_several_models_interrupted_names_the_models_left_and_exits_130(tmp_path):
    """Ctrl-C during the first of two models keeps its cancelled run, says the second was not
    attacked (it used to claim "comparison figure and 1 runs written") and exits 130, as
    evaluate and train do, so a script does not take it for a finished run."""
    out = tmp_path / "two"
    rc, stdout, stderr = _interrupt(["attack", "--model", "digits-standard", "--model", "digits-robust", "--image",
                                     str(digit_sample()), "--eps", "0.05", "--steps", "100000", "--device", "cpu",
                                     "--out", str(out)], "on digits-standard [")
    assert rc == 130, (stdout, stderr)
    assert "[cancelled]" in stdout and "not attacked: digits-robust" in stdout and "comparison" not in stdout
    assert json.loads((out / "result.json").read_text())["cancelled"] is True


def test_train_interrupted_keeps_the_last_finished_epoch_as_a_loadable_model(tmp_path):
    """Ctrl-C in epoch 2 of `visualizer train`: epoch 1 stays resumable and is also written as a
    model that loads and has a card saying where it stopped (the window's Cancel does the same)."""
    from mnist_support import MNIST_SPEC

    out = tmp_path / "run"
    rc, stdout, stderr = _interrupt(["train", "--data", MNIST_SPEC, "--arch", "mnist-cnn", "--limit", "128",
                                     "--batch-size", "64", "--eval-limit", "20", "--eval-attack", "none",
                                     "--epochs", "50", "--device", "cpu", "--out", str(out)], "epoch 2/")
    assert rc == 130, (stdout, stderr)
    assert "loadable model" in stderr and "--resume" in stderr
    card = json.loads((out / "model.json").read_text())
    assert card["stopped_after_epoch"] >= 1 and (out / "checkpoint.pt").is_file()
    from visualizer.core.models.options import LoadOptions
    from visualizer.core.models.registry import load_model

    model = load_model(f"ckpt:{out / 'model.safetensors'}", LoadOptions(arch=card["architecture"], device="cpu"))
    assert model.info.num_classes == 10 and (out / "labels.txt").read_text().split()[:2] == ["0", "1"]
