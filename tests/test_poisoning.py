"""Backdoor poisoning (`visualizer poison`, core/poisoning): triggers, BadNets, clean-label,
the spectral-signature detector and the rate sweep, on real MNIST at tiny sizes."""

from __future__ import annotations

import json

import jsonschema
import pytest
import torch

from mnist_support import MNIST_SPEC, one_thread, train_tiny_mnist
from visualizer.cli import main
from visualizer.core.data import load_dataset
from visualizer.core.errors import ParameterError
from visualizer.core.poisoning import detector, parse_trigger, stamp_images
from visualizer.core.poisoning.badnets import badnets
from visualizer.core.poisoning.clean_label import clean_label
from visualizer.core.poisoning.poisoned_set import triggered_test_set
from visualizer.core.schema import poison_schema

CHECKER = "patch:checker:4:br"


@pytest.fixture(scope="module")
def mnist_train():
    return load_dataset(MNIST_SPEC, "train", limit=1000)


@pytest.fixture(scope="module")
def mnist_test():
    return load_dataset(MNIST_SPEC, "test", limit=300)


def test_trigger_spec_places_the_pattern_where_it_says():
    pattern, mask = parse_trigger("patch:checker:4:br").pattern_and_mask((1, 28, 28))
    assert mask.sum() == 16 and mask[0, 23:27, 23:27].eq(1).all()         # one pixel from the corner
    assert pattern[0, 23, 23] == 1 and pattern[0, 23, 24] == 0 and pattern[0, 24, 24] == 1
    _, mask_tl = parse_trigger("patch:square:3:tl").pattern_and_mask((1, 28, 28))
    assert mask_tl[0, 1:4, 1:4].eq(1).all() and mask_tl.sum() == 9
    _, mask_xy = parse_trigger("patch:square:2:5,7").pattern_and_mask((3, 28, 28))
    assert mask_xy[0, 7:9, 5:7].eq(1).all() and mask_xy.sum() == 4


def test_trigger_applied_identically_to_training_poisons_and_test_images(mnist_train, mnist_test):
    trigger = parse_trigger(CHECKER)
    poisoned = badnets(mnist_train, trigger, target=0, rate=0.05, seed=1)
    triggered = triggered_test_set(mnist_test, trigger, target=0)
    pattern, mask = trigger.pattern_and_mask((1, 28, 28))
    inside = mask.bool().expand(1, 28, 28)
    expected = (pattern * 255).round().to(torch.uint8)
    train_rows = poisoned.data.images[poisoned.poison_index]
    for rows, originals in ((train_rows, mnist_train.images[poisoned.poison_index]),
                            (triggered.images, mnist_test.images[mnist_test.labels != 0])):
        assert torch.equal(rows[:, inside], expected[inside].expand(len(rows), -1))   # the same bytes under the mask
        assert torch.equal(rows[:, ~inside], originals[:, ~inside])                   # nothing else touched
    # one image through the training path and the test path: identical bytes
    image = mnist_test.images[:1]
    assert torch.equal(stamp_images(image, trigger), stamp_images(image.clone(), trigger))


def test_blend_trigger_is_the_alpha_mix_rounded_to_bytes(mnist_test):
    trigger = parse_trigger("blend:noise:0.2")
    noise, _ = trigger.pattern_and_mask((1, 28, 28))
    x = mnist_test.images[:4]
    want = torch.round(((1 - 0.2) * x.float() / 255 + 0.2 * noise) * 255).to(torch.uint8)
    assert torch.equal(stamp_images(x, trigger), want)


def test_badnets_relabels_exactly_rate_times_n_images_of_other_classes(mnist_train):
    poisoned = badnets(mnist_train, parse_trigger(CHECKER), target=3, rate=0.02, seed=0)
    assert len(poisoned.poison_index) == 20
    assert (mnist_train.labels[poisoned.poison_index] != 3).all()
    assert (poisoned.data.labels[poisoned.poison_index] == 3).all()
    untouched = torch.ones(len(mnist_train), dtype=torch.bool)
    untouched[poisoned.poison_index] = False
    assert torch.equal(poisoned.data.labels[untouched], mnist_train.labels[untouched])
    assert torch.equal(poisoned.data.images[untouched], mnist_train.images[untouched])


