"""The query attacks from the command line: `visualizer attack --attack square|nes|hopskipjump`
(the usual files plus the queries and loss against queries) and the `evaluate` threats with
per-example query counts, on the real bundled digits-standard model and real MNIST digits."""

import csv
import json

import jsonschema
import numpy as np

from blackbox_support import correct_digits  # noqa: F401 (shares the model cache)
from mnist_fixtures import single_thread  # noqa: F401 (fixture: one torch thread)
from mnist_support import MNIST_SPEC
from support import digit_sample
from visualizer.cli import main
from visualizer.core.schema import evaluation_schema, result_schema


def test_square_attack_through_a_top3_oracle_writes_the_usual_files_and_the_queries(tmp_path, capsys):
    out = tmp_path / "square"
    rc = main(["attack", "--model", "digits-standard", "--image", str(digit_sample()), "--attack", "square",
               "--oracle", "topk:3", "--queries", "300", "--eps", "0.3", "--out", str(out)])
    captured = capsys.readouterr()
    stdout = captured.out
    assert rc == 0
    assert "margin" in captured.err and "p(ref)" in captured.err      # scores: the margin and p(ref) shown
    rec = json.loads((out / "result.json").read_text())
    jsonschema.validate(rec, result_schema())
    q = rec["queries"]
    assert q["oracle"] == "topk:3" and q["method"] == "square" and q["per_image_budget"] == 300
    assert rec["success"] and q["at_success"] == q["spent"] == q["queries"] <= 300
    assert f"fooled after {q['at_success']} queries to oracle topk:3" in stdout
    curve = np.load(out / "loss_vs_queries.npy")
    assert curve.shape == (2, rec["iterates"]) and curve[0, -1] == q["spent"]
    assert curve[0].tolist() == rec["history"]["queries"] and np.allclose(curve[1], rec["history"]["loss"])
    assert curve[1, -1] > 0 > curve[1, 0]            # the margin crosses zero when the label flips
    assert rec["perturbation"]["linf_quantized"] <= 0.3 + 1e-9 and rec["quantization"]["rounding"] == "nearest"
    for name in ("figure.png", "adversarial.png", "clean.png", "perturbation.png"):
        assert (out / name).stat().st_size > 0


def test_hopskipjump_from_labels_alone(tmp_path, capsys):
    out = tmp_path / "hsj"
    rc = main(["attack", "--model", "digits-standard", "--image", str(digit_sample()), "--attack", "hopskipjump",
               "--oracle", "label", "--queries", "800", "--norm", "l2", "--eps", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    rec = json.loads((out / "result.json").read_text())
    assert rec["queries"]["oracle"] == "label" and rec["history"]["loss_name"] == "\u03b5 \u2212 distance"
    # The progress line names the loss as the record does; a label's one-hot p(ref) is not shown.
    assert "queries" in err and "\u03b5 \u2212 distance" in err and "margin" not in err and "p(ref)" not in err
    assert rec["success"] == (rec["queries"]["at_success"] is not None)
    # No probability was shown, so the history has none (and the figure no probability axis);
    # the saved 8-bit image keeps the float result's success (core/blackbox/grid_finish.py).
    jsonschema.validate(rec, result_schema())
    assert rec["history"]["reference_prob"] == [] and len(rec["history"]["loss"]) == rec["iterates"]
    assert rec["success_quantized"] or not rec["success"]


def test_impossible_query_requests_are_refused_in_one_line(tmp_path, capsys):
    _assert_refused(tmp_path, capsys, ((["--attack", "square", "--oracle", "label"], "hopskipjump"),
                                       (["--attack", "nes", "--steps", "5"], "--steps"),
                                       (["--attack", "square", "--oracle", "topk:0"], "K >= 1"),
                                       (["--attack", "square", "--defence", "sigmoid"], "reverse-sigmoid"),
                                       (["--attack", "square", "--oracle", "topk:11"], "only 10 classes")))


def test_an_option_the_chosen_attack_does_not_read_is_refused_not_ignored(tmp_path, capsys):
    """A query-attack setting given to a gradient attack (or to a query attack that does not
    read it) used to be dropped silently: the run went ahead with other settings than asked."""
    _assert_refused(tmp_path, capsys, ((["--queries", "50"], "--queries does not apply to the gradient attack"),
                                       (["--attack", "fgsm", "--oracle", "label", "--p-init", "0.3"],
                                        "--oracle and --p-init do"),
                                       (["--defence", "reverse-sigmoid"], "--defence"),
                                       (["--attack", "square", "--samples", "4"],
                                        "--samples does not apply to the query attack square"),
                                       (["--attack", "nes", "--p-init", "0.2"], "--p-init"),
                                       (["--attack", "hopskipjump", "--oracle", "label", "--sigma", "0.01"], "--sigma"),
                                       (["--attack", "square", "--step-size", "0.01"], "--step-size")))


def _assert_refused(tmp_path, capsys, cases):
    """Each (extra arguments, words) attack on digits-standard: one error line with the words,
    exit 2, no output folder."""
    base = ["attack", "--model", "digits-standard", "--image", str(digit_sample()), "--eps", "0.1"]
    for extra, words in cases:
        rc = main(base + extra + ["--out", str(tmp_path / "x")])
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("error: ") and words in err, (extra, err)
        assert not (tmp_path / "x").exists()


def test_evaluate_records_queries_at_success(tmp_path, capsys):
    out = tmp_path / "eval"
    rc = main(["evaluate", "--model", "digits-standard", "--data", MNIST_SPEC, "--limit", "8", "--batch-size", "8",
               "--threat", "square:linf:0.3:60", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    report = json.loads((out / "evaluation.json").read_text())
    jsonschema.validate(report, evaluation_schema())
    with open(out / "per_example.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_square = [int(r["queries_at_success"]) for r in rows if r["attack"] == "square"]
    assert by_square and all(2 <= q <= 60 for q in by_square)
    assert all(r["queries_at_success"] == "" for r in rows if r["attack"] != "square")
    result = report["results"][0]
    assert result["median_queries_at_success"] == float(np.median(by_square))
    assert abs(result["mean_queries_at_success"] - float(np.mean(by_square))) < 1e-9
    assert report["threats"][0]["attacks"][0]["parameters"]["oracle"] == "probs"
