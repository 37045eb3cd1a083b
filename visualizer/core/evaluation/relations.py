"""Confidence intervals and the classic sanity relations of a robustness evaluation.

Stronger attacks at the same budget must not leave more examples standing: AutoAttack <=
APGD <= PGD <= FGSM <= clean accuracy, and accuracy must not rise with epsilon along a
curve. All are measured on the same examples, so "up to noise" is a paired test: with b
examples robust under the stronger attack but broken by the weaker one and c the other way
round, the relation fails only when b > c by more than McNemar's test allows at 95%
(b - c > 1.96 sqrt(b + c)). A failure usually means gradient masking or too few steps.
"""

from __future__ import annotations

import math

import torch

Z95 = 1.959963984540054
# Attack strength within one norm and epsilon (higher: at least as strong).
STRENGTH = {"clean": 0, "fgsm": 1, "pgd": 2, "apgd-ce": 3, "apgd-t": 3, "autoattack": 4}


def wilson_interval(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion correct/n (Wilson 1927); (0, 1) for n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0 and n the bound is exactly 0 (or 1); floating point leaves a speck otherwise.
    return (0.0 if correct == 0 else max(0.0, centre - half)), (1.0 if correct == n else min(1.0, centre + half))


def exceeds_noise(stronger_robust: torch.Tensor, weaker_robust: torch.Tensor) -> tuple[bool, int, int]:
    """(violated, b, c) for "the stronger attack leaves at most as many standing"."""
    b = int((stronger_robust & ~weaker_robust).sum())
    c = int((~stronger_robust & weaker_robust).sum())
    return b - c > max(0.0, Z95 * math.sqrt(b + c)), b, c


def _single_kind(threat) -> str | None:
    kinds = threat.kinds
    return kinds.pop() if len(kinds) == 1 else None


def _pct(robust: torch.Tensor) -> str:
    return f"{100 * float(robust.float().mean()):.1f}%"


def relation_warnings(model_id: str, threats: list, robust: dict[int, torch.Tensor]) -> list[str]:
    """Warnings for one model. ``robust[i]``: N bool, examples threat i left standing (same
    examples, same order, for every threat)."""
    out = []
    single = {i: _single_kind(t) for i, t in enumerate(threats) if i in robust}
    clean = next((i for i, k in single.items() if k == "clean"), None)
    for i, ki in single.items():
        for j, kj in single.items():
            if ki not in STRENGTH or kj not in STRENGTH or STRENGTH[ki] <= STRENGTH[kj]:
                continue
            same_budget = j == clean or (threats[i].norm == threats[j].norm and threats[i].eps == threats[j].eps)
            if not same_budget:
                continue
            bad, b, c = exceeds_noise(robust[i], robust[j])
            if bad:
                out.append(f"{model_id}: {threats[i].text} leaves {_pct(robust[i])} standing, more than the weaker "
                           f"{threats[j].text} ({_pct(robust[j])}; {b} examples survive only the stronger attack, "
                           f"{c} only the weaker, beyond noise): suspect gradient masking or too few steps.")
    curves: dict[str, list[int]] = {}
    for i, t in enumerate(threats):
        if i in robust and t.curve is not None:
            curves.setdefault(t.curve, []).append(i)
    for members in curves.values():
        members.sort(key=lambda i: threats[i].eps)
        for lo, hi in zip(members, members[1:]):
            bad, b, c = exceeds_noise(robust[hi], robust[lo])
            if bad:
                out.append(f"{model_id}: {threats[hi].text} leaves {_pct(robust[hi])} standing, more than the smaller "
                           f"budget {threats[lo].text} ({_pct(robust[lo])}), beyond noise: accuracy should not rise "
                           "with epsilon (gradient masking, or too few steps for the larger budget).")
    return out
