"""From an evaluated example's threat to the run-parameters form (evaluate_links): the
settings it gives are accepted by the real form and describe the evaluation's attack."""

import pytest

from visualizer.core.evaluation import parse_threat
from visualizer.gui.workspaces.evaluate_links import example_link


def _restored(form, text, broken_by="", label=3, seed=11):
    form.set_class_names([str(i) for i in range(10)])
    link = example_link(parse_threat(text)[0], broken_by, label, seed)
    form.restore_state(link.form)
    assert form.is_valid(), form.errors()
    assert form.current_kind() == link.kind and form.label() == label
    return link


@pytest.mark.parametrize("text, method, norm, eps, steps", [
    ("fgsm:linf:8/255", "fgsm", "linf", 8 / 255, 1),
    ("pgd:l2:1.5:7:2", "pgd", "l2", 1.5, 7),
    ("apgd-t:linf:0.1:30", "pgd", "linf", 0.1, 30),
])
def test_gradient_threats_open_the_attack_with_their_budget(form, text, method, norm, eps, steps):
    link = _restored(form, text)
    p = form.attack_params()
    assert p.step_size is None                      # PGD: 2.5 eps / steps, as the evaluation's
    p = p.resolved()
    assert (p.method, p.norm, p.steps, p.seed, p.targeted) == (method, norm, steps, 11, False)
    assert p.eps == pytest.approx(eps)
    if method == "pgd":
        assert p.random_start and p.early_stop
        assert p.restarts == (2 if text.startswith("pgd") else 1)
    assert ("same result" in link.note) == (method == "fgsm")


def test_the_attack_that_broke_an_example_is_the_one_opened(form):
    _restored(form, "fgsm:linf:0.1+pgd:linf:0.1:5", broken_by="fgsm")
    assert form.attack_params().method == "fgsm"
    _restored(form, "fgsm:linf:0.1+pgd:linf:0.1:5", broken_by="")      # still standing: the strongest
    assert form.attack_params().method == "pgd" and form.attack_params().steps == 5


def test_spatial_threats_open_the_sweep_with_their_grid(form):
    link = _restored(form, "spatial:grid:20:9:2:3")
    p = form.spatial_params()
    assert link.kind == "sweep" and (p.mode, p.max_rotation, p.rotations, p.max_translation, p.translations) == \
        ("grid", 20, 9, 2, 3)
    _restored(form, "spatial:worst-of-k:6")
    p = form.spatial_params()
    assert (p.mode, p.k, p.max_rotation, p.max_translation) == ("random", 6, 30, None)


def test_clean_only_shows_the_image():
    link = example_link(parse_threat("clean")[0], "clean", 1, 0)
    assert link.kind == "attack" and link.form is None
