"""Ctrl-C in the command line: a run interrupted before it computed anything writes nothing
(an empty figure would also replace an earlier good run with --overwrite) and exits 130."""

import json
import os
import signal
import subprocess
import sys
import time

from support import digit_sample


def test_saliency_interrupted_before_any_map_writes_nothing(tmp_path):
    out = tmp_path / "sal"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "visualizer", "saliency", "--model", "digits-standard", "--image", str(digit_sample()),
         "--method", "ig", "--ig-steps", "16384", "--device", "cpu", "--out", str(out)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    seen = ""
    deadline = time.monotonic() + 120
    while "saliency ig [" not in seen and time.monotonic() < deadline:   # the bar: the handler is installed
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert "saliency ig [" in seen, seen
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, seen + stderr)
    assert "nothing written" in stderr
    assert not (out / "result.json").exists()


def test_attack_on_several_models_interrupted_names_the_models_left_and_exits_130(tmp_path):
    """Ctrl-C during the first of two models keeps its cancelled run, says the second was not
    attacked (it used to claim "comparison figure and 1 runs written") and exits 130, as
    evaluate and train do, so a script does not take it for a finished run."""
    out = tmp_path / "two"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "visualizer", "attack", "--model", "digits-standard", "--model", "digits-robust",
         "--image", str(digit_sample()), "--eps", "0.05", "--steps", "100000", "--device", "cpu", "--out", str(out)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    seen = ""
    deadline = time.monotonic() + 120
    while "on digits-standard [" not in seen and time.monotonic() < deadline:   # the first model's bar
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert "on digits-standard [" in seen, seen
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, seen + stderr)
    assert "[cancelled]" in stdout and "not attacked: digits-robust" in stdout and "comparison" not in stdout
    assert json.loads((out / "result.json").read_text())["cancelled"] is True
