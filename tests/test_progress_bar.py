"""The CLI's progress line: before the first unit of work is done there is no rate to
extrapolate, so the ETA is unknown ("?"), not "nans" (an evaluation's first batch of a slow
threat shows this for minutes)."""

import io

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
