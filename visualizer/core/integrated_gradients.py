"""Integrated Gradients from a black baseline, with its completeness check.

IG_i(x) = (x_i - b_i) * integral over a in [0, 1] of d f(b + a (x - b)) / d x_i, with the
baseline b = 0 (a black image) and f the class logit (Sundararajan, Taly, Yan 2017,
"Axiomatic Attribution for Deep Networks"). Completeness says sum_i IG_i = f(x) - f(b); a
quadrature with too few points breaks it, and the relative completeness gap
``|sum IG - (f(x) - f(b))| / |f(x) - f(b)|`` says by how much.

The integral uses the trapezoid rule on n equal intervals (n + 1 gradients, both ends of the
path included). Doubling n only adds the midpoints of the current intervals, so the adaptive
rule (``steps=None``) keeps every gradient it has computed: it starts at ``START_STEPS`` and
doubles until every image's gap is below ``TOLERANCE`` or n reaches ``MAX_STEPS``; the n it
stops at costs n + 1 gradients in all. Why it is needed: on lite0 with flower.jpg the path
integrand swings between -145 and +309 in the first fifth of the path (near-black images), so
a fixed 64 steps misses completeness by 58 % here (70 % with midpoints), 256 steps by 1 %.

captum's IntegratedGradients computes the same quantity (tests check ours against it), but
each ``attribute`` call runs start to finish: no progress events, no cancel between batches,
and doubling the steps would recompute every earlier gradient.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable, Generator

import torch

from visualizer.core.cancel import CancelToken, is_cancelled

TOLERANCE = 0.05         # relative completeness gap above which a map is flagged
START_STEPS = 32
MAX_STEPS = 1024         # the adaptive rule's cap (1025 gradients per image at most)


@dataclass(frozen=True)
class Completeness:
    """How well one image's attributions add up to the logit difference they explain."""

    attribution_sum: float       # sum of IG over pixels and channels
    logit_difference: float      # f(x) - f(black), the explained class's logit
    gap: float | None            # relative gap; None when f(x) = f(black) but the sum is not 0
    steps: int                   # trapezoid intervals used
    adaptive: bool               # steps chosen by the doubling rule
    tolerance: float = TOLERANCE

    @property
    def converged(self) -> bool:
        return self.gap is not None and self.gap <= self.tolerance

    def to_dict(self) -> dict:
        """JSON-ready: a NaN sum (NaN gradients) becomes None."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


def relative_gap(attribution_sum: float, logit_difference: float) -> float | None:
    error = abs(attribution_sum - logit_difference)
    if not math.isfinite(error):
        return None
    if logit_difference == 0:
        return 0.0 if error == 0 else None
    return error / abs(logit_difference)


def score_and_gradient(model: Callable, x: torch.Tensor, classes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(logit[class] per image (N), d logit[class] / d input (N x C x H x W)) for a batch."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        logits = model(x)
        scores = logits.gather(1, classes.view(-1, 1).to(logits.device)).squeeze(1)
        (grad,) = torch.autograd.grad(scores.sum(), x)
    return scores.detach(), grad


@dataclass
class _Path:
    """Gradients gathered along the path so far, per image: the two ends and the inside."""

    ends: torch.Tensor           # g(0) + g(1), N x C x H x W
    inside: torch.Tensor         # sum of g(a) over the interior points
    f_black: torch.Tensor        # N
    f_image: torch.Tensor        # N


def integrated_gradients(
    model: Callable, x: torch.Tensor, classes: torch.Tensor, steps: int | None = None, batch_size: int = 16,
    cancel: CancelToken | None = None,
) -> Generator[tuple[int, int], None, tuple[torch.Tensor, list[Completeness]] | None]:
    """IG of ``classes`` for images ``x`` (N x C x H x W, pixels in [0, 1]) from a black image.

    ``steps``: trapezoid intervals, or None for the adaptive rule (module docstring). Yields
    (gradients done, gradients the current number of steps needs) after each batch of
    ``batch_size`` path points (the second number doubles when the rule doubles the steps),
    checks ``cancel`` before each batch, and returns (attributions N x C x H x W, one
    Completeness per image), or None if cancelled.
    """
    x = x.detach()
    n = int(steps) if steps is not None else START_STEPS
    cap = n if steps is not None else max(MAX_STEPS, n)
    path = _Path(torch.zeros_like(x), torch.zeros_like(x), torch.zeros(x.shape[0]), torch.zeros(x.shape[0]))
    alphas = torch.linspace(0.0, 1.0, n + 1, dtype=torch.float64)
    done = 0
    while True:
        for start in range(0, len(alphas), batch_size):
            if is_cancelled(cancel):
                return None
            done += _add_points(model, x, classes, alphas[start:start + batch_size], path)
            yield done, n + 1
        attributions = x * (path.ends / 2 + path.inside) / n
        sums = attributions.flatten(1).sum(dim=1).double().cpu()
        diffs = (path.f_image - path.f_black).double()
        report = [Completeness(float(s), float(d), relative_gap(float(s), float(d)), n, steps is None)
                  for s, d in zip(sums, diffs)]
        broken = not bool(torch.isfinite(sums).all())     # NaN gradients: more steps cannot help
        if steps is not None or broken or n >= cap or all(c.converged for c in report):
            break
        alphas = (torch.arange(n, dtype=torch.float64) + 0.5) / n    # the midpoints: n new points
        n *= 2
    return attributions, report


def _add_points(model: Callable, x: torch.Tensor, classes: torch.Tensor, alphas: torch.Tensor, path: _Path) -> int:
    """Gradients at the path points ``alphas`` (float64, for exact 0 and 1), added to ``path``."""
    m, n = len(alphas), x.shape[0]
    a = alphas.to(x.dtype).to(x.device).view(m, 1, 1, 1, 1)
    batch = (a * x.unsqueeze(0)).reshape(m * n, *x.shape[1:])     # black baseline: b + a (x - b) = a x
    scores, grads = score_and_gradient(model, batch, classes.repeat(m))
    grads, scores = grads.view(m, *x.shape), scores.view(m, n).double().cpu()
    for i, alpha in enumerate(alphas.tolist()):
        if alpha in (0.0, 1.0):
            path.ends += grads[i]
            if alpha == 0.0:
                path.f_black = scores[i]
            else:
                path.f_image = scores[i]
        else:
            path.inside += grads[i]
    return m
