"""Runs as plain JSON-ready records (``result.json``). The same records feed the figures, the
GUI's export and saved sessions. Their shape is fixed by ``schema/result.schema.json``."""

from __future__ import annotations

import datetime as _dt
import platform
from importlib import metadata

import torch

from visualizer import __version__
from visualizer.core.attacks.params import objective_name

SCHEMA_VERSION = 1
TOP_K = 5


def library_versions() -> dict:
    versions = {"python": platform.python_version()}
    for dist in ("torch", "torchvision", "timm", "numpy", "pillow", "matplotlib", "safetensors"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def top_k(probs: torch.Tensor, class_names: list[str], k: int = TOP_K) -> list[dict]:
    values, indices = probs.float().topk(min(k, probs.numel()))
    return [{"class": int(i), "label": class_names[int(i)], "prob": float(v)} for v, i in zip(values, indices)]


def logit_margin(probs: torch.Tensor, cls: int) -> float:
    """Class ``cls``'s logit minus the largest other logit, from softmax probabilities (C):
    log p_i - log p_j = z_i - z_j. Positive when ``cls`` is the top-1. Probabilities that
    underflowed to 0 count as the smallest float32, which caps |margin| near 87."""
    logp = probs.detach().double().flatten().clamp_min(torch.finfo(torch.float32).tiny).log()
    others = torch.cat([logp[:cls], logp[cls + 1:]])
    return float(logp[cls] - others.max()) if others.numel() else 0.0


def class_scores(probs: torch.Tensor, reference: int, target: int | None) -> dict:
    """What a reader compares between models: the reference (and target) class's
    probability and logit margin."""
    scores = {"reference_prob": float(probs[reference]), "reference_margin": logit_margin(probs, reference)}
    if target is not None:
        scores.update(target_prob=float(probs[target]), target_margin=logit_margin(probs, target))
    return scores


def _header(kind: str, device: str, seed: int | None, wall_time_s: float) -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "tool": {"name": "adversarial-visualizer", "version": __version__},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": library_versions(),
        "device": device,
        "seed": seed,
        "wall_time_s": wall_time_s,
    }


def image_record(image, geometry=None) -> dict:
    rec = {"path": image.path, "sha256": image.sha256, "width": image.width, "height": image.height,
           "notes": list(image.notes)}
    if geometry is not None:
        rec["crop"] = geometry.to_dict()
    return rec


def _norms(delta: torch.Tensor) -> tuple[float, float]:
    d = delta.detach().double().flatten()
    return float(d.abs().max()) if d.numel() else 0.0, float(d.norm(p=2))


def _floats(t: torch.Tensor | None):
    return None if t is None else [float(v) for v in t.detach().float().cpu().flatten()]


def saved_levels(run) -> torch.Tensor:
    """The saved adversarial image minus the clean input in whole 8-bit levels (float64)."""
    return torch.round((run.adversarial_quantized.detach().double() - run.result.clean.detach().double()) * 255)


def quantization_record(run, levels: torch.Tensor) -> dict:
    """How the saved adversarial image was rounded, and whether it is inside the budget, as
    read back from its levels."""
    from visualizer.core.attacks.quantize import within_budget

    params = run.result.params
    return {"within_budget": within_budget(levels, params.norm, params.eps), **run.quantization.record(0)}


def attack_record(run) -> dict:
    r = run.result
    names = run.model.info.class_names
    linf, l2 = _norms(r.perturbation)
    levels = saved_levels(run)
    linf_q, l2_q = (value / 255 for value in _norms(levels))   # exact: whole levels / 255
    rec = _header("attack", str(run.model.device), r.params.seed, r.wall_time_s)
    ref, tgt = run.reference.index, (run.target.index if run.target else None)
    rec.update({
        "model": run.model.info.to_dict(),
        "image": image_record(run.image, run.geometry),
        "parameters": r.params.to_dict(),
        "label": run.reference.to_dict(),
        "target": run.target.to_dict() if run.target else None,
        "clean": {"top5": top_k(run.clean_probs, names), "top5_quantized": top_k(run.clean_probs_quantized, names),
                  **class_scores(run.clean_probs, ref, tgt)},
        "adversarial": {"top5": top_k(run.adv_probs, names), "top5_quantized": top_k(run.adv_probs_quantized, names),
                        **class_scores(run.adv_probs, ref, tgt)},
        "success": bool(r.success[0]),
        "success_quantized": run.success_quantized,
        "perturbation": {"linf": linf, "l2": l2, "linf_quantized": linf_q, "l2_quantized": l2_q},
        "quantization": quantization_record(run, levels),
        "history": {
            "loss": _floats(r.history_loss[:, 0]),
            "loss_name": objective_name(r.params.targeted),
            "reference_prob": _floats(r.history_ref_prob[:, 0]),
            "target_prob": _floats(r.history_target_prob[:, 0]) if r.history_target_prob is not None else None,
        },
        "iterates": r.iterates,
        "cancelled": r.cancelled,
        # The model's own warnings (e.g. not deterministic) and the rounding's, when it cost the success.
        "warnings": list(r.warnings) + run.model.info.warnings() + _rounding_warnings(run),
    })
    return rec


