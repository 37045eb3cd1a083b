"""Throughput as the evaluate summary, progress bar and Evaluate tab print it: a slow threat
(AutoAttack on a robust model, 0.04 images/s) reads as seconds per image, not '0.0 img/s'."""

from visualizer.cli.evaluate import summary
from visualizer.core.formatting import rate_text


def test_a_slow_rate_is_given_in_seconds_per_image():
    assert rate_text(12.34) == "12.3 img/s" and rate_text(0.1) == "0.1 img/s"
    assert rate_text(0.04) == "25 s/img" and rate_text(1 / 130) == "130 s/img"
    assert rate_text(0) == "n/a"


def test_the_evaluate_summary_prints_it():
    cell = {"model": "m", "threat": "autoattack:l2:2", "accuracy": 0.5, "ci95": [0.3, 0.7], "images_per_s": 0.04}
    text = summary({"results": [cell], "models": [{"id": "m"}], "data": {"kind": "mnist", "split": "test"},
                    "examples": {"done": 20}})
    assert "25 s/img" in text and "0.0 img/s" not in text
