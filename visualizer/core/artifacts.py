"""What a finished run leaves behind, in one form for the CLI's output folder, the GUI's
export and saved sessions: its JSON record, images to save losslessly, raw arrays, and the
matching publication figure (rebuilt from record + arrays alone, so a reopened session can
export it again without recomputing anything)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from visualizer.core.results import attack_record, saliency_record, sweep_record


@dataclass
class Artifacts:
    record: dict
    arrays: dict[str, np.ndarray]                          # saved as NAME.npy (float32)
    images: dict[str, np.ndarray] = field(default_factory=dict)   # C x H x W in [0, 1], saved as NAME.png
    # An attack's kept iterates (core/attacks/iterates.py) for looking through the run in the
    # window: neither exported nor saved in sessions.
    iterates: object | None = None

    def figure(self, overlay: bool = False):
        return figure_for(self.record, self.arrays, overlay=overlay)


def attack_artifacts(run) -> Artifacts:
    record = attack_record(run)
    clean = run.result.clean[0].detach().cpu().numpy()
    # The adversarial example everywhere (files, figures, window, sessions) is the 8-bit image
    # inside the budget that "top5_quantized" describes; the attack's float result is kept
    # as adversarial_float.npy only.
    adv = run.adversarial_quantized[0].detach().cpu().numpy()
    delta = adv - clean
    amp = float(np.abs(delta).max()) or 1.0
    return Artifacts(
        record=record,
        arrays={"clean": clean, "adversarial": adv, "perturbation": delta,
                "adversarial_float": run.result.adversarial[0].detach().cpu().numpy()},
        # The perturbation image is amplified around mid-grey (0.5 = no change).
        images={"clean": clean, "adversarial": adv, "perturbation": 0.5 + delta / (2 * amp)},
        iterates=getattr(run, "iterates", None),
    )


def sweep_artifacts(run) -> Artifacts:
    r = run.result
    clean = run.clean[0].detach().cpu().numpy()
    worst = r.worst_images[0].detach().cpu().numpy()
    return Artifacts(
        record=sweep_record(run),
        arrays={"clean": clean, "worst": worst, "true_prob": r.true_prob[0].numpy(), "loss": r.loss[0].numpy(),
                "pred": r.pred[0].numpy()},
        images={"clean": clean, "worst": worst},
    )


def saliency_artifacts(comparison, models, image) -> Artifacts:
    from visualizer.core.saliency import upscale_image

    record = saliency_record(comparison, models, image, str(models[0].device))
    # The image on the maps' grid (the original, finer by grid_scale when models see it at
    # a higher resolution than it has).
    pixels = upscale_image(image.pixels, comparison.grid_scale).transpose(2, 0, 1)
    arrays = {"image": pixels}
    for i, m in enumerate(comparison.maps):
        arrays[f"saliency_{i}"] = m.map_original
        arrays[f"saliency_{i}_input"] = m.map_input
        record["saliency"]["maps"][i]["file"] = f"saliency_{i}.npy"
    return Artifacts(record=record, arrays=arrays, images={"image": pixels})


def saliency_maps(record: dict, arrays: dict) -> list[np.ndarray]:
    return [arrays[f"saliency_{i}"] for i in range(len(record["saliency"]["maps"]))]


def saliency_without(artifacts: Artifacts, index: int) -> Artifacts | None:
    """The saliency comparison without its ``index``-th map (that model was removed), the
    shared scale recomputed from the maps left; None when none is left."""
    import copy

    from visualizer.core.saliency import shared_scale

    record = copy.deepcopy(artifacts.record)
    maps = record["saliency"]["maps"]
    keep = [i for i in range(len(maps)) if i != index]
    if not keep:
        return None
    arrays = {"image": artifacts.arrays["image"]}
    for new, old in enumerate(keep):
        arrays[f"saliency_{new}"] = artifacts.arrays[f"saliency_{old}"]
        arrays[f"saliency_{new}_input"] = artifacts.arrays[f"saliency_{old}_input"]
        maps[old]["file"] = f"saliency_{new}.npy"
    record["saliency"]["maps"] = [maps[i] for i in keep]
    if index < len(record.get("models") or []):
        del record["models"][index]
    record["saliency"]["shared_scale"] = shared_scale([arrays[f"saliency_{i}"] for i in range(len(keep))])
    return Artifacts(record=record, arrays=arrays, images=dict(artifacts.images))


def figure_for(record: dict, arrays: dict, overlay: bool = False):
    from visualizer.core.figures import attack_figure, saliency_figure, sweep_figure

    kind = record["kind"]
    if kind == "attack":
        return attack_figure(record, arrays["clean"], arrays["adversarial"])
    if kind == "sweep":
        return sweep_figure(record, arrays["clean"], arrays["worst"])
    if kind == "saliency":
        return saliency_figure(record, arrays["image"].transpose(1, 2, 0), saliency_maps(record, arrays), overlay=overlay)
    raise ValueError(f"unknown run kind {kind!r}")
