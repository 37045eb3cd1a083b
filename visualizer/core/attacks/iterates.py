"""Iterates of a gradient attack kept for looking at afterwards (the window's "scrub through
the attack"), within a memory budget.

A kept iterate holds its perturbation delta = x_t - x0 as float16 (N x C x H x W): |delta|
is at most a few tenths, where float16 resolves about 1e-4, far below one grey level
(1/255 = 0.0039), at half the memory of float32; and its top-k, loss and success.

The budget bounds the images: at most ``capacity`` iterates are kept. When one more would
not fit, every other kept iterate is dropped and only every (doubled) ``stride``-th is kept
from then on, so the kept iterates stay evenly spaced over the whole run, however long.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from visualizer.core.attacks.result import AttackStep

__all__ = ["DEFAULT_MAX_BYTES", "KeptIterate", "KeptIterates"]

DEFAULT_MAX_BYTES = 32 * 2**20    # about 110 iterates of a 224 x 224 RGB input, every one of a 32 px digit run


@dataclass(frozen=True)
class KeptIterate:
    index: int                 # 0-based over all restarts (AttackStep.done - 1): the history's x
    restart: int
    step: int                  # 0 = the starting point of its restart
    delta: np.ndarray          # N x C x H x W float16: this iterate minus the clean input
    topk_prob: np.ndarray      # N x k float32
    topk_class: np.ndarray     # N x k int64
    loss: np.ndarray           # N float32: the attack's objective (see AttackResult)
    success: np.ndarray        # N bool

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.delta, self.topk_prob, self.topk_class, self.loss, self.success))


class KeptIterates:
    """Feed it every ``AttackStep`` of one attack (made with ``report_images=True``) through
    ``add``; ask for the iterate nearest an index with ``nearest``.

    ``clean``: the attack's N x C x H x W input in [0, 1]. ``max_bytes``: the budget for the
    kept iterates (at least two are always kept)."""

    def __init__(self, clean: torch.Tensor, max_bytes: int = DEFAULT_MAX_BYTES):
        self._clean_device = clean.detach()
        self.clean = clean.detach().float().cpu().numpy()       # N x C x H x W float32
        per_iterate = self.clean.size * 2 + self.clean.shape[0] * 64    # float16 delta + top-k and scalars
        self.capacity = max(2, int(max_bytes) // per_iterate)
        self.stride = 1
        self.seen = 0                    # iterates offered so far
        self._kept: dict[int, KeptIterate] = {}

    def add(self, step: AttackStep) -> None:
        """Keep ``step`` if it falls on the stride (thinning the kept ones when full)."""
        if step.adversarial is None:
            raise ValueError("keeping iterates needs the attack's images: run it with report_images=True")
        index = step.done - 1
        self.seen = max(self.seen, index + 1)
        if index % self.stride:
            return
        if len(self._kept) >= self.capacity:
            self.stride *= 2
            self._kept = {i: it for i, it in self._kept.items() if i % self.stride == 0}
            if index % self.stride:
                return
        delta = (step.adversarial.detach() - self._clean_device).to(device="cpu", dtype=torch.float16)
        self._kept[index] = KeptIterate(
            index=index, restart=step.restart, step=step.step, delta=delta.numpy(),
            topk_prob=step.topk_prob.detach().float().cpu().numpy(),
            topk_class=step.topk_class.detach().long().cpu().numpy(),
            loss=step.loss.detach().float().cpu().numpy(), success=step.success.detach().cpu().numpy())

    def indices(self) -> list[int]:
        """The kept iterates' indices, ascending."""
        return sorted(self._kept)

    def __len__(self) -> int:
        return len(self._kept)

    def nearest(self, index: float) -> KeptIterate | None:
        """The kept iterate closest to ``index`` (the earlier one on a tie); None if none."""
        if not self._kept:
            return None
        best = min(self._kept, key=lambda i: (abs(i - index), i))
        return self._kept[best]

    def adversarial(self, iterate: KeptIterate, example: int = 0) -> np.ndarray:
        """C x H x W float32 in [0, 1]: the image the attack evaluated at ``iterate``."""
        image = self.clean[example] + iterate.delta[example].astype(np.float32)
        return np.clip(image, 0.0, 1.0)

    @property
    def nbytes(self) -> int:
        """Memory held by the kept iterates (the clean copy not counted)."""
        return sum(it.nbytes for it in self._kept.values())
