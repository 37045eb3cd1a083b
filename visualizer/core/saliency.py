"""Input-gradient saliency: vanilla gradient, SmoothGrad and Integrated Gradients of the
reference class's logit, for one or several models on one shared colour scale.

Maps are the signed gradient summed over colour channels (absolute value as an option).
To compare models that crop and resize differently, each map is resampled onto the
original image before the shared scale is computed.

Every map is checked, as the attack loop checks its gradients: NaN or infinite values, or a
gradient that is exactly zero everywhere, give a warning and a map state ("nan" / "zero")
that the figure and the window draw as such instead of as a map; neither enters the shared
scale. Integrated Gradients also reports its completeness gap (core/integrated_gradients.py).
"""

from __future__ import annotations

import math

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Generator

import numpy as np
import torch

from visualizer.core.cancel import CancelToken, is_cancelled
from visualizer.core.errors import ParameterError
from visualizer.core.integrated_gradients import Completeness, integrated_gradients, score_and_gradient

METHODS = ("vanilla", "smoothgrad", "ig")
# The shared scale is this percentile of |map| pooled over all models: one outlier pixel
# should not wash out every map.
SCALE_PERCENTILE = 99.5


MAX_IG_STEPS = 16384   # the adaptive rule stops at 1024; 16x that is far past any useful gap


@dataclass(frozen=True)
class SaliencyParams:
    """``ig_steps``: trapezoid intervals on the path from a black image; None (the default)
    doubles them from 32 until the completeness gap is below 5 % or 1024 is reached."""

    method: str = "vanilla"
    absolute: bool = False
    smoothgrad_samples: int = 50
    smoothgrad_sigma: float = 0.15      # fraction of the [0, 1] pixel range
    ig_steps: int | None = None         # None: adaptive (core/integrated_gradients.py)
    batch_size: int = 16                # noisy copies / path points per forward pass
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ParameterError(f"Unknown saliency method {self.method!r}; choose one of {', '.join(METHODS)}.")
        if self.ig_steps is not None and not 1 <= self.ig_steps <= MAX_IG_STEPS:
            # 1e9 steps used to run for hours, deaf to Ctrl-C for minutes.
            raise ParameterError(f"IG steps must be between 1 and {MAX_IG_STEPS} (or left out for the adaptive "
                                 f"rule), not {self.ig_steps}.")
        if self.smoothgrad_samples < 1 or self.batch_size < 1:
            raise ParameterError("Sample and batch counts must be at least 1.")
        if not self.smoothgrad_sigma >= 0:
            raise ParameterError("SmoothGrad sigma must be >= 0.")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SaliencyProgress:
    done: int
    total: int