def _rounding_warnings(run) -> list[str]:
    """The rounding note, as a warning when the saved image is not adversarial because of it."""
    note = run.quantization.notes[0]
    return [note] if note and not run.success_quantized else []


def _nested(t: torch.Tensor | None, integer: bool = False):
    """Tensor -> nested lists for JSON; NaN (cells a cancelled sweep never reached) -> null."""
    if t is None:
        return None
    t = t.detach().cpu()
    return t.long().tolist() if integer else _nan_to_none(t.double().tolist())


def _nan_to_none(values):
    if isinstance(values, list):
        return [_nan_to_none(v) for v in values]
    return None if values != values else values


def sweep_record(run) -> dict:
    r = run.result
    names = run.model.info.class_names
    worst_pred = int(r.worst_pred[0])
    rec = _header("sweep", str(run.model.device), r.params.seed, r.wall_time_s)
    sweep = {
        "mode": r.params.mode,
        "rotations": _nested(r.rotations),
        "translations_x": _nested(r.translations_x),
        "translations_y": _nested(r.translations_y),
        "grid_true_prob": _nested(r.true_prob[0]) if r.params.mode == "grid" else None,
        "grid_loss": _nested(r.loss[0]) if r.params.mode == "grid" else None,
        "grid_pred": _nested(r.pred[0], integer=True) if r.params.mode == "grid" else None,
        "samples": _nested(r.samples[0]) if r.samples is not None else None,
        "sample_true_prob": _nested(r.true_prob[0]) if r.params.mode == "random" else None,
        "sample_loss": _nested(r.loss[0]) if r.params.mode == "random" else None,
        "sample_pred": _nested(r.pred[0], integer=True) if r.params.mode == "random" else None,
        "worst": {
            "angle": float(r.worst_transform[0, 0]), "tx": float(r.worst_transform[0, 1]),
            "ty": float(r.worst_transform[0, 2]),
            "pred": worst_pred, "pred_label": names[worst_pred] if worst_pred >= 0 else None,
            "true_prob": _nan_to_none(float(r.worst_true_prob[0])), "loss": _nan_to_none(float(r.worst_loss[0])),
            "fooled": bool(r.fooled[0]),
            "saved": _saved_worst(run, names),
        },
        "fooled_fraction": float(r.fooled_fraction[0]),
        "evaluated": r.evaluated,
    }
    rec.update({
        "model": run.model.info.to_dict(),
        "image": image_record(run.image, run.geometry),
        "parameters": r.params.to_dict(),
        "label": run.reference.to_dict(),
        "clean": {"top5": top_k(run.clean_probs, names)},
        "success": bool(r.fooled[0]),
        "sweep": sweep,
        "cancelled": r.cancelled,
        "warnings": run.model.info.warnings(),
    })
    return rec


def _saved_worst(run, names: list[str]) -> dict | None:
    """The worst transformed image as worst.png holds it (8-bit), re-scored."""
    probs = run.worst_probs_saved
    if probs is None:
        return None
    pred, ref = int(probs.argmax()), run.reference.index
    return {"pred": pred, "pred_label": names[pred], "true_prob": float(probs[ref]), "fooled": pred != ref}


def saliency_record(comparison, models, image, device: str) -> dict:
    rec = _header("saliency", device, comparison.params.seed, comparison.wall_time_s)
    rec.update({
        "models": [m.info.to_dict() for m in models],
        "image": image_record(image),
        "parameters": comparison.params.to_dict(),
        "saliency": {
            "method": comparison.params.method,
            "absolute": comparison.params.absolute,
            "shared_scale": comparison.scale,
            "grid_scale": comparison.grid_scale,
            "maps": [
                {"model": m.model_id, "class": m.reference_class, "label": m.reference_label,
                 "label_source": m.label_source, "own_scale": m.own_scale, "crop": m.geometry.to_dict(),
                 "gradient": m.gradient, "nonfinite_values": m.nonfinite,
                 "completeness": m.completeness.to_dict() if m.completeness is not None else None}
                for m in comparison.maps
            ],
        },
        "cancelled": comparison.cancelled,
        "warnings": [w for m in models for w in m.info.warnings()] + list(comparison.warnings),
    })
    return rec


def saved_outcome(record: dict) -> dict:
    """What an attack record says about its saved adversarial image (the 8-bit one inside the
    budget, adversarial.png): success, top-5, norms ([0, 1] units) and how it was rounded. The
    CLI summary, figures and the window all report this. Records from before the saved image
    was re-scored fall back to the float result's fields."""
    pert = record.get("perturbation") or {}
    adv = record.get("adversarial") or {}
    rounding = record.get("quantization") or {}
    return {
        "success": record.get("success_quantized", record.get("success")),
        "top5": adv.get("top5_quantized") or adv.get("top5") or [],
        "linf": pert.get("linf_quantized", pert.get("linf")),
        "l2": pert.get("l2_quantized", pert.get("l2")),
        "rounding": rounding.get("rounding"),
        "within_budget": rounding.get("within_budget"),
        "note": rounding.get("note"),
    }
