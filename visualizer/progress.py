"""A small progress bar on stderr for the CLI (no dependency, no Qt)."""

from __future__ import annotations

import sys
import time

from visualizer.core.formatting import duration_text


class ProgressBar:
    def __init__(self, label: str, stream=None, min_interval: float = 0.1):
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.min_interval = min_interval if self.tty else 5.0
        self.started = time.perf_counter()
        self._last = 0.0
        self._shown = False
        self._origin = (0, self.started)     # (done, time) this run's rate is measured from

    def due(self, done: int, total: int) -> bool:
        """Whether ``update`` would redraw now: callers whose ``extra`` text is costly to
        compute (a GPU value read back every batch) ask first."""
        return done >= total or time.perf_counter() - self._last >= self.min_interval

    def resumed_from(self, done: int) -> None:
        """``done`` units were finished by an earlier run (``--resume``): the ETA uses this
        run's own rate from now on. Counting them as this run's made a resumed evaluation's
        ETA 10x too small (1000 of 10000 done at once)."""
        self._origin = (done, time.perf_counter())

    def _eta(self, done: int, total: int, now: float) -> str:
        """Seconds left at this run's rate; "?" (not "nan") before it has done anything."""
        first, since = self._origin
        if total and done >= total:
            return "  0.0s"
        if done <= first or now <= since:
            return "    ?"
        return duration_text((now - since) * (total - done) / (done - first)).rjust(6)

    def update(self, done: int, total: int, extra: str = "") -> None:
        if not self.due(done, total):
            return
        now = time.perf_counter()
        self._last = now
        frac = done / total if total else 1.0
        elapsed = now - self.started
        eta = self._eta(done, total, now)
        width = 24
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        text = f"{self.label} [{bar}] {done}/{total}  {duration_text(elapsed).rjust(6)}  ETA {eta}  {extra}"
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
