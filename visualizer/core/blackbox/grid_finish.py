"""Keeping a query attack's success on the 8-bit grid, with the oracle's answers alone.

A decision-based attack (HopSkipJump, Chen et al. 2020) ends a hair across the decision
boundary: its binary search stops within a small tolerance of it. Rounding that point to the
8-bit levels a file can hold moves every value by up to half a level, and can carry the image
back across. Gradient-guided rounding (attacks/quantize.py) would use the gradients the threat
model hides, so instead the oracle is asked about the rounded images of
``clean + s * (adversarial - clean)`` for a few scales ``s`` > 1, each kept inside the budget:
one query each, counted in the image's total, and only while the query budget allows.
"""

from __future__ import annotations

import torch

from visualizer.core.attacks.quantize import QuantizedAdversarial, quantize_adversarial
from visualizer.core.attacks.threat import threat_for
from visualizer.core.blackbox.oracle import Oracle

# Each costs one query; the first few cover the usual half-level rounding loss.
SCALES = (1.02, 1.05, 1.1, 1.2, 1.35, 1.5, 2.0)


def keep_success_on_grid(oracle: Oracle, model, clean: torch.Tensor, adversarial: torch.Tensor,
                         labels: torch.Tensor, targets: torch.Tensor | None, norm: str, eps: float
                         ) -> tuple[QuantizedAdversarial | None, int]:
    """The first rounded, in-budget image along the ray from ``clean`` (1 x C x H x W, [0, 1]
    pixels, on the 8-bit grid) through ``adversarial`` (same shape) that the ``oracle`` says
    is adversarial (another class than ``labels``, or the class in ``targets``), and the
    queries spent asking; (None, spent) if none is, or the budget ran out first. ``model``
    only re-scores the chosen image for the record, as for any result."""
    threat = threat_for(norm, eps)
    direction = adversarial - clean
    spent = 0
    for scale in SCALES:
        if oracle.remaining is not None and oracle.remaining < 1:
            break
        candidate = (clean + threat.project_(direction * scale)).clamp_(0, 1)
        rounded = quantize_adversarial(model, clean, candidate, labels, norm, eps, targets, passes=0)
        answer = oracle.top1(rounded.adversarial)
        spent += 1
        fooled = bool(answer[0] == targets[0]) if targets is not None else bool(answer[0] != labels[0])
        if fooled:
            rounded.rounding[0] = f"nearest, perturbation x{scale:g}"
            rounded.notes[0] = (f"Rounded to the nearest 8-bit levels the result fell back across the decision "
                                f"boundary; the rounded image of the perturbation x{scale:g} (inside the budget) "
                                f"is adversarial ({spent} more oracle quer{'y' if spent == 1 else 'ies'}).")
            return rounded, spent
    return None, spent
