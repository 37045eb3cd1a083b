"""How many transforms the spatial sweep puts in one forward pass.

Bigger is not always faster. On a GPU, images per second climb with the batch until the
device is busy; on a CPU they can fall beyond a few images (with glibc's default
allocator, EfficientNet-Lite0 on 2 cores ran at 13 ms per image alone and 40-70 ms per
image in batches of 64; with core/allocator.py's settings larger batches keep up). So the
size is measured, not assumed: it doubles while throughput keeps up and a chunk stays
within the time budget (progress and cancel answer about twice a second), then settles on
the fastest size seen. Out of memory halves it and caps it there
for good, since every retry wastes part of a forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

TARGET_CHUNK_SECONDS = 0.5
# A doubling counts as no slower when it keeps this share of the best throughput so far:
# measurements jitter by a few percent, and on a GPU a larger chunk that is as fast means
# fewer round trips.
KEEPS_UP = 0.95
# Settled, a chunk this much over the time budget (other load, a bigger model) is cut back.
OVER_BUDGET = 2.0


def first_chunk(height: int, width: int) -> int:
    """A start small enough to answer quickly on a CPU: 4 at 224 px, more for small inputs."""
    return max(1, min(64, (4 * 224 * 224) // max(1, height * width)))


@dataclass
class ChunkSizer:
    size: int
    ceiling: int = 4096
    target_s: float = TARGET_CHUNK_SECONDS
    fixed: bool = False
    exploring: bool = True
    best_size: int = 0
    best_rate: float = 0.0

    def record(self, count: int, seconds: float) -> None:
        """Account for a chunk of ``count`` transforms that took ``seconds``."""
        if self.fixed or count != self.size:   # the short last chunk says nothing about the size
            return
        seconds = max(seconds, 1e-6)
        rate = count / seconds
        if rate > self.best_rate:
            self.best_size, self.best_rate = count, rate
        fits = self.target_s / seconds   # how many chunks of this size fit the budget
        if self.exploring:
            keeps_up = rate >= KEEPS_UP * self.best_rate
            if keeps_up and fits >= 2.0 and self.size < self.ceiling:
                self.size = min(self.ceiling, self.size * 2)
                return
            # Slower than a smaller size: go back to the best one; else the budget or the
            # ceiling stopped the climb, and this size stays.
            self.exploring = False
            if not keeps_up:
                self.size = self.best_size
        if fits < 1.0 / OVER_BUDGET:
            # Far over budget (a slow model, or load from elsewhere): cut back in proportion.
            self.size = max(1, int(self.size * fits))
            self.best_size = min(self.best_size, self.size)

    def out_of_memory(self) -> bool:
        """Halve after an out-of-memory error; False when already at one transform."""
        if self.size == 1:
            return False
        self.size = max(1, self.size // 2)
        self.ceiling = self.size
        self.best_size = min(self.best_size, self.size) if self.best_size else 0
        return True
