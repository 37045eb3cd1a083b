"""Timing helpers shared by the benchmarks.

Compared variants are timed side by side in one process: each repeat runs every variant
once, in a rotating order (so drift, turbo and cache warmth hit all of them alike), and a
variant's time is the median over repeats. Ratios (the median over repeats of
each repeat's ratio, see ``paired_ratio``) are what the benchmarks report; bare times only
say which machine they came from.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # run as `python bench/x.py` from a checkout
    sys.path.insert(0, str(ROOT))

from visualizer.core.allocator import tune_allocator  # noqa: E402

# Measure what users run: the CLI and the window tune the allocator first thing
# (bench/malloc_tuning.py measures what that is worth; VISUALIZER_MALLOC=default: off).
ALLOCATOR_TUNED = tune_allocator()


def bench_device() -> torch.device:
    """CUDA when present (that is where the targets matter most), else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sync(device: torch.device | str | None = None) -> None:
    """Wait for queued GPU work, so a clock read after it measures the work itself."""
    if torch.cuda.is_available() and (device is None or torch.device(device).type == "cuda"):
        torch.cuda.synchronize()


def timed(fn: Callable[[], object], device=None) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - t0


def interleaved(variants: dict[str, Callable[[], object]], repeats: int | None = None, device=None,
                warmup: int = 1, budget_s: float = 20.0, min_repeats: int = 3,
                max_repeats: int = 15) -> dict[str, list[float]]:
    """Seconds per call of each variant, variants interleaved. ``repeats=None`` picks as
    many rounds as fit in ``budget_s`` (judged from the warm-up round), within bounds:
    cheap cases get more samples, so their medians are as steady as the slow ones'."""
    names = list(variants)
    round_s = 0.0
    for _ in range(max(1, warmup)):
        round_s = sum(timed(variants[name], device) for name in names)
    if repeats is None:
        repeats = int(min(max_repeats, max(min_repeats, budget_s // max(round_s, 1e-6))))
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            times[name].append(timed(variants[name], device))
    return times


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def paired_ratio(num: list[float], den: list[float]) -> float:
    """Median over repeats of num/den within each repeat. The two samples of a repeat ran
    back to back, so a burst of load from elsewhere skews both alike; this is steadier
    than a ratio of medians on a shared machine."""
    return statistics.median(a / b for a, b in zip(num, den))


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    try:   # the CPU model is more telling than "x86_64"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name} ({torch.get_num_threads()} torch threads)"


def environment(device: torch.device) -> dict:
    return {
        "device": device.type,
        "device_name": device_name(device),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "allocator_tuned": ALLOCATOR_TUNED,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def emit(result: dict) -> None:
    """Benchmarks print exactly one JSON object on their last stdout line."""
    print(json.dumps(result))
