"""The CLI's progress line: before the first unit of work is done there is no rate to
extrapolate, so the ETA is unknown ("?"), not "nans" (an evaluation's first batch of a slow
threat shows this for minutes)."""

import io
import time

from visualizer.progress import ProgressBar


def test_eta_before_any_progress_is_a_question_mark_not_nan():
    stream = io.StringIO()
    bar = ProgressBar("evaluate", stream=stream, min_interval=0)
    bar.update(0, 20, "pgd")
    bar._last = 0.0                                  # not a TTY: redraws are rate-limited
    bar.update(5, 20, "pgd")
    first, second = stream.getvalue().splitlines()
    assert "nan" not in first and "ETA     ?  pgd" in first
    assert "ETA" in second and "?" not in second.split("ETA")[1]


def test_a_resumed_run_has_the_eta_of_its_own_rate():
    # A resumed evaluation reports 1000 of 10000 at once; 100 more take this run 0.2 s or
    # more, so 8900 take about 18 s or more. Counting the earlier 1000 as this run's read
    # "ETA 1.6s".
    stream = io.StringIO()
    bar = ProgressBar("evaluate", stream=stream, min_interval=0)
    bar.resumed_from(1000)
    bar.update(1000, 10000)
    time.sleep(0.2)
    bar._last = 0.0
    bar.update(1100, 10000)
    first, second = stream.getvalue().splitlines()
    assert "ETA     ?" in first
    assert float(second.split("ETA")[1].split("s")[0]) >= 0.2 * 8900 / 100 * 0.95


def test_a_fresh_run_counts_from_its_start():
    stream = io.StringIO()
    bar = ProgressBar("train", stream=stream, min_interval=0)
    time.sleep(0.1)
    bar.update(1, 4)                 # the first count is this run's own: its rate is known at once
    assert "?" not in stream.getvalue().split("ETA")[1]
