"""Durations and rates as people read them: a huge run's ETA (steps 1e11) read
'326587492.1s', and a slow architecture's training line '0.0 batch/s'."""

import io
import time

import torch

from visualizer.cli.train import describe_batch
from visualizer.core.formatting import duration_text, rate_text
from visualizer.core.training.trainer import BatchProgress
from visualizer.progress import ProgressBar


def test_duration_text_compact_and_spaced():
    cases = [(0, "0.0s", "0 s"), (42.04, "42.0s", "42 s"), (185, "3m05s", "3 min 05 s"),
             (3720, "1h02m", "1 h 02 min"), (3 * 86400 + 4 * 3600 + 59, "3d04h", "3 d 04 h"),
             (326587492.1, ">99d", "> 99 d")]
    for seconds, compact, spaced in cases:
        assert duration_text(seconds) == compact
        assert duration_text(seconds, spaced=True) == spaced
    for unknown in (float("nan"), float("inf"), -1):
        assert duration_text(unknown) == "?" and duration_text(unknown, spaced=True) == "?"


def test_progress_bar_prints_a_long_eta_in_days_not_seconds():
    stream = io.StringIO()
    bar = ProgressBar("attack", stream=stream, min_interval=0)
    time.sleep(0.05)
    bar.update(1, 10**11)
    eta = stream.getvalue().split("ETA")[1].split()[0]
    assert eta == ">99d", stream.getvalue()


def test_slow_training_shows_seconds_per_batch_not_zero():
    assert rate_text(0.02, "batch") == "50 s/batch"
    assert rate_text(41.23, "batch") == "41.2 batch/s"
    slow = BatchProgress(epoch=1, epochs=1, batch=2, batches=100, eps=0.0, loss_sum=torch.tensor(4.6),
                         correct=torch.tensor(30), seen=256, clean_correct=None, clean_seen=0, elapsed_s=100.0)
    line = describe_batch(slow)
    assert line.split()[:1] == ["50"] and "s/batch" in line and "0.0 batch/s" not in line
