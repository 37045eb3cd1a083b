"""A small progress bar on stderr for the CLI (no dependency, no Qt)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, label: str, stream=None, min_interval: float = 0.1):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.min_interval = min_interval if self.tty else 5.0
        self.started = time.perf_counter()
        self._last = 0.0
        self._shown = False

    def due(self, done: int, total: int) -> bool:
        """Whether ``update`` would redraw now: callers whose ``extra`` text is costly to
        compute (a GPU value read back every batch) ask first."""
        return done >= total or time.perf_counter() - self._last >= self.min_interval

    def update(self, done: int, total: int, extra: str = "") -> None:
        if not self.due(done, total):
            return
        now = time.perf_counter()
        self._last = now
        frac = done / total if total else 1.0
        elapsed = now - self.started
        # Nothing done yet: no rate to extrapolate from ("ETA nans" before).
        eta = f"{elapsed / frac - elapsed:5.1f}s" if frac > 0 else "    ?"
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        text = f"{self.label} [{bar}] {done}/{total}  {elapsed:5.1f}s  ETA {eta}  {extra}"
        if self.tty:
            self.stream.write("\r" + text[:120].ljust(120))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()