def test_clean_label_poisons_keep_their_true_labels_and_carry_the_trigger(mnist_train):
    with one_thread():
        robust = train_tiny_mnist(examples=2000, epochs=1, robust_eps=0.2)
        trigger = parse_trigger(CHECKER)
        poisoned = clean_label(mnist_train, trigger, target=3, rate=0.03, seed=0, robust_model=robust, eps=0.2,
                               steps=5)
    index = poisoned.poison_index
    assert len(index) == 30
    assert (mnist_train.labels[index] == 3).all() and (poisoned.data.labels[index] == 3).all()
    assert torch.equal(poisoned.data.labels, mnist_train.labels)        # no label changed anywhere
    pattern, mask = trigger.pattern_and_mask((1, 28, 28))
    inside = mask.bool()
    rows = poisoned.data.images[index]
    assert torch.equal(rows[:, inside], (pattern * 255).round().to(torch.uint8)[inside].expand(len(rows), -1))
    change = (rows.float() - mnist_train.images[index].float())[:, ~inside].abs()
    assert change.max() <= 0.2 * 255 + 0.5            # within the PGD budget, outside the trigger
    assert change.mean() > 5                           # and really perturbed (grey levels)
    with pytest.raises(ParameterError, match="target class only"):
        clean_label(mnist_train, trigger, 3, 0.5, 0, robust)


def test_spectral_signatures_find_planted_outliers_and_precision_recall_are_counted_right():
    g = torch.Generator().manual_seed(0)
    clean0 = torch.randn(200, 20, generator=g)
    planted = torch.randn(20, 20, generator=g) + 6 * torch.nn.functional.normalize(torch.ones(20), dim=0)
    clean1 = torch.randn(400, 20, generator=g)
    acts = torch.cat([clean0, planted, clean1])
    labels = torch.cat([torch.zeros(220, dtype=torch.long), torch.ones(400, dtype=torch.long)])
    poisons = torch.arange(200, 220)
    flagged = detector.flag_per_class(acts, labels, eps=0.1)
    # 1.5 * 0.1 * n_c per class: 33 of class 0, 60 of class 1
    assert len(flagged) == 33 + 60
    found = detector.precision_recall(flagged, poisons)
    assert found["true_positives"] == 20 and found["recall"] == 1.0
    assert found["precision"] == pytest.approx(20 / 93)
    assert detector.precision_recall(torch.tensor([1, 2, 3, 205]), poisons) == {
        "flagged": 4, "poisons": 20, "true_positives": 1, "precision": 0.25, "recall": 0.05}
    assert detector.precision_recall(torch.zeros(0, dtype=torch.long), poisons)["precision"] is None
    assert detector.largest_class_fraction(labels, poisons) == pytest.approx(20 / 220)


def test_penultimate_activations_are_the_last_linear_layers_input(mnist_test):
    from visualizer.core.models.arch import resolve_arch
    from visualizer.core.training.network import build_network

    model = build_network(resolve_arch("mnist-cnn"), 10, seed=0)
    acts = detector.penultimate_activations(model, mnist_test.first(12))
    x, _ = mnist_test.first(12).batch(slice(0, 12))
    with torch.no_grad():
        hidden = model.net.classifier[:-1](model.net.features(x))
    assert acts.shape == (12, 128) and torch.allclose(acts, hidden, atol=1e-5)


