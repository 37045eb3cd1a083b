"""Requests whose answer is settled before a pixel changes are refused before running (or
warned about where the run still measures something): the core rules, and a real run on
the bundled digits model, whose clean prediction for the bundled scan of a 3 is 3."""

import pytest

from visualizer.core.attacks import AttackParams
from visualizer.core.attacks.class_checks import check_attack_classes
from visualizer.core.attacks.spatial import SpatialParams
from visualizer.core.errors import ParameterError
from visualizer.core.images import load_image
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.runs import attack_run, check_attack_request

from support import ROOT

DIGIT_3 = ROOT / "resources" / "samples" / "digit-3-test705.png"   # the example
DIGITS = [str(i) for i in range(10)]


@pytest.mark.parametrize("kwargs,words", [
    (dict(method="fgsm", random_start=True), "a random start"),
    (dict(method="fgsm", restarts=3), "restarts"),
    (dict(method="fgsm", eps=8 / 255, step_size=1 / 255), "a step size"),
    (dict(method="fgsm", early_stop=True), "early stopping"),
    (dict(restarts=3), "without a random start"),
])
def test_attack_parameters_that_contradict_themselves(kwargs, words):
    with pytest.raises(ParameterError, match=words):
        AttackParams(**kwargs)


def test_legal_neighbours_stay_legal():
    AttackParams(restarts=3, random_start=True)
    AttackParams(early_stop=True, best_iterate=False)     # stops at, and returns, the first success
    fgsm = AttackParams(method="fgsm", eps=8 / 255).resolved()
    assert (fgsm.steps, fgsm.step_size, fgsm.restarts) == (1, 8 / 255, 1)
    assert AttackParams(method="fgsm", eps=8 / 255, step_size=8 / 255).resolved() == fgsm


def test_a_budget_below_one_grey_level_is_a_warning():
    assert any("below one 8-bit grey level" in w for w in AttackParams(eps=0.5 / 255).warnings())
    assert not any("grey level" in w for w in AttackParams(eps=1 / 255).warnings())
    assert not any("grey level" in w for w in AttackParams(norm="l2", eps=0.001).warnings())


@pytest.mark.parametrize("prediction,reference,given,target,words", [
    (3, None, False, 3, "the model's clean prediction"),      # --target 3 on a 3
    (3, 5, True, 5, "the reference class you chose"),         # --label 5 --target 5
    (3, 5, True, 3, "already classifies the clean image"),    # --label 5 --target 3
    (None, 5, True, 5, "the reference class you chose"),      # prediction unknown yet (window)
])
def test_targeted_requests_that_are_already_true(prediction, reference, given, target, words):
    with pytest.raises(ParameterError, match=words):
        check_attack_classes(DIGITS, prediction, reference, given, target)


def test_class_requests_that_are_fine_or_only_warned():
    assert check_attack_classes(DIGITS, 3, None, False, 8) == []
    assert check_attack_classes(DIGITS, 3, 3, True, None) == []
    assert check_attack_classes(DIGITS, 3, 5, True, 8) == []
    (warning,) = check_attack_classes(DIGITS, 3, 5, True, None)
    assert "already misclassifies" in warning and "predicts 3" in warning
    with pytest.raises(ParameterError, match="1 class"):
        check_attack_classes(["only"], 0, None, False, None)


@pytest.mark.parametrize("kwargs,words", [
    (dict(max_rotation=0), "all 31 rotations 0 degrees"),
    (dict(max_translation=0), "all 5 shifts per axis 0 px"),
    (dict(rotations=1, translations=1), "only the unchanged image"),
    (dict(max_rotation=0, rotations=1, max_translation=0, translations=1), "only the unchanged image"),
    (dict(mode="random", max_rotation=0, max_translation=0), "every one of the k draws"),
])
def test_sweeps_that_sweep_nothing(kwargs, words):
    with pytest.raises(ParameterError, match=words):
        SpatialParams(**kwargs)


def test_sweeps_along_one_axis_are_fine():
    SpatialParams(max_rotation=0, rotations=1, translations=3)   # shifts only
    SpatialParams(rotations=7, max_translation=0, translations=1)  # rotations only
    SpatialParams(mode="random", max_rotation=0, max_translation=3)
    SpatialParams(mode="random", max_rotation=0).resolved(32)     # default shift: 3 px


@pytest.fixture(scope="module")
def digits():
    return load_model("digits-standard", LoadOptions(device="cpu")), load_image(DIGIT_3)


def test_a_targeted_run_towards_the_prediction_stops_before_the_first_step(digits):
    model, image = digits
    params = AttackParams(eps=8 / 255, steps=3)
    with pytest.raises(ParameterError, match="clean prediction"):
        check_attack_request(model, image, params, target=3)
    run = attack_run(model, image, params, target=3)
    with pytest.raises(ParameterError, match="clean prediction"):
        next(run)                   # refused before any iterate is evaluated
    with pytest.raises(ParameterError, match="reference class you chose"):
        next(attack_run(model, image, params, label=5, target=5))


def test_an_already_misclassified_image_runs_with_the_warning_recorded(digits):
    from visualizer.core.attacks import drive
    from visualizer.core.results import attack_record

    model, image = digits
    params = AttackParams(eps=2 / 255, steps=1)
    assert check_attack_request(model, image, params, label=5)
    record = attack_record(drive(attack_run(model, image, params, label=5)))
    assert record["label"]["class"] == 5 and record["success"] is True
    assert any("already misclassifies" in w for w in record["warnings"])