def class_score_gradient(model: Callable, x: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """d logit[class] / d input for a batch (N x C x H x W)."""
    return score_and_gradient(model, x, classes)[1]


def saliency_steps(
    model: Callable, images: torch.Tensor, classes: torch.Tensor, params: SaliencyParams,
    cancel: CancelToken | None = None,
) -> Generator[SaliencyProgress, None, tuple[torch.Tensor, list[Completeness] | None] | None]:
    """(maps N x H x W, IG's completeness per image or None for the other methods) for a batch
    of model-input images. Returns None if cancelled."""
    x = images.detach()
    n = x.shape[0]
    if params.method == "vanilla":
        grad = class_score_gradient(model, x, classes)
        yield SaliencyProgress(1, 1)
        return _reduce(grad, params), None

    if params.method == "ig":
        gen = integrated_gradients(model, x, classes, params.ig_steps, params.batch_size, cancel)
        while True:
            try:
                done, total = next(gen)
            except StopIteration as stop:
                if stop.value is None:
                    return None
                attributions, completeness = stop.value
                return _reduce(attributions, params), completeness
            yield SaliencyProgress(done, total)

    total = params.smoothgrad_samples
    gen = torch.Generator().manual_seed(int(params.seed))
    acc = torch.zeros_like(x)
    done = 0
    while done < total:
        if is_cancelled(cancel):
            return None
        m = min(params.batch_size, total - done)
        noise = torch.randn((m, *x.shape), generator=gen, dtype=x.dtype).to(x.device) * params.smoothgrad_sigma
        batch = x.unsqueeze(0) + noise
        grads = class_score_gradient(model, batch.reshape(m * n, *x.shape[1:]), classes.repeat(m))
        acc += grads.view(m, *x.shape).sum(dim=0)
        done += m
        yield SaliencyProgress(done, total)
    return _reduce(acc / total, params), None


def _reduce(grad: torch.Tensor, params: SaliencyParams) -> torch.Tensor:
    summed = grad.sum(dim=1)
    return summed.abs() if params.absolute else summed


def shared_scale(maps: list[np.ndarray], percentile: float = SCALE_PERCENTILE) -> float:
    """One symmetric limit for all maps (NaN outside crops ignored); never zero."""
    values = np.concatenate([np.abs(m[np.isfinite(m)]).ravel() for m in maps]) if maps else np.zeros(1)
    if values.size == 0:
        return 1.0
    scale = float(np.percentile(values, percentile))
    if scale <= 0:
        scale = float(values.max())
    return scale if scale > 0 else 1.0


# A map whose own scale is under this fraction of the shared one is nearly blank on the shared
# scale (a robust model's beside a standard one's): views and figures repeat it on its own.
FAINT = 1 / 3


def faint_maps(entries: list[dict], shared: float) -> list[int]:
    """Indices of the record's maps (``record["saliency"]["maps"]``) too faint on the shared
    scale ``shared`` to show their structure: own scale < FAINT x shared, gradient ok."""
    faint = []
    for i, entry in enumerate(entries):
        try:
            own = float(entry.get("own_scale"))
        except (TypeError, ValueError):
            continue
        if entry.get("gradient", "ok") == "ok" and math.isfinite(own) and 0 < own < FAINT * shared:
            faint.append(i)
    return faint


GRADIENT_STATES = ("ok", "nan", "zero")


def gradient_state(map_input: np.ndarray) -> tuple[str, int]:
    """("nan", count) when any value is NaN or infinite, ("zero", 0) when every value is
    exactly zero, else ("ok", 0). ``map_input`` is the model-input map (no crop NaN there)."""
    bad = int(np.count_nonzero(~np.isfinite(map_input)))
    if bad:
        return "nan", bad
    return ("zero" if not np.any(map_input) else "ok"), 0


@dataclass
class ModelSaliency:
    model_id: str
    reference_class: int
    reference_label: str
    label_source: str              # "given" | "predicted"
    map_input: np.ndarray          # S x S on the model-input crop
    map_original: np.ndarray       # on the original image (grid_scale finer), NaN outside the crop
    own_scale: float               # this model's own percentile scale, for reference
    geometry: object
    gradient: str = "ok"           # one of GRADIENT_STATES
    nonfinite: int = 0             # NaN or infinite values of map_input
    completeness: Completeness | None = None     # Integrated Gradients only

    @property
    def warnings(self) -> list[str]:
        """What a reader of this map must know: broken gradients, IG off its completeness."""
        who = f"{self.model_id} ({self.reference_label})"
        found = []
        if self.gradient == "nan":
            found.append(f"{who}: the saliency gradient is NaN or infinite at {self.nonfinite} of "
                         f"{self.map_input.size} values; no map is drawn for it and it is left out of the shared scale.")
        elif self.gradient == "zero":
            found.append(f"{who}: the saliency gradient is exactly zero everywhere: the model may be "
                         "non-differentiable or saturated (gradient masking). A blank map shows no sensitivity "
                         "to measure, not robustness.")
        c = self.completeness
        if c is not None and self.gradient != "nan" and not c.converged:
            gap = "undefined" if c.gap is None else f"{100 * c.gap:.1f}%"
            more = "raise the steps (--ig-steps or the IG steps field)" if not c.adaptive else \
                "even at the adaptive rule's cap; set more steps (--ig-steps)"
            found.append(f"{who}: Integrated Gradients misses completeness by {gap} at {c.steps} steps "
                         f"(the map sums to {c.attribution_sum:.4g}, f(image) - f(black) = {c.logit_difference:.4g}); "
                         f"{more}.")
        return found


@dataclass
class SaliencyComparison:
    params: SaliencyParams
    maps: list[ModelSaliency]
    scale: float                   # the shared symmetric limit
    cancelled: bool
    wall_time_s: float
    grid_scale: int = 1            # map_original is on the original grid made this many times finer
    warnings: list[str] = field(default_factory=list)


MAX_GRID_SCALE = 16


def comparison_grid_scale(models: list, image) -> int:
    """How much finer than the original image the shared grid must be so no model's map
    loses detail (an 8 x 8 scan seen by a 32 px model needs 4x; a photo needs 1x)."""
    import math

    from visualizer.core.images import preprocess

    scale = 1
    for model in models:
        _, geometry = preprocess(image, model.info.preprocessing)
        left, top, right, bottom = geometry.box_in_original()
        side = min(right - left, bottom - top)
        scale = max(scale, math.ceil(model.info.preprocessing.input_size / max(side, 1e-6) - 1e-9))
    return int(min(scale, MAX_GRID_SCALE))


def upscale_image(pixels: np.ndarray, scale: int) -> np.ndarray:
    """H x W x C -> (H*scale) x (W*scale) x C by pixel repetition (the pixels are what they are)."""
    return pixels if scale == 1 else np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)


