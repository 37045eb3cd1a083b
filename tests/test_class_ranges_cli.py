"""Every class index and top-k option of the command line refuses a value the model or the
data cannot have in one error line, before any work: before the output folder is made,
before a model is trained or attacked. Real bundled MNIST models, real MNIST idx files, a
real image folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from mnist_support import MNIST_SPEC
from PIL import Image

from visualizer.cli import main
from visualizer.core.data import data_class_names, load_dataset

ROOT = Path(__file__).resolve().parents[1]
DIGIT = ROOT / "resources" / "samples" / "mnist" / "7_idx0.png"
FASHION_SPEC = MNIST_SPEC.replace("mnist:", "fashion-mnist:").replace("/mnist", "/fashion-mnist")


def one_error_line(capsys, words: str) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], captured.err
    return err[0]


def three_class_folder(root: Path) -> Path:
    """An ImageFolder tree of three classes (cat, dog, fox), two 8 x 8 images each."""
    for name in ("cat", "dog", "fox"):
        (root / name).mkdir(parents=True)
        for i in range(2):
            Image.new("L", (8, 8), 40 * i).save(root / name / f"{i}.png")
    return root


@pytest.mark.parametrize("target, words", [
    ("12", "--target: Class index 12 is out of range: the data has 10 classes (0-9)."),
    ("10", "the data has 10 classes (0-9)"),
    ("-1", "Class index -1 is out of range"),
    ("cat", "--target: No class named 'cat' in the data's 10 classes."),
])
def test_poison_target_outside_the_data_is_refused_before_the_folder_is_made(tmp_path, capsys, target, words):
    out = tmp_path / "o"
    assert main(["poison", "--data", MNIST_SPEC, "--target", target, "--rates", "0,0.05", "--limit", "200",
                 "--out", str(out)]) == 2
    one_error_line(capsys, words)
    assert not out.exists()


def test_poison_target_is_checked_against_a_folders_own_classes(tmp_path, capsys):
    data = three_class_folder(tmp_path / "data")
    out = tmp_path / "o"
    assert main(["poison", "--data", f"folder:{data}", "--target", "3", "--out", str(out)]) == 2
    one_error_line(capsys, "the data has 3 classes (0-2)")
    assert main(["poison", "--data", f"folder:{data}", "--target", "wolf", "--out", str(out)]) == 2
    one_error_line(capsys, "No class named 'wolf' in the data's 3 classes")
    assert not out.exists()


def test_data_class_names_are_the_names_a_full_read_gives(tmp_path):
    data = three_class_folder(tmp_path / "data")
    csv = tmp_path / "rows.csv"
    csv.write_text("path,label\n" + "".join(f"data/{c}/0.png,{c}\n" for c in ("fox", "cat")))
    for spec in (MNIST_SPEC, FASHION_SPEC, f"folder:{data}", f"csv:{csv}"):
        assert data_class_names(spec) == load_dataset(spec, "train", limit=2).class_names, spec
    assert data_class_names(f"csv:{csv}") == ["cat", "fox"]


def test_steal_topk_above_the_victims_classes_is_refused_before_any_query(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["steal", "--victim", "mnist-standard", "--oracle", "topk:11", "--queries", "100", "--query-data",
                 "noise", "--arch", "mnist-cnn", "--test-data", MNIST_SPEC, "--test-limit", "20",
                 "--out", str(out)]) == 2
    line = one_error_line(capsys, "Oracle topk:11: mnist-standard has only 10 classes")
    assert "white-box" not in line and not out.exists()      # no PGD ran first, no folder was made


def test_evaluate_apgd_t_targets_above_the_models_classes_are_refused(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["evaluate", "--model", "mnist-standard", "--data", MNIST_SPEC, "--limit", "8",
                 "--threat", "clean", "--threat", "apgd-t:linf:0.3:5:10", "--out", str(out)]) == 2
    one_error_line(capsys, "apgd-t:linf:0.3:5:10: 10 target classes, but mnist-standard has 10 classes: at most 9")
    assert not out.exists()


@pytest.mark.parametrize("command, extra, words", [
    ("attack", ["--target", "12", "--eps", "0.1"], "Class index 12 is out of range: this model has 10 classes"),
    ("attack", ["--label", "10", "--eps", "0.1"], "Class index 10 is out of range: this model has 10 classes"),
    ("attack", ["--attack", "square", "--oracle", "topk:11", "--eps", "0.1"], "only 10 classes"),
    ("saliency", ["--label", "12"], "Class index 12 is out of range: this model has 10 classes"),
])
def test_attack_and_saliency_classes_outside_the_model_are_refused(tmp_path, capsys, command, extra, words):
    out = tmp_path / "o"
    assert main([command, "--model", "mnist-standard", "--image", str(DIGIT), *extra, "--out", str(out)]) == 2
    one_error_line(capsys, words)
    assert not out.exists()
