"""Which classes an attack may be asked about: requests whose outcome is settled before a
pixel changes are refused (or, where the run still measures something, warned about)
before the attack starts. The CLI, the window's form and ``runs.attack_run`` all call
``check_attack_classes`` so they refuse exactly the same things with the same words.

Rules, and why each is a refusal or a warning:

- Fewer than two classes: argmax is constant, no attack can change it. Refused.
- Targeted, target == reference class (given with --label, or the clean prediction): the
  class the attack moves away from and the one it moves towards are the same. Refused.
- Targeted, target == the clean prediction (reference given and different): the model
  already outputs the target, so "success" is true at step 0 with no perturbation. Refused.
- Untargeted, reference given and the clean image already misclassified: "success" is
  true at step 0, but pushing the true class further down is still a legitimate
  measurement (how far is the image from being classified correctly?). Warned.

Class names or indices outside the model's label set are refused earlier, by
``models.wrapper.class_index``.
"""

from __future__ import annotations

from typing import Sequence

from visualizer.core.errors import ParameterError


def _name(names: Sequence[str], index: int) -> str:
    return f"{index} ({names[index]})" if 0 <= index < len(names) and str(names[index]) != str(index) else str(index)


def check_attack_classes(names: Sequence[str], prediction: int | None, reference: int | None,
                         reference_given: bool, target: int | None) -> list[str]:
    """Refuse a contradictory class request; return warnings for a legal but trivial one.

    names: the model's class names; prediction: its clean top-1 class (None if not known
    yet: the checks needing it are skipped); reference: the class the attack moves away
    from (the given label, else the prediction); reference_given: whether the user chose
    it; target: the target class of a targeted attack, else None.

    Raises ParameterError with the reason.
    """
    if len(names) < 2:
        raise ParameterError(f"This model has {len(names)} class: its prediction can never change, so there "
                             "is nothing to attack.")
    if reference is None:
        reference = prediction
    if target is not None:
        if reference is not None and target == reference:
            source = "the reference class you chose" if reference_given else "the model's clean prediction"
            raise ParameterError(f"The target {_name(names, target)} is {source}: a targeted attack must aim at "
                                 "a different class than the one it moves away from. Choose another target.")
        if prediction is not None and target == prediction:
            raise ParameterError(f"The model already classifies the clean image as the target "
                                 f"{_name(names, target)}: the attack would succeed without changing a pixel. "
                                 "Choose another target.")
        return []
    if reference_given and prediction is not None and reference != prediction:
        return [f"The model already misclassifies the clean image (it predicts {_name(names, prediction)}, the "
                f"reference class is {_name(names, reference)}): the untargeted attack succeeds at step 0, and "
                "its success says nothing about robustness."]
    return []
