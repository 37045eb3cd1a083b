"""How `visualizer steal` trains its copies (``--shifts``, ``--adversarial``, ``--copy``): the
shifted images are the answered ones moved by at most 2 px, each copy's recipe reaches the
project's trainer (its model card says so), and steal.json records every copy's recipe. Real
MNIST, the bundled victim, tiny sizes."""

import json

import jsonschema
import pytest
import torch

from mnist_fixtures import single_thread  # noqa: F401 (fixture)
from mnist_support import MNIST_DIR, MNIST_SPEC
from visualizer.cli import main
from visualizer.core.data import load_dataset
from visualizer.core.errors import ParameterError
from visualizer.core.schema import steal_schema
from visualizer.core.stealing.copies import CopyRecipe, copy_recipes
from visualizer.core.stealing.substitute import shifted_copies, thief_seed

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs MNIST in ../shared/data")


def _translated(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` (C x S x S) moved dy px down and dx px right, zero fill."""
    out = torch.zeros_like(image)
    s = image.shape[-1]
    out[:, max(dy, 0):s + min(dy, 0), max(dx, 0):s + min(dx, 0)] = \
        image[:, max(-dy, 0):s + min(-dy, 0), max(-dx, 0):s + min(-dx, 0)]
    return out


def test_shifted_copies_are_the_images_moved_by_at_most_two_pixels():
    images, _ = load_dataset(MNIST_SPEC, "train", limit=12).batch(torch.arange(12))
    out = shifted_copies(images, 2, seed=3)
    assert out.shape == (36, 1, 28, 28) and torch.equal(out[:12], images)
    offsets = []
    for k, moved in enumerate(out[12:]):
        original = images[k % 12]
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if torch.equal(moved, _translated(original, dy, dx))]
        assert found, f"shifted image {k} is no translation of its original"
        offsets.append(found[0])
        assert moved.sum().item() == pytest.approx(original.sum().item())   # MNIST digits sit 4 px from the edge
    assert len(set(offsets)) > 3                                            # random offsets, not one
    assert torch.equal(out, shifted_copies(images, 2, seed=3)) and not torch.equal(out, shifted_copies(images, 2, 4))


def test_copy_recipes_fill_unnamed_fields_from_the_command_and_refuse_bad_ones():
    recipes = copy_recipes(1, ("epochs=16", "shifts=3, epochs=4", "adversarial=pgd:l2:1:2"), epochs=10, seed=5)
    assert recipes == [CopyRecipe(16, 5), CopyRecipe(4, 6, 3), CopyRecipe(10, 7, 0, "pgd:l2:1.0:2")]
    assert copy_recipes(2, (), 8, 0, shifts=1, adversarial="fgsm-rs:linf:0.05") == [
        CopyRecipe(8, 0, 1, "fgsm-rs:linf:0.05"), CopyRecipe(8, 1, 1, "fgsm-rs:linf:0.05")]
    for texts, count, words in ((("epochs=0",), 1, "at least 1"), (("colour=1",), 1, "not a field"),
                                (("shifts=x",), 1, "whole number"), (("adversarial=pgd:l3:1",), 1, "norm"),
                                (("shifts=21",), 1, "0 to 20"), (("epochs=2", "epochs=3"), 3, "disagrees"),
                                (("pseudo=100",), 1, "first copy")):
        with pytest.raises(ParameterError, match=words):
            copy_recipes(count, texts, 4, 0)


def test_a_copy_may_name_its_own_architecture_and_an_unknown_one_is_refused():
    recipes = copy_recipes(1, ("epochs=2", "arch= MNIST-CNN-Wide ,epochs=3"), 4, 0, arch="mnist-cnn")
    assert recipes == [CopyRecipe(2, 0, arch="mnist-cnn"), CopyRecipe(3, 1, arch="mnist-cnn-wide")]
    assert recipes[1].describe().startswith("mnist-cnn-wide, 3 epochs")
    assert copy_recipes(1, ("epochs=2",), 4, 0) == [CopyRecipe(2, 0)]          # no --arch given: left to the caller
    for texts, arch in ((("arch=mnist-cnn-huge",), "mnist-cnn"), (("arch=",), "mnist-cnn"), (("epochs=2",), "lenet")):
        with pytest.raises(ParameterError) as caught:
            copy_recipes(1, texts, 4, 0, arch=arch)
        assert len(str(caught.value).splitlines()) == 1
        assert "Unknown architecture" in str(caught.value) or "not a field" in str(caught.value)


def test_pseudo_labelling_needs_a_data_set_to_draw_from():
    from visualizer.core.stealing import StealConfig

    with pytest.raises(ParameterError, match="pseudo"):
        StealConfig("v", "label", (10,), "noise", "mnist-cnn", MNIST_SPEC, "o", copy_specs=("epochs=1", "pseudo=5"))


def test_teacher_answers_take_the_oracle_answers_form():
    from visualizer.core.models.registry import LoadOptions, load_model
    from visualizer.core.stealing.run import _teacher_answers

    model = load_model("mnist-standard", LoadOptions(device="cpu"))
    x, _ = load_dataset(MNIST_SPEC, "train", preprocessing=model.info.preprocessing, limit=30).batch(torch.arange(30))
    with torch.no_grad():
        logits = model(x)
    labels = _teacher_answers(model, x, torch.zeros(3, dtype=torch.long))
    assert labels.dtype == torch.long and torch.equal(labels, logits.argmax(1))
    probs = _teacher_answers(model, x, torch.zeros(3, 10))
    assert probs.shape == (30, 10) and torch.allclose(probs, logits.softmax(1))


def test_cli_trains_each_copy_its_own_way_and_records_the_recipes(tmp_path, capsys):
    out = tmp_path / "steal"
    argv = ["steal", "--victim", "mnist-standard", "--oracle", "label", "--queries", "40",
            "--query-data", MNIST_SPEC, "--arch", "mnist-cnn", "--test-data", MNIST_SPEC, "--test-limit", "40",
            "--attack-limit", "10", "--attack-steps", "2", "--epochs", "1", "--batch-size", "20", "--threads", "1",
            "--copy", "shifts=2", "--copy", "adversarial=pgd:l2:0.5:1,seed=7,arch=mnist-cnn-wide", "--copy", "pseudo=30",
            "--out", str(out), "--dpi", "72"]
    assert main(argv) == 0
    assert "transfer PGD crafted on the mean logits of 3 copies" in capsys.readouterr().out
    record = json.loads((out / "steal.json").read_text())
    jsonschema.validate(record, steal_schema())
    method = record["transfer_method"]
    assert method["recipes"] == [
        {"epochs": 1, "seed": 0, "shifts": 2, "adversarial": "none", "pseudo": 0, "arch": "mnist-cnn"},
        {"epochs": 1, "seed": 7, "shifts": 0, "adversarial": "pgd:l2:0.5:1", "pseudo": 0, "arch": "mnist-cnn-wide"},
        {"epochs": 1, "seed": 2, "shifts": 0, "adversarial": "none", "pseudo": 30, "arch": "mnist-cnn"}]
    assert "mnist-cnn-wide, 1 epochs, seed 7" in method["crafted_on"]
    assert record["settings"]["copy_specs"] == ["shifts=2", "adversarial=pgd:l2:0.5:1,seed=7,arch=mnist-cnn-wide",
                                                "pseudo=30"]
    [point] = record["runs"][0]["points"]
    assert point["copies"] == ["defence-none/substitute-40", "defence-none/substitute-40-copy2",
                               "defence-none/substitute-40-copy3"]
    assert record["runs"][0]["oracle_queries"] == 40                  # every copy from the same answers
    shifted, robust, pseudo = (json.loads((out / folder / "model.json").read_text()) for folder in point["copies"])
    assert pseudo["data"]["train"]["size"] == 70                        # 40 answered + 30 labelled by the copies
    assert shifted["data"]["train"]["size"] == 120 and shifted["recipe"]["adversarial"] == "none"
    assert robust["data"]["train"]["size"] == 40 and robust["seed"] == thief_seed(7)   # the trainer's
    assert robust["recipe"]["adversarial"] == "pgd:l2:0.5:1"
    assert robust["recipe"]["attack_during_training"]["norm"] == "l2"
    assert robust["architecture"] == "mnist-cnn-wide" and shifted["architecture"] == pseudo["architecture"] == "mnist-cnn"
    # The wide copy is a wide network (64 first-layer filters) and loads back with its own name.
    from visualizer.core.models.registry import LoadOptions, load_model

    wide = load_model(f"ckpt:{out / point['copies'][1] / 'model.safetensors'}", LoadOptions(arch="mnist-cnn-wide"))
    first = next(m for m in wide.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.out_channels == 64


def test_two_copies_trained_the_same_way_are_refused_naming_both():
    """Same recipe, same answers: one network twice (it was trained twice and averaged with itself)."""
    for texts, pair in ((("seed=3", "epochs=10,seed=3"), "--copy 'epochs=10,seed=3' (copy 2) trains the same copy "
                                                          "as --copy 'seed=3' (copy 1)"),
                        (("seed=1", ""), "--copy '' (copy 2) trains the same copy as --copy 'seed=1' (copy 1)"),
                        (("epochs=2", "shifts=1", "seed=0,epochs=2"), "(copy 3) trains the same copy as --copy "
                                                                       "'epochs=2' (copy 1): 2 epochs, seed 0")):
        with pytest.raises(ParameterError) as caught:
            copy_recipes(1, texts, 10, 0)
        assert pair in str(caught.value), str(caught.value)
    # the same recipe with pseudo labels is not the same copy: more copies label its images
    assert len(copy_recipes(1, ("epochs=2", "seed=5", "seed=9,pseudo=50", "seed=9,pseudo=50"), 4, 0)) == 4
    assert len(copy_recipes(1, ("seed=3", "seed=3,shifts=1", "seed=3,arch=mnist-cnn-wide"), 4, 0)) == 3


def test_cli_refuses_a_bad_copy_recipe_before_loading(tmp_path, capsys):
    argv = ["steal", "--victim", "mnist-standard", "--queries", "10", "--query-data", "noise", "--arch", "mnist-cnn",
            "--test-data", MNIST_SPEC, "--out", str(tmp_path / "o")]
    for recipe, words in (("shifts=3,speed=2", "speed"), ("epochs=2,arch=mnist-resnet", "Unknown architecture"),
                          ("seed=0,epochs=1", "trains the same copy as --copy 'epochs=1'")):
        assert main(argv + ["--copy", "epochs=1", "--copy", recipe]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "o").exists()


def test_cli_refuses_a_copy_architecture_without_the_victims_input(tmp_path, capsys):
    argv = ["steal", "--victim", "mnist-standard", "--queries", "10", "--query-data", "noise", "--arch", "mnist-cnn",
            "--test-data", MNIST_SPEC, "--test-limit", "10", "--out", str(tmp_path / "o"),
            "--copy", "epochs=1", "--copy", "arch=preact-resnet18"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "--copy arch=preact-resnet18 takes 3 x 32 x 32 inputs, the victim 1 x 28 x 28" in err
    assert not list((tmp_path / "o").glob("**/model.safetensors"))          # refused before any training