def compare_saliency(models: list, image, params: SaliencyParams, label: str | int | None = None,
                     cancel: CancelToken | None = None) -> Generator[SaliencyProgress, None, SaliencyComparison]:
    """Saliency of every model on one LoadedImage, resampled to the image and put on one scale.
    ``label`` (index or name) is resolved against each model's classes; None -> each model's top-1."""
    from visualizer.core.images import map_to_original, preprocess
    from visualizer.core.models.wrapper import class_index

    started = time.perf_counter()
    results: list[ModelSaliency] = []
    grid_scale = comparison_grid_scale(models, image)

    def comparison(cancelled: bool) -> SaliencyComparison:
        # Cancelled: the models finished so far, on their own shared scale. Broken maps
        # (NaN, all zero) would drag the scale to nothing: they stay out of it.
        scale = shared_scale([r.map_original for r in results if r.gradient == "ok"])
        return SaliencyComparison(params, results, scale, cancelled, time.perf_counter() - started, grid_scale,
                                  [w for r in results for w in r.warnings])

    for i, model in enumerate(models):
        if is_cancelled(cancel):
            # Checked per model as well: a vanilla map is one step with no check of its own,
            # so "run on all models" would otherwise go on through every remaining model.
            return comparison(True)
        info = model.info
        x, geometry = preprocess(image, info.preprocessing)
        x = x.to(model.device)
        if label is None:
            with torch.no_grad():
                cls = int(model(x).argmax(dim=1))
            source = "predicted"
        else:
            cls = class_index(label, info.class_names)
            source = "given"
        gen = saliency_steps(model, x, torch.tensor([cls], device=model.device), params, cancel)
        while True:
            try:
                progress = next(gen)
            except StopIteration as stop:
                outcome = stop.value
                break
            yield SaliencyProgress(i * 1000 + int(1000 * progress.done / progress.total), 1000 * len(models))
        if outcome is None:
            return comparison(True)
        maps, completeness = outcome
        m_in = maps[0].detach().float().cpu().numpy()
        m_orig = map_to_original(m_in, geometry, scale=grid_scale)
        state, nonfinite = gradient_state(m_in)
        results.append(ModelSaliency(info.model_id, cls, info.class_names[cls], source, m_in, m_orig,
                                     shared_scale([m_orig]) if state == "ok" else 0.0, geometry, state, nonfinite,
                                     completeness[0] if completeness else None))
    return comparison(False)
