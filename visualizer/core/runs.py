"""One attack, sweep or saliency comparison on one image, from loaded model + loaded image to
a typed run object: the unit the GUI shows, the CLI writes and sessions store.

Each ``*_run`` is a generator (progress events out, the run object as its return value), so
the GUI worker and the CLI's progress bar drive exactly the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generator

import torch

from visualizer.core.attacks import AttackParams, AttackResult, AttackStep, attack_steps, mapped
from visualizer.core.attacks.class_checks import check_attack_classes
from visualizer.core.attacks.iterates import KeptIterates
from visualizer.core.attacks.spatial import SpatialParams, SweepProgress, SweepResult, spatial_sweep
from visualizer.core.cancel import CancelToken
from visualizer.core.errors import ParameterError
from visualizer.core.attacks.quantize import QuantizedAdversarial, quantize_adversarial
from visualizer.core.images import CropGeometry, LoadedImage, preprocess, quantize_8bit
from visualizer.core.models.wrapper import ClassifierModel, class_index


@dataclass
class ClassRef:
    index: int
    label: str
    source: str        # "given" | "predicted"

    def to_dict(self) -> dict:
        return {"class": self.index, "label": self.label, "source": self.source}


@dataclass
class AttackRun:
    model: ClassifierModel
    image: LoadedImage
    geometry: CropGeometry
    reference: ClassRef
    target: ClassRef | None
    clean_probs: torch.Tensor          # C; the clean input is already 8-bit (model_input.preprocess)
    clean_probs_quantized: torch.Tensor
    adversarial_quantized: torch.Tensor  # 1 x C x H x W, 8-bit levels inside the budget: what files hold
    adv_probs: torch.Tensor            # C, of the attack's float result
    adv_probs_quantized: torch.Tensor  # C, of adversarial_quantized
    result: AttackResult
    quantization: QuantizedAdversarial  # how adversarial_quantized was rounded
    iterates: KeptIterates | None = None   # when asked for (``keep_iterates``)

    @property
    def success_quantized(self) -> bool:
        pred = int(self.adv_probs_quantized.argmax())
        if self.target is not None:
            return pred == self.target.index
        return pred != self.reference.index


@dataclass
class SweepRun:
    model: ClassifierModel
    image: LoadedImage
    geometry: CropGeometry
    reference: ClassRef
    clean_probs: torch.Tensor
    clean: torch.Tensor                # 1 x C x H x W model input
    result: SweepResult
    worst_probs_saved: torch.Tensor | None = None   # C, of the worst image as worst.png holds it (8-bit)


@torch.no_grad()
def class_probabilities(model: ClassifierModel, x: torch.Tensor) -> torch.Tensor:
    return model(x.to(model.device)).float().softmax(dim=1).cpu()


def resolve_reference(model: ClassifierModel, probs: torch.Tensor, label: str | int | None) -> ClassRef:
    names = model.info.class_names
    if label is None or str(label).strip() == "":
        idx = int(probs[0].argmax())
        return ClassRef(idx, names[idx], "predicted")
    idx = class_index(label, names)
    return ClassRef(idx, names[idx], "given")


def _attack_classes(model: ClassifierModel, clean_probs: torch.Tensor, params: AttackParams,
                    label: str | int | None, target: str | int | None) -> tuple[ClassRef, ClassRef | None, list[str]]:
    """Reference and target classes, checked (class_checks.py); warnings for the record."""
    reference = resolve_reference(model, clean_probs, label)
    target_ref = None
    if params.targeted or target is not None:
        if target is None:
            raise ParameterError("A targeted attack needs a target class (--target).")
        idx = class_index(target, model.info.class_names)
        target_ref = ClassRef(idx, model.info.class_names[idx], "given")
    warnings = check_attack_classes(model.info.class_names, int(clean_probs[0].argmax()), reference.index,
                                    reference.source == "given", target_ref.index if target_ref else None)
    return reference, target_ref, warnings


def check_attack_request(model: ClassifierModel, image: LoadedImage, params: AttackParams,
                         label: str | int | None = None, target: str | int | None = None) -> list[str]:
    """What ``attack_run`` would refuse (ParameterError), found with one forward pass and no
    attack, so a command attacking several models can refuse before attacking the first.
    Returns the class warnings the run would record."""
    x, _ = preprocess(image, model.info.preprocessing)
    return _attack_classes(model, class_probabilities(model, x.to(model.device)), params, label, target)[2]


def attack_run(model: ClassifierModel, image: LoadedImage, params: AttackParams, label: str | int | None = None,
               target: str | int | None = None, cancel: CancelToken | None = None,
               report_images: bool = False, keep_iterates: int = 0) -> Generator[AttackStep, None, AttackRun]:
    """``keep_iterates``: a memory budget in bytes for keeping the iterates (see
    attacks/iterates.py); 0 keeps none."""
    x, geometry = preprocess(image, model.info.preprocessing)
    x = x.to(model.device)
    clean_probs = class_probabilities(model, x)
    reference, target_ref, class_warnings = _attack_classes(model, clean_probs, params, label, target)
    if target_ref is not None:
        params = AttackParams(**{**params.to_dict(), "targeted": True})
    labels = torch.tensor([reference.index], device=model.device)
    targets = torch.tensor([target_ref.index], device=model.device) if target_ref else None
    steps = attack_steps(model, x, labels, params, targets, cancel, report_images or keep_iterates > 0)
    kept = KeptIterates(x, keep_iterates) if keep_iterates > 0 else None
    result = yield from (mapped(steps, lambda e: kept.add(e) or e) if kept is not None else steps)
    result.warnings[:0] = class_warnings
    # What a file can hold: the result on the clean input's 8-bit grid, inside the same ball.
    quantized = quantize_adversarial(model, x, result.adversarial, labels, result.params.norm, result.params.eps,
                                     targets, float_success=result.success)
    adv_q = quantized.adversarial
    return AttackRun(
        model=model, image=image, geometry=geometry, reference=reference, target=target_ref,
        clean_probs=clean_probs[0], clean_probs_quantized=clean_probs[0],
        adversarial_quantized=adv_q, adv_probs=class_probabilities(model, result.adversarial)[0],
        adv_probs_quantized=class_probabilities(model, adv_q)[0], result=result, quantization=quantized,
        iterates=kept,
    )


def sweep_run(model: ClassifierModel, image: LoadedImage, params: SpatialParams, label: str | int | None = None,
              cancel: CancelToken | None = None) -> Generator[SweepProgress, None, SweepRun]:
    params.check_fits(model.info.preprocessing.input_size, f"{model.info.model_id}'s input")
    x, geometry = preprocess(image, model.info.preprocessing)
    x = x.to(model.device)
    clean_probs = class_probabilities(model, x)
    reference = resolve_reference(model, clean_probs, label)
    labels = torch.tensor([reference.index], device=model.device)
    result = yield from spatial_sweep(model, x, labels, params, cancel)
    # The sweep scores float transforms; worst.png holds 8 bits: score that too.
    saved = class_probabilities(model, quantize_8bit(result.worst_images))[0]
    return SweepRun(model, image, geometry, reference, clean_probs[0], x.detach().cpu(), result, saved)