def test_sweep_asr_rises_with_rate_and_writes_a_valid_record_and_loadable_models(tmp_path, capsys):
    out = tmp_path / "poison"
    with one_thread():
        code = main(["poison", "--data", MNIST_SPEC, "--target", "0", "--rates", "0,0.05", "--limit", "1500",
                     "--eval-limit", "400", "--batch-size", "32", "--lr", "3e-3", "--threads", "1",
                     "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    record = json.loads((out / "poison.json").read_text())
    jsonschema.validate(record, poison_schema())
    clean, poisoned = record["rates"]
    assert (clean["poisons"], poisoned["poisons"]) == (0, 75)
    assert poisoned["attack_success_rate"] > clean["attack_success_rate"] + 0.5
    assert poisoned["attack_success_rate"] > 0.8 and poisoned["clean_accuracy"] > 0.75
    # A real backdoor: without the trigger, the other classes are rarely called the target.
    assert poisoned["clean_target_rate"] < 0.2 and "broken model" not in capsys.readouterr().out
    for name in ("curves", "examples"):
        assert all((out / f"{name}.{ext}").stat().st_size > 1000 for ext in ("png", "pdf", "svg"))
    card = json.loads((out / "rate-0.05" / "model.json").read_text())
    assert card["poisoning"]["poisons"] == 75 and card["description"].startswith("BACKDOORED")
    # The written model is the measured one: loaded as a user would, it reproduces the examples' predictions.
    from visualizer.core.models.options import LoadOptions
    from visualizer.core.models.registry import load_model

    model = load_model(f"ckpt:{out / 'rate-0.05' / 'model.safetensors'}", LoadOptions(arch="mnist-cnn"))
    test = load_dataset(MNIST_SPEC, "test", limit=400)
    triggered = triggered_test_set(test, parse_trigger(CHECKER), 0)
    with torch.no_grad():
        preds = model(triggered.batch(slice(0, len(triggered)))[0]).argmax(1)
    assert float((preds == 0).float().mean()) == pytest.approx(poisoned["attack_success_rate"])


def test_a_collapsed_model_is_not_reported_as_a_backdoor_without_a_warning(tmp_path, capsys):
    # 1000 images at 10% poison: the model calls nearly everything 0 (clean accuracy 8%), so
    # its "ASR 100%" says nothing about a backdoor; it was printed as if it did.
    out = tmp_path / "collapsed"
    with one_thread():
        code = main(["poison", "--data", MNIST_SPEC, "--target", "0", "--rates", "0.1", "--limit", "1000",
                     "--eval-limit", "300", "--batch-size", "32", "--lr", "3e-3", "--threads", "1", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    [entry] = json.loads((out / "poison.json").read_text())["rates"]
    assert entry["clean_target_rate"] > 0.5 and entry["attack_success_rate"] > 0.9
    assert f"warning: the model calls {entry['clean_target_rate']:.0%} of clean images" in printed


@pytest.mark.parametrize("spec, words", [
    ("patch:checker", "patch:PATTERN:SIZE"),
    ("patch:checker:0:br", "whole number"),
    ("patch:checker:4:middle", "position"),
    ("patch:nosuchfile.png:4", "neither checker"),
    ("blend:noise:1.5", "blend weight"),
    ("stripes", "Unknown trigger"),
])
def test_bad_trigger_specs_give_one_clear_message(spec, words):
    with pytest.raises(ParameterError, match=words):
        parse_trigger(spec)


def test_a_patch_that_does_not_fit_is_refused():
    with pytest.raises(ParameterError, match="does not fit"):
        parse_trigger("patch:square:30").pattern_and_mask((1, 28, 28))


@pytest.mark.parametrize("extra, words", [
    (["--trigger", "stripes"], "Unknown trigger"),
    (["--rates", "0,2"], "fractions of the training set"),
    (["--rates", ""], "such as 0,0.01,0.05"),           # a rate list's example, not a normalisation mean's
    (["--attack", "clean-label", "--robust-model", "ckpt:nowhere/model.safetensors", "--robust-arch", "mnist-cnn"],
     "does not exist"),
    (["--target", "eleven"], "--target"),
])
def test_cli_bad_input_is_one_error_line(tmp_path, capsys, extra, words):
    args = ["poison", "--data", MNIST_SPEC, "--target", "0", "--limit", "50", "--out", str(tmp_path / "o"), *extra]
    if "--target" in extra:
        args = args[:3] + args[5:]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0]


def test_clean_label_cli_perturbs_with_a_robust_model_trained_by_visualizer_train(tmp_path, capsys):
    robust, out = tmp_path / "robust", tmp_path / "cl"
    with one_thread():
        assert main(["train", "--data", MNIST_SPEC, "--arch", "mnist-cnn", "--adversarial", "fgsm-rs:linf:0.2",
                     "--limit", "300", "--batch-size", "32", "--eval-limit", "50", "--eval-attack", "none",
                     "--threads", "1", "--out", str(robust)]) == 0
        assert main(["poison", "--data", MNIST_SPEC, "--attack", "clean-label", "--target", "3", "--rates", "0.02",
                     "--robust-model", f"ckpt:{robust / 'model.safetensors'}", "--robust-arch", "mnist-cnn",
                     "--perturb-steps", "3", "--limit", "600", "--eval-limit", "100", "--batch-size", "32",
                     "--threads", "1", "--out", str(out)]) == 0, capsys.readouterr().err
    record = json.loads((out / "poison.json").read_text())
    jsonschema.validate(record, poison_schema())
    assert record["attack"] == "clean-label" and record["rates"][0]["poisons"] == 12
    assert record["clean_label"] == {"robust_model": f"ckpt:{robust / 'model.safetensors'}", "norm": "linf",
                                     "eps": 0.3, "steps": 3}


def test_clean_label_refuses_a_robust_model_of_another_input_size(tmp_path, capsys):
    # the bundled digits-robust model reads 32x32 images, MNIST is 28x28
    code = main(["poison", "--data", MNIST_SPEC, "--attack", "clean-label", "--target", "3", "--rates", "0.01",
                 "--robust-model", "digits-robust", "--limit", "100", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--robust-model does not take 28x28" in err[0]


def test_the_trainer_trains_on_the_in_memory_data_it_is_given(tmp_path, mnist_train, mnist_test):
    from visualizer.core.attacks import drive
    from visualizer.core.training import TrainConfig, train_steps
    from visualizer.core.training.data import TrainingData

    given = mnist_train.first(64)
    given.labels = torch.full_like(given.labels, 7)     # a set no file holds: every image labelled 7
    config = TrainConfig(data=MNIST_SPEC, arch="mnist-cnn", out=str(tmp_path / "run"), batch_size=32, lr=0.05,
                         epochs=2, eval_attack="none")
    with one_thread():
        result = drive(train_steps(config, device="cpu", data=TrainingData(given, mnist_test, "given")), None)
    assert result.card["data"]["train"]["size"] == 64                 # not the 60,000 of config.data
    # trained on the given labels: it learned "always 7"
    assert result.card["metrics"]["clean_accuracy"] == pytest.approx(float((mnist_test.labels == 7).float().mean()))


def test_spectral_scores_over_k_directions_sum_the_squared_projections():
    acts = torch.randn(50, 6, generator=torch.Generator().manual_seed(1))
    centred = acts.double() - acts.double().mean(0)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    assert torch.allclose(detector.spectral_scores(acts), (centred @ vh[0]) ** 2)
    assert torch.allclose(detector.spectral_scores(acts, 3), sum((centred @ vh[k]) ** 2 for k in range(3)))
    # all directions: the squared distance from the class mean
    assert torch.allclose(detector.spectral_scores(acts, 6), (centred ** 2).sum(1))


def test_most_suspect_ranks_flagged_examples_by_their_score_over_their_class_mean():
    g = torch.Generator().manual_seed(3)
    clean0 = torch.randn(200, 20, generator=g)
    planted = torch.randn(10, 20, generator=g) + 8 * torch.nn.functional.normalize(torch.ones(20), dim=0)
    clean1 = 5 * torch.randn(300, 20, generator=g)            # another class on a larger scale
    acts = torch.cat([clean0, planted, clean1])
    labels = torch.cat([torch.zeros(210, dtype=torch.long), torch.ones(300, dtype=torch.long)])
    flagged = detector.flag_per_class(acts, labels, eps=0.05, directions=2)
    index, relative = detector.most_suspect(acts, labels, flagged, directions=2, count=8)
    assert set(index.tolist()) <= set(flagged.tolist()) and len(index) == 8
    assert (relative[:-1] >= relative[1:]).all()                          # most suspect first
    assert set(index[:5].tolist()) <= set(range(200, 210))              # the planted ones lead, despite class 1's scale
    members = torch.nonzero(labels == 0).flatten()
    scores = detector.spectral_scores(acts[members], 2)
    first = int(index[0])
    assert float(relative[0]) == pytest.approx(float(scores[first] / scores.mean()))
    assert len(detector.most_suspect(acts, labels, torch.zeros(0, dtype=torch.long))[0]) == 0


def test_clean_label_without_a_robust_model_uses_the_bundled_linf_one(tmp_path, capsys):
    """MNIST has a bundled L-inf robust model (mnist-robust): clean-label needs no
    --robust-model there, and the record names the model that perturbed the poisons."""
    code = main(["poison", "--data", MNIST_SPEC, "--attack", "clean-label", "--target", "3", "--rates", "0.02",
                 "--limit", "100", "--eval-limit", "50", "--threads", "1", "--device", "cpu",
                 "--out", str(tmp_path / "cl")])
    assert code == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "cl" / "poison.json").read_text())
    assert record["clean_label"]["robust_model"] == "mnist-robust"


def test_clean_label_on_data_without_a_bundled_robust_model_asks_for_one(tmp_path, capsys):
    """An image folder has no bundled robust model: one message saying how to get one."""
    from PIL import Image

    for label in ("0", "1"):
        (tmp_path / "data" / label).mkdir(parents=True)
        for k in range(3):
            Image.new("L", (28, 28), 40 * k + 100 * int(label)).save(tmp_path / "data" / label / f"{k}.png")
    code = main(["poison", "--data", f"folder:{tmp_path / 'data'}", "--attack", "clean-label", "--target", "1",
                 "--rates", "0.2", "--out", str(tmp_path / "cl")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "needs --robust-model" in err
    assert not (tmp_path / "cl").exists()
