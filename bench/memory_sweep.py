"""Peak memory of a 775-transform spatial sweep (EfficientNet-Lite0, 224 px, one image)
for fixed and adaptive chunk sizes: chunking keeps it bounded.

Each configuration runs in a fresh subprocess. On CPU the figure is the growth of the
peak resident set (``ru_maxrss``) across the sweep, after the model is loaded and has
run one forward; on CUDA it is ``torch.cuda.max_memory_allocated`` above what was
allocated before the sweep. ``chunk 775`` is the whole grid in one batch, i.e. what
no chunking would cost.

    python bench/memory_sweep.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import common  # noqa: F401  (puts the checkout on sys.path)
from common import ROOT, bench_device, emit, environment

CONFIGS = ("adaptive", "32", "775")


def _current_rss() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _reset_peak_rss() -> int:
    """Baseline for the peak-RSS growth. Loading the model may have peaked higher than the
    sweep will; on Linux the high-water mark is reset (clear_refs 5) so ru_maxrss then
    reports the sweep's own peak above the current RSS. Elsewhere the loading peak stays
    in, and the growth is a lower bound."""
    import resource

    current = _current_rss()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return current if current is not None else 0
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # KiB on Linux


def child(config: str) -> dict:
    import resource

    import torch

    from visualizer.core.attacks.spatial import SpatialParams, spatial_sweep
    from visualizer.core.attacks.loop import drive
    from visualizer.core.models.registry import LoadOptions, load_model

    device = bench_device()
    model = load_model("lite0-imagenet", LoadOptions(device=device.type))
    images = torch.rand((1, 3, 224, 224), generator=torch.Generator().manual_seed(0)).to(device)
    labels = torch.zeros(1, dtype=torch.long, device=device)
    with torch.no_grad():
        model(images)
    chunk = None if config == "adaptive" else int(config)
    sizes: list[int] = []
    if device.type == "cuda":
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
    else:
        before = _reset_peak_rss()
    result = drive(spatial_sweep(model, images, labels, SpatialParams(chunk_size=chunk)),
                   lambda e: sizes.append(e.chunk_size))
    if device.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - before
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert result.evaluated == 775 and not result.cancelled
    return {"chunk": config, "peak_growth_mib": round(peak / 2**20, 1), "largest_chunk": max(sizes),
            "wall_s": round(result.wall_time_s, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", choices=CONFIGS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    rows = []
    for config in CONFIGS:
        proc = subprocess.run([sys.executable, __file__, "--child", config], env=env, cwd=ROOT,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"memory child {config} failed:\n{proc.stderr[-2000:]}")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"# chunk {config}: {rows[-1]}", file=sys.stderr)
    device = bench_device()
    by = {r["chunk"]: r["peak_growth_mib"] for r in rows}
    emit({
        "benchmark": "memory_sweep",
        "measure": "cuda max_memory_allocated growth" if device.type == "cuda" else "peak RSS growth (ru_maxrss)",
        "results": rows,
        "adaptive_over_unchunked": round(by["adaptive"] / by["775"], 3) if by["775"] > 0 else None,
        "env": environment(device),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
