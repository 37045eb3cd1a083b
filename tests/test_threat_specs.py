"""The --threat grammar, Wilson intervals and the sanity relations (no model needed)."""

import pytest
import torch

from visualizer.core.errors import ParameterError
from visualizer.core.evaluation import parse_threat, parse_threats, wilson_interval
from visualizer.core.evaluation.relations import relation_warnings
from visualizer.core.evaluation.threats import APGD_STEPS, APGD_TARGETS, PGD_STEPS


def one(text):
    threats = parse_threat(text)
    assert len(threats) == 1
    return threats[0]


def test_every_form_parses_with_its_defaults():
    assert one("clean").is_clean
    fgsm = one("fgsm:linf:8/255").attacks[0]
    assert (fgsm.kind, fgsm.norm, fgsm.eps) == ("fgsm", "linf", 8 / 255)
    pgd = one("pgd:l2:0.5").attacks[0]
    assert (pgd.steps, pgd.runs, pgd.text) == (PGD_STEPS, 1, f"pgd:l2:0.5:{PGD_STEPS}:1")
    assert one("pgd:linf:0.3:40:3").attacks[0].runs == 3
    ce = one("apgd-ce:linf:0.1").attacks[0]
    assert (ce.steps, ce.runs) == (APGD_STEPS, 1)
    assert ce.apgd_params(0).loss == "ce"
    t = one("apgd-t:l2:1:50:4").attacks[0]
    assert (t.steps, t.runs, t.apgd_params(0).loss, t.apgd_params(0).target_classes) == (50, 4, "dlr-targeted", 4)
    assert one("apgd-t:linf:0.1").attacks[0].runs == APGD_TARGETS
    assert one("autoattack:linf:0.3").attacks[0].kind == "autoattack"
    grid = one("spatial:grid").attacks[0].spatial
    assert (grid.mode, grid.max_rotation, grid.rotations, grid.max_translation, grid.translations) == ("grid", 30, 31, None, 5)
    custom = one("spatial:grid:15:7:2:3").attacks[0].spatial
    assert (custom.max_rotation, custom.rotations, custom.max_translation, custom.translations) == (15, 7, 2, 3)
    assert one("spatial:worst-of-k").attacks[0].spatial.k == 10
    assert one("spatial:worst-of-k:25").attacks[0].spatial.k == 25


def test_pgd_in_an_evaluation_starts_at_random_and_keeps_the_project_step_size():
    params = one("pgd:linf:0.3:40").attacks[0].resolved_parameters()
    assert params["random_start"] and params["step_size"] == pytest.approx(2.5 * 0.3 / 40)
    assert one("fgsm:linf:0.1").attacks[0].resolved_parameters()["step_size"] == pytest.approx(0.1)


def test_a_comma_list_of_epsilons_is_one_curve():
    threats = parse_threat("pgd:linf:0.1,0.2,8/255:10")
    assert [t.eps for t in threats] == pytest.approx([0.1, 0.2, 8 / 255])
    assert len({t.curve for t in threats}) == 1
    assert threats[0].curve != parse_threat("pgd:linf:0.1:20")[0].curve      # other steps: another curve
    assert len({t.text for t in threats}) == 3


def test_an_ensemble_runs_cheap_attacks_first_and_takes_epsilon_lists_in_step():
    threat = one("autoattack:linf:0.1+pgd:linf:0.1+fgsm:linf:0.1+spatial:worst-of-k")
    assert [a.kind for a in threat.run_order] == ["fgsm", "spatial-worst-of-k", "pgd", "autoattack"]
    pairs = parse_threat("fgsm:linf:0.1,0.2+pgd:linf:0.1,0.2")
    assert [(t.attacks[0].eps, t.attacks[1].eps) for t in pairs] == [(0.1, 0.1), (0.2, 0.2)]
    with pytest.raises(ParameterError, match="different numbers of epsilons"):
        parse_threat("fgsm:linf:0.1,0.2+pgd:linf:0.1,0.2,0.3")


def test_duplicates_are_dropped_in_order():
    texts = [t.text for t in parse_threats(["clean", "pgd:linf:0.1,0.2", "pgd:linf:0.2", "clean"])]
    assert texts == ["clean", "pgd:linf:0.1:20:1", "pgd:linf:0.2:20:1"]


@pytest.mark.parametrize("text, message", [
    ("pgd", "pgd:NORM:EPS"),
    ("pgd:linf", "pgd:NORM:EPS"),
    ("fgsm:l2:0.5", "L-inf only"),
    ("pgd:l1:0.5", "linf or l2"),
    ("pgd:linf:-0.1", "positive"),
    ("pgd:linf:1.5", "exceeds the whole"),
    ("pgd:linf:abc", "number"),
    ("pgd:linf:0.1,,0.2", "empty epsilon"),
    ("pgd:linf:0.1:0", "at least 1"),
    ("apgd-t:linf:0.1:10:x", "whole number"),
    ("autoattack:linf:2", "at most 1"),
    ("spatial:grid:30:31:3:5:7", "spatial:grid"),
    ("spatial:worst-of-k:0", "at least 1"),
    ("spatial:spiral", "spatial:grid"),
    ("clean:1", "no parameters"),
    ("deepfool:linf:0.1", "Unknown threat"),
    ("", "empty threat"),
])
def test_bad_specs_say_what_to_write(text, message):
    with pytest.raises(ParameterError, match=message):
        parse_threats([text])


@pytest.mark.parametrize("bad", ["pgd:linf:8", "pgd:l2:0", "apgd-ce:linf:-1", "square:l2:-1", "spatial:grid:400",
                                 "spatial:grid:30:31:-3", "pgd:linf:0.1:20:0"])
def test_a_refusal_names_the_threat_it_is_about(bad):
    """With several --threat values, 'Epsilon must be positive, got 0.0.' did not say which."""
    with pytest.raises(ParameterError) as refused:
        parse_threats(["clean", "pgd:linf:0.1", bad, "spatial:worst-of-k"])
    assert str(refused.value).lstrip("'").startswith(bad), refused.value


@pytest.mark.parametrize("k, n", [(95, 100), (0, 20), (20, 20), (1, 3), (517, 1000)])
def test_wilson_interval_matches_scipy(k, n):
    from scipy.stats import binomtest

    ref = binomtest(k, n).proportion_ci(method="wilson")
    assert wilson_interval(k, n) == pytest.approx((ref.low, ref.high), abs=1e-9)


def _robust(count, n=200):
    mask = torch.zeros(n, dtype=torch.bool)
    mask[:count] = True
    return mask


def test_relations_warn_when_a_stronger_attack_leaves_clearly_more_standing():
    threats = parse_threats(["clean", "fgsm:linf:0.1", "pgd:linf:0.1", "apgd-ce:linf:0.1", "pgd:linf:0.2"])
    clean, fgsm, pgd, apgd, pgd_big = _robust(190), _robust(120), _robust(80), _robust(78), _robust(40)
    sane = {0: clean, 1: fgsm, 2: pgd, 3: apgd, 4: pgd_big}
    assert relation_warnings("m", threats, sane) == []
    # APGD two examples above PGD: noise, not a finding.
    assert relation_warnings("m", threats, {**sane, 3: _robust(82)}) == []
    bad = relation_warnings("m", threats, {**sane, 3: _robust(110)})
    assert len(bad) == 1 and "apgd-ce:linf:0.1" in bad[0] and "pgd:linf:0.1:20:1" in bad[0]
    rising = relation_warnings("m", threats, {**sane, 4: _robust(120)})
    assert any("should not rise with epsilon" in w for w in rising)
