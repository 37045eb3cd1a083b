"""Which robust model the saliency and targeted views put beside a standard one: decided by
the cards' fields (data set, threat model), L2-trained first."""

import copy

from visualizer.core.models.partners import robust_partner


def card(kind, norm=None, eps=None):
    return {"format": "visualizer-model-card/1", "data": {"train": {"kind": kind}},
            "threat_model": norm, "train_eps": eps}


CARDS = {
    "mnist-standard": card("mnist"), "mnist-robust": card("mnist", "linf", 0.3),
    "mnist-robust-l2": card("mnist", "l2", 2.0), "fashion-standard": card("fashion-mnist"),
    "fashion-robust": card("fashion-mnist", "linf", 0.1),
    "digits-robust": {"labels": "digits", "threat_model": "l2", "train_eps": 2.0},   # no trainer card
}


def test_l2_partner_first_then_linf_same_data_set_only():
    everything = list(CARDS)
    assert robust_partner("mnist-standard", everything, CARDS) == "mnist-robust-l2"
    assert robust_partner("mnist-standard", ["mnist-standard", "mnist-robust", "fashion-robust"], CARDS) \
        == "mnist-robust"
    assert robust_partner("fashion-standard", everything, CARDS) == "fashion-robust"
    assert robust_partner("mnist-standard", ["mnist-standard", "fashion-robust", "digits-robust"], CARDS) is None


def test_robust_models_and_cardless_models_have_no_partner():
    assert robust_partner("mnist-robust", list(CARDS), CARDS) is None
    assert robust_partner("digits-standard", list(CARDS), {**CARDS, "digits-standard": {"labels": "digits"}}) is None
    assert robust_partner("ckpt:x.pt", list(CARDS) + ["ckpt:x.pt"], CARDS) is None
    # A standard card whose train_eps is 0 is standard whatever threat_model says.
    odd = copy.deepcopy(CARDS)
    odd["mnist-robust-l2"]["train_eps"] = 0
    assert robust_partner("mnist-standard", list(odd), odd) == "mnist-robust"
