"""From one evaluated example to the view that studies it: which tab (Attack for gradient
threats, Sweep for spatial ones) and the run-parameters form's settings that repeat the
threat's attack on that single image (ParamsForm.restore_state's dict).

What repeats exactly: FGSM and the spatial grid are deterministic, so the single image gets
the evaluation's result. PGD's random start and worst-of-k's draws come from a generator
seeded per batch, so on one image they draw other random numbers: the same attack, the
same budget and steps, a result that can differ near the decision boundary. APGD and
AutoAttack have no single-image view; they open as PGD with the same norm, budget and
steps (said in the status bar)."""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.core.evaluation.threats import AttackSpec, Threat


@dataclass
class ExampleLink:
    kind: str                  # the tab: "attack" or "sweep"
    form: dict | None          # ParamsForm.restore_state values; None: only show the image (clean)
    note: str                  # what the status bar says about the match


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


def _chosen_attack(threat: Threat, broken_by: str) -> AttackSpec | None:
    """The attack that broke the example, else the threat's strongest (it ran last)."""
    attacks = [a for a in threat.attacks if a.kind != "clean"]
    named = [a for a in attacks if a.kind == broken_by]
    if named:
        return named[0]
    order = [a for a in threat.run_order if a.kind != "clean"]
    return order[-1] if order else None


def example_link(threat: Threat, broken_by: str, label: int, seed: int) -> ExampleLink:
    """The tab and form settings for an example of ``threat`` with true class ``label``
    (the reference the attack pushes away from, as in the evaluation)."""
    spec = _chosen_attack(threat, broken_by)
    common = {"label": int(label), "targeted": False, "seed": int(seed)}
    if spec is None:
        return ExampleLink("attack", None, "clean: the image as the model sees it")
    if spec.kind.startswith("spatial"):
        p = spec.spatial
        fields = {"max_rotation": _number(p.max_rotation), "max_translation": _number(p.max_translation)}
        if p.mode == "grid":
            fields.update(rotations=str(p.rotations), translations=str(p.translations))
            return ExampleLink("sweep", {**common, "run": "spatial-grid", "fields": fields},
                               "the same grid: the same worst transform")
        fields["k"] = str(p.k)
        return ExampleLink("sweep", {**common, "run": "spatial-random", "fields": fields},
                           "worst-of-k draws other random transforms on one image")
    eps = {spec.norm: spec.eps_text}
    if spec.kind == "fgsm":
        return ExampleLink("attack", {**common, "run": "fgsm", "eps": eps}, "FGSM is deterministic: the same result")
    steps = spec.steps or 100
    restarts = spec.runs if spec.kind == "pgd" else 1
    form = {**common, "run": f"pgd-{spec.norm}", "eps": eps, "random_start": True, "early_stop": True,
            "fields": {"steps": str(steps), "step_size": "", "restarts": str(restarts)}}
    if spec.kind == "pgd":
        return ExampleLink("attack", form, "PGD's random start differs on one image: near the boundary the "
                                           "result can differ")
    return ExampleLink("attack", form, f"{spec.kind} has no single-image view: shown as PGD with the same "
                                       "norm, budget and steps")
