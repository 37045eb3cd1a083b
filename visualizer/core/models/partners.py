"""A standard model's robust partner: the model the saliency and targeted-attack views put
beside it by default, so the picture the product is about (Tsipras et al. 2018: a robust
model's gradients follow the object, its large-eps targeted examples look like the target)
appears without setting anything up.

Decided by the bundled models' cards alone: among the loaded models trained on the same data
set (``data.train.kind``) with adversarial training, the L2-trained one first (issue 12's
judge: the perceptual effect at 28 px comes from L2 training, not from L-inf), then L-inf.
Models without a trainer card have no partner.
"""

from __future__ import annotations

from typing import Hashable

from visualizer.core.models import model_cards

PARTNER_NORMS = ("l2", "linf")       # preference order


def robust_partner(model_id: Hashable, loaded: list, cards: dict) -> Hashable | None:
    """The key in ``loaded`` to show beside the standard model ``model_id`` (None: it is not
    a standard model with a card, or no robust model of its data set is loaded). ``cards``:
    key (a model id, or any key the caller uses) -> that model's card, or None."""
    card = cards.get(model_id)
    if not model_cards.is_trainer_card(card) or model_cards.threat_model(card) is not None:
        return None
    kind = model_cards.data_kind(card)
    ranked = []
    for other in loaded:
        other_card = cards.get(other)
        norm = model_cards.threat_model(other_card)
        if other != model_id and model_cards.is_trainer_card(other_card) and norm in PARTNER_NORMS \
                and model_cards.data_kind(other_card) == kind:
            ranked.append((PARTNER_NORMS.index(norm), loaded.index(other), other))
    return min(ranked)[2] if ranked else None
