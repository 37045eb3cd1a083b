"""How an evaluation record is named and grouped for display, shared by the figures
(matplotlib) and the window's Evaluate tab (Qt): model display names, budgets as the user
wrote them, curve families, the model colours. No plotting library here, so the window can
import it without loading matplotlib at start-up."""

from __future__ import annotations

from visualizer.core.attacks.spatial import SpatialParams, default_max_translation
from visualizer.core.formatting import num

# Okabe & Ito's colour-blind-safe qualitative palette, one colour per model.
MODEL_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
NORM_SYMBOL = {"linf": "L\u221e", "l2": "L2"}


def eps_label(attack: dict) -> str:
    """The budget as the user wrote it ('8/255', '0.3'), else the number."""
    if attack.get("eps_text"):
        return attack["eps_text"]
    return num(attack["eps"]) if attack.get("eps") is not None else ""


TRAINED_WEIGHTS = "model.safetensors"     # every trainer folder's file: its folder names the model


def _short_name(model_id: str, parts: int) -> str:
    path = model_id.replace("\\", "/").split("/")
    if len(path) > 1 and path[-1] == TRAINED_WEIGHTS:
        path = path[:-1]
    return "/".join(path[-parts:])


def display_names(model_ids: list[str]) -> list[str]:
    """Model ids for figures and column titles: a checkpoint's file name instead of its
    whole path (a trainer folder's name instead of its model.safetensors, which named
    every trained model and stolen copy alike), else the last two path parts, where that
    leaves them distinct."""
    for parts in (1, 2):
        short = [_short_name(mid, parts) for mid in model_ids]
        if len(set(short)) == len(short):
            return short
    return list(model_ids)


def budget_text(threat: dict, input_side: int | None) -> str:
    """The second header line: 'ε = 0.3', '±30°, ±3 px' (the range a spatial attack searches;
    a grid other than Engstrom et al.'s 31 rotations x 5 x 5 translations also gives its size)."""
    parts = []
    for attack in threat["attacks"]:
        spatial = attack.get("spatial")
        if spatial:
            shift = spatial.get("max_translation")
            if shift is None and input_side:
                shift = default_max_translation(input_side)
            text = f"\u00b1{num(spatial['max_rotation'])}\u00b0, \u00b1{num(shift)} px"
            rotations = spatial.get("rotations", SpatialParams.rotations)
            translations = spatial.get("translations", SpatialParams.translations)
            if spatial.get("mode") == "grid" and (rotations, translations) != (SpatialParams.rotations,
                                                                                SpatialParams.translations):
                text += f", {rotations}\u00d7{translations}\u00d7{translations} grid"
            parts.append(text)
        elif attack.get("eps") is not None:
            parts.append(f"\u03b5 = {eps_label(attack)}")
    unique = list(dict.fromkeys(parts))
    return " + ".join(unique)


def curve_families(record: dict) -> list[list[dict]]:
    """Threats grouped by curve (same attacks, different epsilon: a comma list of epsilons),
    in record order, each sorted by epsilon; only groups of two or more."""
    groups: dict[str, list[dict]] = {}
    for threat in record["threats"]:
        if threat.get("curve") and threat.get("eps") is not None:
            groups.setdefault(threat["curve"], []).append(threat)
    return [sorted(g, key=lambda t: t["eps"]) for g in groups.values() if len(g) >= 2]
