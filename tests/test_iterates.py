"""Kept iterates (core/attacks/iterates.py) and the class scores of attack records, on the
bundled digits model and a digit scan: every iterate is kept when the budget allows, the
kept ones stay evenly spaced and within budget when it does not, and each kept iterate is
the image the attack evaluated there."""

import jsonschema
import numpy as np
import pytest
import torch
from support import digit_sample

from visualizer.core.attacks import AttackParams, drive
from visualizer.core.attacks.iterates import KeptIterates
from visualizer.core.images import load_image, preprocess
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.results import attack_record, logit_margin
from visualizer.core.runs import attack_run
from visualizer.core.schema import result_schema


@pytest.fixture(scope="module")
def digits():
    return load_model("digits-standard", LoadOptions(device="cpu"))


@pytest.fixture(scope="module")
def digit():
    return load_image(digit_sample())


def _run(model, image, budget, steps, **params):
    events = []
    run = drive(attack_run(model, image, AttackParams(method="pgd", norm="linf", eps=0.1, steps=steps, **params),
                           report_images=True, keep_iterates=budget), events.append)
    return run, events


def test_every_iterate_is_kept_when_the_budget_allows_and_is_what_the_attack_saw(digits, digit):
    run, events = _run(digits, digit, 2**20, steps=6)
    kept = run.iterates
    assert kept.indices() == list(range(7)) == [e.done - 1 for e in events]
    for e in events:
        it = kept.nearest(e.done - 1)
        assert it.index == e.done - 1 and it.step == e.step
        # float16 deltas: far below one grey level (1/255) from the evaluated image.
        np.testing.assert_allclose(kept.adversarial(it), e.adversarial[0].numpy(), atol=1e-4)
        np.testing.assert_array_equal(it.topk_class, e.topk_class.numpy())
        np.testing.assert_allclose(it.topk_prob, e.topk_prob.numpy())
    assert np.abs(kept.nearest(0).delta).max() == 0            # no random start: iterate 0 is the clean input
    assert kept.nearest(6).success[0] == bool(events[-1].success[0])


def test_a_small_budget_keeps_evenly_spaced_iterates_within_it(digits, digit):
    x, _ = preprocess(digit, digits.info.preprocessing)
    one = x.numel() * 2 + 64                    # one kept iterate of a 1-image batch
    budget = 5 * one
    run, events = _run(digits, digit, budget, steps=40, restarts=2, random_start=True)
    kept = run.iterates
    assert len(events) == 82 and kept.seen == 82
    indices = kept.indices()
    assert 2 <= len(indices) <= kept.capacity == 5
    assert kept.nbytes <= budget
    gaps = set(np.diff(indices).tolist())
    assert gaps == {kept.stride} and kept.stride > 1 and indices[0] == 0      # evenly spaced from the start
    assert indices[-1] + kept.stride > 81 - kept.stride                          # ... over the whole run
    second = kept.nearest(41)                   # restart 1 starts at index 41 (steps + 1 per restart)
    assert second.index in indices and abs(second.index - 41) <= kept.stride / 2
    by_index = {e.done - 1: e for e in events}
    for i in indices:
        np.testing.assert_allclose(kept.adversarial(kept.nearest(i)), by_index[i].adversarial[0].numpy(), atol=1e-4)


def test_nothing_is_kept_unless_asked_and_images_are_required(digits, digit):
    run, events = _run(digits, digit, 0, steps=2)
    assert run.iterates is None
    with pytest.raises(ValueError, match="report_images"):
        KeptIterates(torch.zeros(1, 1, 4, 4)).add(events[0].__class__(**{**events[0].__dict__, "adversarial": None}))


def test_records_carry_reference_and_target_probability_and_logit_margin(digits, digit):
    run = drive(attack_run(digits, digit, AttackParams(method="pgd", norm="l2", eps=3.0, steps=20, targeted=True),
                           target="8"))
    rec = attack_record(run)
    jsonschema.validate({**rec, "files": {}}, result_schema())      # files: added when written
    with torch.no_grad():
        logits = digits(run.result.adversarial)[0].double()
    ref, tgt = rec["label"]["class"], rec["target"]["class"]
    for cls, key in ((ref, "reference"), (tgt, "target")):
        others = torch.cat([logits[:cls], logits[cls + 1:]])
        assert rec["adversarial"][f"{key}_margin"] == pytest.approx(float(logits[cls] - others.max()), abs=1e-3)
        assert rec["adversarial"][f"{key}_prob"] == pytest.approx(float(run.adv_probs[cls]))
    assert rec["clean"]["reference_margin"] > 0                  # the clean prediction is the reference
    assert (rec["adversarial"]["target_margin"] > 0) == rec["success"]
    assert logit_margin(torch.tensor([0.5, 0.5]), 0) == 0.0
