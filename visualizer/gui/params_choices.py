"""What the run-parameters form offers (params_form.py): the kinds of run, the saliency
methods, the budgets' tooltips and defaults, which fields each choice uses, and how each
field is checked (by building the core's own parameter objects, so the rules and their
messages live in one place)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from visualizer.core.attacks.params import AttackParams
from visualizer.core.attacks.spatial import SpatialParams
from visualizer.core.saliency import SaliencyParams

WARNING_STYLE = "color: #9a6700; background: #fff8c5; border-radius: 3px; padding: 3px;"
SMALL_SIDE = 64            # inputs up to this many pixels count as "small" (CIFAR, digits)

# key, label, kind, method, norm
ATTACKS = (
    ("fgsm", "FGSM", "attack", "fgsm", "linf"),
    ("pgd-linf", "PGD L-inf", "attack", "pgd", "linf"),
    ("pgd-l2", "PGD L2", "attack", "pgd", "l2"),
    ("spatial-grid", "Spatial grid", "sweep", "grid", None),
    ("spatial-random", "Spatial worst-of-k", "sweep", "random", None),
    ("saliency", "Saliency", "saliency", None, None),
)
BY_KEY = {a[0]: a for a in ATTACKS}
SALIENCY_METHODS = (("vanilla", "Vanilla gradient"), ("smoothgrad", "SmoothGrad"), ("ig", "Integrated Gradients"))

EPS_TIPS = {
    "linf": "Largest change allowed for any single pixel value, in [0, 1] units (1 = the whole "
            "black-to-white range). Fractions work: 8/255 means 8 of the 255 grey levels; 0.5/255, 0.03 and "
            "1e-2 too.",
    "l2": "Largest L2 norm of the whole perturbation (all channels and pixels of the model-input "
          "crop together), in [0, 1] pixel units. Grows with image size: about 1 for 224 px, 0.5-2 for 32 px.",
}
# Both norms: what is shown and saved is the 8-bit image inside the budget (core/attacks/quantize.py).
SAVED_TIP = (" The adversarial image shown and saved is 8-bit (whole grey levels) and inside this budget; "
             "below 1/255 no 8-bit change fits, so it equals the clean image.")
EPS_TIPS = {norm: tip + SAVED_TIP for norm, tip in EPS_TIPS.items()}


def default_eps(norm: str, side: int) -> str:
    """Common budgets from the literature: small images get larger ones."""
    small = side <= SMALL_SIDE
    if norm == "linf":
        return "8/255" if small else "4/255"
    return "2.0" if small else "1.0"



def relevant_fields(key: str, saliency_method: str) -> list[str]:
    """The number fields the run ``key`` (an ATTACKS key) uses."""
    return {"fgsm": ["eps"], "pgd-linf": ["eps", "steps", "step_size", "restarts"],
            "pgd-l2": ["eps", "steps", "step_size", "restarts"],
            "spatial-grid": ["max_rotation", "rotations", "max_translation", "translations"],
            "spatial-random": ["max_rotation", "max_translation", "k"],
            "saliency": {"smoothgrad": ["sg_samples", "sg_sigma"], "ig": ["ig_steps"]}.get(saliency_method, [])}[key]


@dataclass
class FieldSpec:
    what: str                        # name used in messages
    integer: bool
    optional: bool                   # empty text -> None (core default)
    check: Callable[[float], object]  # builds a core object: raises ParameterError if illegal


def field_specs(method_norm: Callable[[], tuple[str, str]]) -> dict[str, FieldSpec]:
    """How each number field is checked; ``method_norm()`` gives the attack the budget is for."""
    return {
        "eps": FieldSpec("Epsilon", False, False, lambda v: AttackParams(
            method=method_norm()[0], norm=method_norm()[1], eps=v)),
        "steps": FieldSpec("Steps", True, False, lambda v: AttackParams(steps=v)),
        "step_size": FieldSpec("Step size", False, True, lambda v: AttackParams(step_size=v)),
        # Partner values that pass the cross-field rules: those are checked on the whole object.
        "restarts": FieldSpec("Restarts", True, False, lambda v: AttackParams(restarts=v, random_start=True)),
        "max_rotation": FieldSpec("Maximum rotation", False, False,
                                  lambda v: SpatialParams(max_rotation=v, rotations=1)),
        "rotations": FieldSpec("Rotations", True, False, lambda v: SpatialParams(rotations=v)),
        "max_translation": FieldSpec("Maximum shift", False, True,
                                     lambda v: SpatialParams(max_translation=v, translations=1)),
        "translations": FieldSpec("Shifts", True, False, lambda v: SpatialParams(translations=v)),
        "k": FieldSpec("k", True, False, lambda v: SpatialParams(k=v)),
        "sg_samples": FieldSpec("Samples", True, False, lambda v: SaliencyParams(smoothgrad_samples=v)),
        "sg_sigma": FieldSpec("Noise sigma", False, False, lambda v: SaliencyParams(smoothgrad_sigma=v)),
        "ig_steps": FieldSpec("IG steps", True, True, lambda v: SaliencyParams(ig_steps=v)),
    }
