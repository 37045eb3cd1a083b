"""The ``evaluations`` section of a bundled model's card: what `visualizer evaluate` measured
for the model, one entry per threat, taken from the run's evaluation.json (never typed in).

Each entry: ``command`` (the `visualizer evaluate` command line that produced it), ``data``,
``split``, ``n`` (examples scored: the first n of the split), ``requested`` and ``complete``
(False when the run was stopped early: ``--resume`` continues it), ``threat`` (the evaluate
spec, e.g. ``pgd:linf:0.3:40:2``), ``attacks`` (each attack's kind, norm, eps, steps and
``random_starts``), ``accuracy``, ``correct``, ``ci95`` (Wilson), ``wall_time_s``, ``date``
(when the run wrote its record), ``warnings`` and ``evaluation`` (the record's path then).

Scripts/bundle_models.py --evaluation FILE merges them; tests/test_shipped_cards.py checks them.
"""

from __future__ import annotations

import shlex

ENTRY_KEYS = ("command", "data", "split", "n", "requested", "complete", "split_size", "threat", "threat_label", "attacks",
              "accuracy", "correct", "ci95", "wall_time_s", "date", "warnings", "evaluation")
MASKING_GAP = 0.03      # a query attack or AutoAttack this far below PGD on the same examples: gradient masking
GRADIENT_KINDS = ("fgsm", "pgd", "apgd-ce", "apgd-t")
STRONGER_KINDS = ("autoattack", "square", "nes", "hopskipjump")


def evaluate_command(record: dict, out: str, test_size: int | None = None, threads: int | None = 1) -> str:
    """The `visualizer evaluate` command line behind ``record`` (an evaluation.json object)
    written to ``out``; ``--limit`` when fewer than ``test_size`` examples were asked for."""
    data = record["data"]
    words = ["visualizer", "evaluate"]
    if threads:
        words += ["--threads", str(threads)]
    for model in record["models"]:
        words += ["--model", model["id"]]
    words += ["--data", data["spec"]]
    if data.get("split"):
        words += ["--split", data["split"]]
    requested = record["examples"]["requested"]
    if test_size is not None and requested < test_size:
        words += ["--limit", str(requested)]
    for threat in record["threats"]:
        words += ["--threat", threat["id"]]
    words += ["--batch-size", str(record["examples"]["batch_size"]), "--seed", str(record["seed"]), "--out", out]
    return shlex.join(words)


def _attack(spec: dict) -> dict:
    starts = spec.get("runs") if spec.get("kind") in ("pgd", "apgd-ce") else None
    return {"kind": spec.get("kind"), "spec": spec.get("spec"), "norm": spec.get("norm"), "eps": spec.get("eps"),
            "steps": spec.get("steps"), "random_starts": starts}


def card_entries(record: dict, model_id: str, evaluation_path: str, out: str,
                 test_size: int | None = None) -> list[dict]:
    """One entry per threat for ``model_id`` in ``record``. Raises KeyError if the record has
    no result for that model."""
    results = [r for r in record["results"] if r["model"] == model_id]
    if not results:
        raise KeyError(model_id)
    command = evaluate_command(record, out, test_size)
    shared = [w for w in record.get("warnings") or [] if model_id in str(w)]
    entries = []
    for r in results:
        entries.append({
            "command": command, "data": record["data"]["spec"], "split": record["data"].get("split"),
            "n": r["n"], "requested": record["examples"]["requested"], "complete": bool(record["complete"]),
            "split_size": record["data"].get("split_size") or test_size,
            "threat": r["threat"], "threat_label": r.get("threat_label"),
            "attacks": [_attack(p) for p in r.get("parameters") or []],
            "accuracy": r["accuracy"], "correct": r["correct"], "ci95": list(r["ci95"]) if r.get("ci95") else None,
            "wall_time_s": round(float(r.get("wall_time_s") or 0.0), 1), "date": record["created"],
            "warnings": [str(w) for w in r.get("warnings") or []] + [str(w) for w in shared],
            "evaluation": evaluation_path})
    return entries


def merge(existing: list[dict] | None, new: list[dict]) -> list[dict]:
    """``existing`` with the entries of the same threat, data and command replaced by ``new``."""
    keys = {(e["threat"], e["data"], e["command"]) for e in new}
    kept = [e for e in existing or [] if (e.get("threat"), e.get("data"), e.get("command")) not in keys]
    return kept + list(new)


def masking_notes(entries: list[dict]) -> list[str]:
    """One sentence per pair of results on the same examples (one run) where AutoAttack or a
    query attack meets a gradient attack of the same norm and eps. A query attack (no
    gradients) leaving MASKING_GAP or more less accuracy than the gradient attack is a sign
    of gradient masking; AutoAttack doing so means PGD overestimates robustness (AutoAttack
    holds Square too). Counts are given, so a gap of a few images on a small n reads as such."""
    notes = []
    for strong in entries:
        if not strong["attacks"] or strong["attacks"][0]["kind"] not in STRONGER_KINDS:
            continue
        kind = strong["attacks"][0]["kind"]
        for grad in entries:
            a = grad["attacks"][0] if grad["attacks"] else {}
            if not (grad["command"] == strong["command"] and a.get("kind") in GRADIENT_KINDS
                    and a.get("norm") == strong["attacks"][0]["norm"] and a.get("eps") == strong["attacks"][0]["eps"]):
                continue
            gap = grad["accuracy"] - strong["accuracy"]
            if gap <= 0:
                verdict = "no sign of gradient masking from it (it breaks no more than the gradient attack)"
            elif gap < MASKING_GAP:
                verdict = f"no sign of gradient masking from it (a gap under {100 * MASKING_GAP:g} points)"
            elif kind == "autoattack":
                verdict = f"PGD overestimates robustness by {100 * gap:.1f} points here"
            else:
                verdict = "a black-box attack beating the gradient attack: a sign of gradient masking"
            small = "; few images, so read the gap with its intervals" if strong["n"] < 100 else ""
            notes.append(f"{strong['threat_label']} leaves {strong['correct']}/{strong['n']} "
                         f"({100 * strong['accuracy']:.1f}%) and {grad['threat_label']} {grad['correct']}/{grad['n']} "
                         f"({100 * grad['accuracy']:.1f}%) of the first {strong['n']} {strong['split'] or ''} images: "
                         f"{verdict}{small}.")
    return notes
