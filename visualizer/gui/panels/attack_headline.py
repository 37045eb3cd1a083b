"""The line at the top of an attack column that tells two models apart: the outcome, the
probability of the class that matters (the target of a targeted attack, else the reference
class) before and after, and its logit margin (that class's logit minus the best other: how
far the model is from changing its mind). "Attack succeeded" alone reads the same for a model
at 1.00 and one barely over the line at 0.51.

Pure functions of an attack record (core/results.attack_record); the margins and
probabilities come from its ``clean`` / ``adversarial`` blocks (``reference_prob``,
``reference_margin``, ``target_prob``, ``target_margin``), with the top-5 as a fallback for
records written before those fields existed.
"""

from __future__ import annotations

import html

from visualizer.core.formatting import ellipsize, eps_text, prob_text
from visualizer.core.palette import C_REF, C_TGT

__all__ = ["headline_html", "headline_tooltip", "margin_text", "threat_text"]

NORM_NAMES = {"linf": "L\u221e", "l2": "L2"}

MARGIN_TIP = ("margin: logit of {what} minus the largest other logit (log-probability ratio); "
              "positive while the model predicts {what}, negative once another class wins")


def threat_text(params: dict) -> str:
    """The run's attack and threat model: 'PGD-10 L\u221e \u00b7 \u03b5 = 4/255 (0.0157) \u00b7 untargeted'."""
    method = str(params.get("method", "?")).lower()
    norm = params.get("norm")
    steps = params.get("steps")
    head = (f"PGD-{steps}" if steps else "PGD") if method == "pgd" else method.upper()
    parts = [f"{head} {NORM_NAMES.get(norm, norm)}", f"\u03b5 = {eps_text(params.get('eps'), norm)}"]
    if params.get("restarts") and int(params["restarts"]) > 1:
        parts.append(f"{int(params['restarts'])} restarts")
    parts.append("targeted" if params.get("targeted") else "untargeted")
    return " \u00b7 ".join(parts)


def margin_text(value) -> str:
    """'+0.4', '\u22121.2' (logits); '' when unknown."""
    if value is None:
        return ""
    return f"{float(value):+.1f}".replace("-", "\u2212")


def _prob_of(block: dict, cls, key: str):
    """The stored probability, else the top-5 entry of ``cls``; None when neither says."""
    if block.get(key) is not None:
        return float(block[key])
    for entry in block.get("top5") or []:
        if entry.get("class") == cls:
            return float(entry.get("prob"))
    return None


def _focus(record: dict) -> tuple[str, dict, str]:
    """(key prefix, class ref, name) of the class the outcome is about."""
    params = record.get("parameters") or {}
    target = record.get("target")
    if params.get("targeted") and target:
        return "target", target, "target"
    return "reference", record.get("label") or {}, "reference"


def headline_html(record: dict, colours=None) -> str:
    """Rich text: a bold, coloured verdict, then P(class) clean -> adversarial and the
    margin after the attack. ``colours``: PlotColours (accents for dark palettes) or None."""
    key, cls_ref, name = _focus(record)
    cls, label = cls_ref.get("class"), html.escape(ellipsize(cls_ref.get("label", "?"), 24))
    clean, adv = record.get("clean") or {}, record.get("adversarial") or {}
    success = bool(record.get("success"))
    adv_top = (adv.get("top5") or [{}])[0]
    if key == "target":
        verdict = f"Target {label} reached" if success else f"Target {label} not reached"
    else:
        now = html.escape(ellipsize(adv_top.get("label", "?"), 24))
        verdict = f"Fooled \u2192 {now}" if success else "Resisted"
    accent = C_TGT if success else C_REF
    if colours is not None:
        accent = colours.accent(accent).name()
    parts = [f"<b><span style='color:{accent}'>{verdict}</span></b>"]
    before, after = _prob_of(clean, cls, f"{key}_prob"), _prob_of(adv, cls, f"{key}_prob")
    if after is not None:
        arrow = f"{html.escape(prob_text(before))} \u2192 " if before is not None else ""
        parts.append(f"P({name} {label}) {arrow}<b>{html.escape(prob_text(after))}</b>")
    if adv.get(f"{key}_margin") is not None:
        parts.append(f"margin <b>{margin_text(adv[f'{key}_margin'])}</b>")
    if record.get("cancelled"):
        parts.append("cancelled: best iterate so far")
    return " \u00b7 ".join(parts)


def headline_tooltip(record: dict) -> str:
    key, cls_ref, _ = _focus(record)
    what = f"the {key} class ({cls_ref.get('label', '?')})"
    return (f"P: probability of {what} on the clean input \u2192 on the adversarial image\n"
            + MARGIN_TIP.format(what=what))
