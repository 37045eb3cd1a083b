"""The model cards in resources/models: every ``NAME.json`` there is a bundled model called
NAME, its weights in ``NAME.safetensors`` beside it. Two card layouts are read:

- the trainer's (``format: visualizer-model-card/1``, written by ``visualizer train`` and copied
  in by scripts/bundle_models.py): ``architecture`` names an ``--arch`` (e.g. ``mnist-cnn``),
  class names under ``class_names``, data under ``data``, accuracies under ``metrics``;
- the older digits sidecars (scripts/train_digits.py): ``architecture: digits-cnn`` with
  ``architecture_kwargs``, class names as a labels source under ``labels``.

Nothing here names a model: shipping one is dropping its two files into the folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# Listing order: data sets the README leads with first, then standard before robust.
DATA_ORDER = ("mnist", "fashion-mnist")
NORM_NAMES = {"linf": "L-inf", "l2": "L2"}
DATA_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


@dataclass(frozen=True)
class CardFile:
    name: str
    weights: Path            # NAME.safetensors
    card: Path               # NAME.json


def card_files(folder: Path) -> list[CardFile]:
    """Every NAME.json in ``folder``, in listing order (the cards are read to sort them; an
    unreadable card sorts last). Its weights file may be missing: the model is then listed
    as unavailable."""
    if not folder.is_dir():
        return []
    found = [CardFile(p.stem, p.with_suffix(".safetensors"), p) for p in folder.glob("*.json")]
    return sorted(found, key=lambda f: _order_key(f.name, read_card(f.card)))


def read_card(path: Path) -> dict | None:
    """The card's JSON object, or None if it cannot be read."""
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) else None


def is_trainer_card(card: dict | None) -> bool:
    return isinstance(card, dict) and str(card.get("format", "")).startswith("visualizer-model-card/")


def data_kind(card: dict | None) -> str | None:
    """The training data set's kind ("mnist", "fashion-mnist", ...), None if not recorded."""
    if not is_trainer_card(card):
        return "digits" if isinstance(card, dict) and card.get("labels") == "digits" else None
    train = (card.get("data") or {}).get("train") or {}
    return train.get("kind")


def threat_model(card: dict | None) -> str | None:
    """"linf" or "l2" for an adversarially trained model, None for a standard one."""
    if not isinstance(card, dict) or card.get("train_eps") in (None, 0):
        return None
    norm = card.get("threat_model")
    return norm if norm in NORM_NAMES else None


def _order_key(name: str, card: dict | None) -> tuple:
    if card is None:
        return (2, len(DATA_ORDER), 1, name)
    kind = data_kind(card)
    rank = DATA_ORDER.index(kind) if kind in DATA_ORDER else len(DATA_ORDER)
    return (0 if is_trainer_card(card) else 1, rank, threat_model(card) is not None, name)


def _pct(value) -> str:
    return f"{100 * float(value):.1f}%"


def threat_text(card: dict) -> str:
    norm = threat_model(card)
    if norm is None:
        return "standard training (no adversarial training)"
    return f"adversarial training against {NORM_NAMES[norm]} eps {float(card['train_eps']):g}"


def accuracy_text(card: dict) -> str:
    """The card's measured accuracies, as a sentence ("" when it records none)."""
    m = card.get("metrics") or {}
    if "clean_accuracy" not in m:
        return ""
    images = m.get("clean_images")
    text = f"Test accuracy: clean {_pct(m['clean_accuracy'])}" + (f" ({images:,} images)" if images else "")
    attack = m.get("pgd_attack") or {}
    if m.get("pgd_accuracy") is not None and attack:
        where = f", first {m['pgd_images']:,} images" if m.get("pgd_images") else ""
        text += (f"; under PGD-{attack.get('steps')} {NORM_NAMES.get(attack.get('norm'), attack.get('norm'))} "
                 f"eps {float(attack.get('eps')):g}: {_pct(m['pgd_accuracy'])}{where}")
    return text + "."


def card_description(card: dict, fallback: str) -> str:
    """What the model dialog and `visualizer models` say: what it is, its threat model and
    the accuracies measured for it."""
    if not is_trainer_card(card):
        return str(card.get("description") or fallback)
    kind = data_kind(card)
    kind = DATA_NAMES.get(kind, kind or "its data")
    shape = (card.get("preprocessing") or {})
    size = f"{shape.get('input_size')}x{shape.get('input_size')}" if shape.get("input_size") else ""
    grey = " grayscale" if shape.get("channels") == 1 else ""
    head = (f"{card.get('architecture', 'A network')} on {kind}"
            f"{' (' + size + grey + ', pixels in [0,1])' if size else ''}, {threat_text(card)}.")
    return " ".join(t for t in (head, accuracy_text(card)) if t)
