"""The text of an attack column (attack_view.py) that is not its headline (attack_headline.py):
the top-1 caption under an image, the top-5 legend, and the status line under the plot, all
pure functions of an attack record (core/results.attack_record)."""

from __future__ import annotations

import html

from visualizer.core.formatting import num, over_255, prob_text
from visualizer.core.results import saved_outcome
from visualizer.gui.panels.attack_headline import threat_text
from visualizer.gui.panels.colormaps import C_REF, C_TGT

__all__ = ["legend_html", "status_html", "top1_text", "top5_entries"]


def top5_entries(probs, classes, names) -> list[dict]:
    """Top-5 dicts ({"class", "label", "prob"}) from probabilities and classes (best first)."""
    return [{"class": int(c), "label": names[int(c)] if names is not None else str(int(c)), "prob": float(p)}
            for p, c in zip(probs, classes)]


def top1_text(top5: list[dict] | None) -> str:
    """'cat (0.93)' for an image's caption; a space (one empty line) without a prediction."""
    if not top5:
        return " "
    return f"{top5[0].get('label', '?')} ({prob_text(top5[0].get('prob', float('nan')))})"


def legend_html(record: dict, colours, targeted: bool) -> str:
    """The top-5 bars' legend: the reference class (and where it came from), and the target."""
    label = record.get("label") or {}
    source = {"given": "true label", "predicted": "clean prediction"}.get(label.get("source"), "")
    ref = colours.accent(C_REF).name()
    parts = [f"<span style='color:{ref}'>\u25a0</span>&nbsp;reference: {html.escape(str(label.get('label', '?')))}"
             + (f" ({source})" if source else "")]
    target = record.get("target")
    if targeted and target:
        tgt = colours.accent(C_TGT).name()
        parts.append(f"<span style='color:{tgt}'>\u25a0</span>&nbsp;target: {html.escape(str(target.get('label')))}")
    return "&nbsp;&nbsp;&nbsp;".join(parts)


def status_html(record: dict, params: dict) -> str:
    """Outcome and norms of the adversarial image shown (and saved): 8-bit, inside eps."""
    saved = saved_outcome(record)
    head = "<b>Attack succeeded</b>" if saved["success"] else "<b>Attack failed</b>"
    parts = [head, html.escape(threat_text(params))]
    if saved["linf"] is not None:
        parts.append(f"\u2016\u03b4\u2016\u221e = {over_255(saved['linf'])} ({num(saved['linf'])})")
    if saved["l2"] is not None:
        parts.append(f"\u2016\u03b4\u2016\u2082 = {num(saved['l2'])}")
    if saved["within_budget"] is not None:
        parts.append("8-bit image " + ("within \u03b5" if saved["within_budget"] else "<b>outside \u03b5</b>"))
    if record.get("iterates") is not None:
        parts.append(f"{record['iterates']} iterates")
    lines = [" \u00b7 ".join(parts)]
    if record.get("cancelled"):
        lines.append("<b>Cancelled</b>: showing the best iterate found before stopping.")
    if record.get("success") is not None and bool(record["success"]) != bool(saved["success"]):
        verdict = "succeeded" if record["success"] else "failed"
        lines.append(f"The attack's float result {verdict}; the 8-bit image shown (and saved) is what counts.")
    warnings = [str(w) for w in record.get("warnings") or []]
    if saved["note"] and saved["note"] not in warnings:
        lines.append(html.escape(saved["note"]))
    for warning in warnings:
        lines.append("\u26a0 " + html.escape(warning))
    return "<br>".join(lines)
