"""Run on a lone standard model, the Saliency tab and a targeted attack add its robust partner
(L2-trained first) from the loaded models; an untargeted attack and Run all stay as they are.

The models folder here holds the shipped standard MNIST model and two copies of its weights
whose cards say "L-inf robust" and "L2 robust": the choice is made from the cards' fields
alone, which is what is under test (the shipped robust models' own behaviour is checked by
tests/test_shipped_cards.py)."""

import json
import shutil

import pytest
from window_support import LONG, add_model, choose, open_image, run_and_wait, set_field

from visualizer.core.models import bundled, model_cards
from visualizer.core.resources import sample_sets


def _standard_mnist():
    for f in model_cards.card_files(bundled.models_dir()):
        card = model_cards.read_card(f.card)
        if model_cards.data_kind(card) == "mnist" and model_cards.is_trainer_card(card) \
                and model_cards.threat_model(card) is None:
            return f, card
    pytest.fail("no standard MNIST trainer card shipped in resources/models")


@pytest.fixture
def partner_window(qtbot, window, tmp_path, monkeypatch):
    f, card = _standard_mnist()
    for name, norm, eps in (("mnist-standard", None, None), ("mnist-robust", "linf", 0.3),
                            ("mnist-robust-l2", "l2", 2.0)):
        shutil.copy(f.weights, tmp_path / f"{name}.safetensors")
        (tmp_path / f"{name}.json").write_text(json.dumps({**card, "threat_model": norm, "train_eps": eps}))
    monkeypatch.setattr(bundled, "models_dir", lambda: tmp_path)
    mnist = dict(sample_sets())["MNIST"]
    open_image(qtbot, window, mnist[3])
    for name in ("mnist-standard", "mnist-robust", "mnist-robust-l2"):
        add_model(qtbot, window, name)
    window.model_list.setCurrentRow(0)
    return window


def test_saliency_puts_the_l2_partner_beside_the_standard_model(qtbot, partner_window):
    w = partner_window
    choose(w.form, "saliency")
    run_and_wait(qtbot, w)
    maps = w.saliency_result.record["saliency"]["maps"]
    assert [m["model"] for m in maps] == ["mnist-standard", "mnist-robust-l2"]
    assert "robust partner mnist-robust-l2" in w.statusBar().currentMessage()
    w.model_list.setCurrentRow(1)                       # a robust model alone stays alone
    run_and_wait(qtbot, w)
    assert [m["model"] for m in w.saliency_result.record["saliency"]["maps"]] == ["mnist-robust"]


def test_a_targeted_attack_runs_on_the_partner_too_an_untargeted_one_does_not(qtbot, partner_window):
    w = partner_window
    choose(w.form, "pgd-l2")
    set_field(w.form, "eps", "1")
    set_field(w.form, "steps", "3")
    run_and_wait(qtbot, w)
    assert ["attack" in c.results for c in w.columns] == [True, False, False]
    w.form.targeted.setChecked(True)
    w.form.target_picker.setText("5")
    run_and_wait(qtbot, w, count=2)
    qtbot.waitUntil(lambda: "attack" in w.columns[2].results, timeout=LONG)
    assert ["attack" in c.results for c in w.columns] == [True, False, True]
    assert w.columns[2].results["attack"].record["target"]["class"] == 5
