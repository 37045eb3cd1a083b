"""Ctrl-C in the command line: a run interrupted before it computed anything writes nothing
(an empty figure would also replace an earlier good run with --overwrite) and exits 130."""

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
