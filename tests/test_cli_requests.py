"""The command line takes numbers the way papers write them, and refuses contradictory
requests before running, in one `error:` line with nothing written. Real bundled digits
models and the bundled scan of a 3 (which both models classify as 3)."""

import json

import pytest

from visualizer.cli import build_parser, main

from support import ROOT

DIGIT_3 = ROOT / "resources" / "samples" / "digit-3-test705.png"   # the example

ATTACK = ["attack", "--model", "digits-standard", "--image", "{digit}", "--steps", "1"]


def argv_for(args, out):
    return [a.replace("{digit}", str(DIGIT_3)) for a in args] + ["--out", str(out)]


@pytest.mark.parametrize("eps,value", [("0.5/255", 0.5 / 255), ("8 / 255", 8 / 255), (" 1e-3/2 ", 5e-4)])
def test_epsilons_as_papers_write_them(tmp_path, capsys, eps, value):
    out = tmp_path / "run"
    rc = main(argv_for([*ATTACK, "--eps", eps, "--step-size", "0.5 / 255"], out))
    assert rc == 0, capsys.readouterr().err
    params = json.loads((out / "result.json").read_text())["parameters"]
    assert params["eps"] == pytest.approx(value, rel=1e-12)
    assert params["step_size"] == pytest.approx(0.5 / 255, rel=1e-12)


def test_every_numeric_option_uses_the_same_grammar():
    args = build_parser().parse_args([
        "sweep", "--model", "m", "--image", "i", "--out", "o", "--max-rotation", "45 / 2", "--rotations", "1e1",
        "--max-translation", "1.5e0", "--translations", "6/2", "--k", "20", "--seed", "7", "--dpi", "3e2",
        "--mean", "124/255, 116/255, 104/255", "--std", "0.5", "--input-size", "64", "--num-classes", "10"])
    assert (args.max_rotation, args.rotations, args.max_translation, args.translations) == (22.5, 10, 1.5, 3)
    assert (args.dpi, args.input_size, args.num_classes, args.seed) == (300, 64, 10, 7)
    assert args.mean == (124 / 255, 116 / 255, 104 / 255) and args.std == (0.5,)


@pytest.mark.parametrize("args,needle", [
    # numbers outside the grammar: one line naming the option
    ([*ATTACK, "--eps", "8//255"], "argument --eps: must be a number such as"),
    ([*ATTACK, "--eps", "1/0"], "argument --eps: divides by zero"),
    ([*ATTACK, "--eps", "8/255", "--seed", "1.5"], "argument --seed: must be a whole number"),
    (["sweep", "--model", "digits-standard", "--image", "{digit}", "--max-rotation", "thirty"], "--max-rotation"),
    ([*ATTACK, "--eps", "8/255", "--mean", "0.5,,0.5"], "empty item"),
    # contradictory requests
    ([*ATTACK, "--eps", "8/255", "--target", "3"], "The target 3 is the model's clean prediction"),
    ([*ATTACK, "--eps", "8/255", "--label", "5", "--target", "5"], "reference class you chose"),
    ([*ATTACK, "--eps", "8/255", "--label", "5", "--target", "3"], "already classifies the clean image"),
    ([*ATTACK, "--eps", "8/255", "--target", "10"], "out of range"),
    ([*ATTACK, "--eps", "8/255", "--label", "ten"], "No class named 'ten'"),
    ([*ATTACK, "--eps", "8/255", "--restarts", "3"], "without a random start"),
    (["attack", "--model", "digits-standard", "--image", "{digit}", "--attack", "fgsm", "--eps", "8/255",
      "--random-start"], "a random start"),
    (["attack", "--model", "digits-standard", "--image", "{digit}", "--attack", "fgsm", "--eps", "8/255",
      "--steps", "5"], "--steps does not apply"),
    (["sweep", "--model", "digits-standard", "--image", "{digit}", "--max-rotation", "0"], "all 31 rotations"),
    (["sweep", "--model", "digits-standard", "--image", "{digit}", "--rotations", "1", "--translations", "1"],
     "only the unchanged image"),
    (["sweep", "--model", "digits-standard", "--image", "{digit}", "--mode", "random", "--max-rotation", "0",
      "--max-translation", "0"], "every one of the k draws"),
    (["attack", "--model", "digits-standard", "--image", "{digit}", "--attack", "fgsm", "--eps", "8/255",
      "--random-start"], "a random start does not apply to it"),
    (["attack", "--model", "digits-standard", "--image", "{digit}", "--attack", "fgsm", "--eps", "8/255",
      "--random-start", "--early-stop"], "a random start and early stopping do not apply to it"),
    ([*ATTACK, "--eps", "8/255", "--dpi", "0"], "between 72 and 1200"),
    ([*ATTACK, "--eps", "8/255", "--dpi", "1e5"], "between 72 and 1200"),
])
def test_refused_in_one_line_before_anything_runs(tmp_path, capsys, args, needle):
    out = tmp_path / "x"
    rc = main(argv_for(args, out))
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("error:") and needle in err, err
    assert not out.exists()


def test_several_models_are_all_checked_before_the_first_is_attacked(tmp_path, capsys):
    out = tmp_path / "x"
    rc = main(argv_for(["attack", "--model", "digits-standard", "--model", "digits-robust", "--image", "{digit}",
                        "--eps", "8/255", "--steps", "1", "--target", "3"], out))
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("error: digits-standard: The target 3")
    assert not any("pgd" in line for line in err)       # no progress bar: nothing was attacked
    assert not out.exists()


def test_an_already_misclassified_reference_is_a_warning(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(argv_for([*ATTACK, "--eps", "2/255", "--label", "5"], out))
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "warning: The model already misclassifies the clean image" in err
    assert any("already misclassifies" in w for w in json.loads((out / "result.json").read_text())["warnings"])
