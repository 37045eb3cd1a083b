"""Spatial sweep throughput: the full 775-transform grid (31 rotations x 5 x 5
translations, T = 24 px at 224 px) on EfficientNet-Lite0, per image, for N images.

(a) ``throughput_ratio`` = plain batched inference on the same number of untransformed
    images, in the same batch sizes our sweep chose / our sweep. 1.0 means transforms,
    losses and bookkeeping cost nothing next to the forward passes.
(b) speed-ups of our sweep over two baselines built from the same per-chunk code
    (``rotate_translate`` + model + loss), so only the batching differs:
    the authors' reference scheme (one image at a time, 200 transforms per chunk) and
    one transform at a time (batch 1). The one-at-a-time time is estimated from a
    subset of transforms and scaled to the whole grid (it is a per-forward cost); on CPU
    the reference time is likewise scaled from its first 200-transform chunk.

    python bench/spatial_throughput.py [--images N] [--repeats R]
"""

from __future__ import annotations

import argparse
import sys

import common  # noqa: F401  (puts the checkout on sys.path)
import torch

from common import bench_device, emit, environment, interleaved, median, paired_ratio

REFERENCE_CHUNK = 200


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--subset", type=int, default=None, help="transforms timed one at a time")
    args = ap.parse_args()

    from visualizer.core.attacks.spatial import SpatialParams, _evaluate_chunk, spatial_sweep, transform_list
    from visualizer.core.models.registry import LoadOptions, load_model

    device = bench_device()
    cuda = device.type == "cuda"
    # 775 Lite0 forwards take ~10-20 s per image on 2 CPU cores: one image on CPU.
    n = args.images or (8 if cuda else 1)
    subset = args.subset or (200 if cuda else 50)
    model = load_model("lite0-imagenet", LoadOptions(device=device.type))
    gen = torch.Generator().manual_seed(0)
    images = torch.rand((n, 3, 224, 224), generator=gen).to(device)
    labels = torch.randint(0, 1000, (n,), generator=gen).to(device)
    params = SpatialParams()
    p = params.resolved(224)
    flat_t = transform_list(p, n)[0].reshape(-1, 3)
    m = flat_t.shape[0] // n
    chunks: list[int] = []

    def ours():
        sweep = spatial_sweep(model, images, labels, params)
        sizes, done = [], 0
        try:
            while True:
                ev = next(sweep)
                sizes.append(ev.done - done)
                done = ev.done
        except StopIteration as stop:
            chunks[:] = sizes            # the batch sizes the plain baseline replays
            return stop.value

    ours()   # warm-up; also gives the chunk sizes
    pool = images.repeat_interleave((max(chunks) + n - 1) // n, dim=0)

    def plain():
        with torch.no_grad():
            for size in list(chunks):
                model(pool[:size]).argmax(dim=1).cpu()

    # The reference scheme's time is linear in its chunks (all 200 transforms but the last
    # of each image): on CPU time one image's first chunk and scale, on CUDA run it all.
    ref_chunks = [(i, s) for i in range(n) for s in range(0, m, REFERENCE_CHUNK)]
    ref_timed = ref_chunks if cuda else ref_chunks[:1]
    ref_scale = (n * m) / sum(min(m, s + REFERENCE_CHUNK) - s for _, s in ref_timed)

    def reference():
        for i, start in ref_timed:
            _evaluate_chunk(model, images[i:i + 1], labels[i:i + 1], flat_t[i * m:(i + 1) * m],
                            start, min(m, start + REFERENCE_CHUNK), m)

    # Spread the subset over the grid (all rotations), one transform per forward.
    picks = torch.linspace(0, m - 1, subset).long().tolist()

    def one_at_a_time_subset():
        for j in picks:
            _evaluate_chunk(model, images[:1], labels[:1], flat_t[:m], j, j + 1, m)

    t = interleaved({"ours": ours, "plain": plain, "reference": reference, "one_subset": one_at_a_time_subset},
                    args.repeats, device, warmup=0, budget_s=60, min_repeats=3, max_repeats=7)
    ours_s = median(t["ours"])
    one_s = median(t["one_subset"]) * (n * m / subset)
    result = {
        "benchmark": "spatial_throughput",
        "target": "throughput_ratio >= 0.9",
        "model": "efficientnet_lite0 (bundled lite0-imagenet), 224 px",
        "images": n,
        "transforms_per_image": m,
        "repeats": len(t["ours"]),
        "chunk_sizes_last_run": chunks,
        "ours_s": round(ours_s, 3),
        "plain_inference_s": round(median(t["plain"]), 3),
        "reference_s": round(median(t["reference"]) * ref_scale, 3),
        "reference_estimated_from_transforms": round(n * m / ref_scale),
        "one_at_a_time_estimated_s": round(one_s, 3),
        "one_at_a_time_subset": subset,
        "throughput_ratio": round(paired_ratio(t["plain"], t["ours"]), 3),
        "speedup_vs_reference": round(paired_ratio([v * ref_scale for v in t["reference"]], t["ours"]), 3),
        "speedup_vs_one_at_a_time": round(paired_ratio([v * n * m / subset for v in t["one_subset"]], t["ours"]), 3),
        "samples": {k: [round(v, 3) for v in vs] for k, vs in t.items()},
        "env": environment(device),
    }
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
