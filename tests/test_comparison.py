"""The same attack on several models: `visualizer attack --model A --model B` writes each
run in its own folder, a comparison figure with one perturbation scale for all rows, and a
summary that agrees with the runs."""

import json

import numpy as np
import pytest
from matplotlib.image import AxesImage
from PIL import Image

from support import ROOT, digit_sample
from test_cli import validate
from visualizer.cli import main
from visualizer.core.artifacts import attack_artifacts
from visualizer.core.attacks import AttackParams, drive
from visualizer.core.figures import attack_comparison_figure
from visualizer.core.export import run_folder_name
from visualizer.core.images import load_image
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.runs import attack_run

PAIR = ("digits-standard", "digits-robust")
THREE = ROOT / "resources" / "samples" / "digit-3-test705.png"   # the README's example


@pytest.fixture(scope="module")
def pair():
    return [load_model(name, LoadOptions(device="cpu")) for name in PAIR]


def artifacts_for(models, params):
    image = load_image(digit_sample())
    return [attack_artifacts(drive(attack_run(m, image, params))) for m in models]


def perturbation_limits(fig):
    limits = []
    for ax in fig.get_axes():
        if ax.get_label().startswith("perturbation"):
            (im,) = [c for c in ax.get_children() if isinstance(c, AxesImage)]
            limits.append(im.get_clim())
    return limits


def test_cli_writes_each_run_the_figure_and_a_consistent_summary(tmp_path, capsys):
    out = tmp_path / "compare"
    rc = main(["attack", "--model", PAIR[0], "--model", PAIR[1], "--image", str(THREE), "--norm", "l2",
               "--eps", "2", "--steps", "40", "--out", str(out)])
    stdout = capsys.readouterr().out
    assert rc == 0
    summary = json.loads((out / "comparison.json").read_text())
    assert [r["folder"] for r in summary["runs"]] == ["01-digits-standard", "02-digits-robust"]
    for entry in summary["runs"]:
        record = validate(out / entry["folder"])        # each run is a complete, schema-valid run
        assert record["model"]["id"] == entry["model"]
        assert record["success_quantized"] == entry["success_quantized"]
        assert record["adversarial"]["top5_quantized"][0] == entry["adversarial_top1"]
        assert f"{entry['model']}: " in stdout
        # Each run's adversarial.png is inside the L2 budget of 2, read back from the files.
        clean = np.asarray(Image.open(out / entry["folder"] / "clean.png"), dtype=np.int64)
        moved = np.asarray(Image.open(out / entry["folder"] / "adversarial.png"), dtype=np.int64) - clean
        assert np.sqrt((moved ** 2).sum()) / 255 <= 2.0 and record["quantization"]["within_budget"]
    assert summary["parameters"]["eps"] == 2.0 and summary["parameters"]["norm"] == "l2"
    assert sorted(summary["files"]) == ["comparison.pdf", "comparison.png", "comparison.svg"]
    assert (out / "comparison.pdf").read_bytes().startswith(b"%PDF")
    # This budget fools the standard model with full confidence; the robust model's wrong
    # answer, if any, is far less sure.
    standard, robust = summary["runs"]
    assert standard["success_quantized"] and standard["adversarial_top1"]["prob"] > 0.9
    assert not robust["success_quantized"] or robust["adversarial_top1"]["prob"] < 0.6

    rc = main(["attack", "--model", PAIR[0], "--model", PAIR[1], "--image", str(digit_sample()),
               "--eps", "2/255", "--steps", "1", "--out", str(out)])
    assert rc != 0 and "overwrite" in capsys.readouterr().err
    assert json.loads((out / "comparison.json").read_text()) == summary     # the earlier run is intact


def test_linf_rows_share_the_epsilon_scale(pair):
    arts = artifacts_for(pair, AttackParams(method="pgd", norm="linf", eps=8 / 255, steps=3))
    fig = attack_comparison_figure([a.record for a in arts], [a.arrays["clean"] for a in arts],
                                   [a.arrays["adversarial"] for a in arts])
    assert perturbation_limits(fig) == [pytest.approx((-8 / 255, 8 / 255))] * 2
    labels = {ax.get_label() for ax in fig.get_axes()}
    assert {"clean0", "adversarial1", "top5_0", "top5_1"} <= labels


def test_l2_rows_share_the_largest_perturbation(pair):
    arts = artifacts_for(pair, AttackParams(method="pgd", norm="l2", eps=2.0, steps=5))
    deltas = [np.abs((a.arrays["adversarial"] - a.arrays["clean"]).mean(axis=0)).max() for a in arts]
    fig = attack_comparison_figure([a.record for a in arts], [a.arrays["clean"] for a in arts],
                                   [a.arrays["adversarial"] for a in arts])
    largest = max(deltas)
    assert perturbation_limits(fig) == [pytest.approx((-largest, largest), rel=1e-5)] * 2
    assert min(deltas) < largest      # the scale is shared, not each row's own


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="one record"):
        attack_comparison_figure([{}], [], [])


def test_folder_names_are_safe_and_ordered():
    assert run_folder_name(0, "digits-robust") == "01-digits-robust"
    assert run_folder_name(11, "ckpt:/data/models/robust.pt") == "12-ckpt--data-models-robust.pt"
    assert run_folder_name(2, "../..") == "03-model"
