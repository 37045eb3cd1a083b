"""Square Attack throughput: oracle queries per second of our Square Attack (core/blackbox)
against plain batched inference of the same images on the same model, side by side.

Plain inference replays exactly the batch sizes the attack queried (its clean query, its
start and one batch per iteration over the images still standing), each followed by an
argmax read on the host, as the attack reads every answer. ``throughput_ratio`` = plain
time / attack time (>= 0.9: the oracle, the random windows and the bookkeeping cost under
10% on top of the forward passes). eps is one grey level, so few images fall and the
batches stay full.

    python bench/blackbox_throughput.py [--model lite0-imagenet] [--images N] [--queries Q] [--repeats R]
"""

from __future__ import annotations

import argparse

import common  # noqa: F401  (puts the checkout on sys.path)
import torch

from common import bench_device, emit, environment, interleaved, median, paired_ratio


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="lite0-imagenet")
    ap.add_argument("--images", type=int, default=None)
    ap.add_argument("--queries", type=int, default=None, help="per-image query budget")
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args()

    from visualizer.core.attacks import drive
    from visualizer.core.blackbox import Oracle
    from visualizer.core.blackbox.params import QueryAttackParams
    from visualizer.core.blackbox.square import square_attack
    from visualizer.core.models.registry import LoadOptions, load_model

    device = bench_device()
    cuda = device.type == "cuda"
    n = args.images or (64 if cuda else 8)
    queries = args.queries or (200 if cuda else 40)
    model = load_model(args.model, LoadOptions(device=device.type))
    gen = torch.Generator().manual_seed(0)
    images = torch.rand((n, *model.input_shape), generator=gen).to(device)
    with torch.no_grad():
        labels = model(images).argmax(1)
    params = QueryAttackParams("square", "linf", 1 / 255, queries, seed=0)
    batches: list[int] = []

    def ours():
        sizes, spent = [], 0
        def note(event):
            nonlocal spent
            total = int(event.queries.sum())
            sizes.append(total - spent)
            spent = total
        result = drive(square_attack(Oracle(model, "probs"), images, labels, params), note)
        sizes[0] = int(result.history_queries[0].sum())   # clean query + start, in two batches
        batches[:] = [n, sizes[0] - n, *sizes[1:]] if sizes[0] > n else sizes
        return result

    ours()   # warm-up; also gives the batch sizes the baseline replays

    def plain():
        with torch.no_grad():
            for size in list(batches):
                model(images[:size]).softmax(1).argmax(1).cpu()

    t = interleaved({"ours": ours, "plain": plain}, args.repeats, device, budget_s=40, min_repeats=3, max_repeats=9)
    total = sum(batches)
    result = {
        "benchmark": "blackbox_throughput",
        "target": "throughput_ratio >= 0.9",
        "model": args.model,
        "images": n,
        "queries_per_image": queries,
        "queries_total": total,
        "repeats": len(t["ours"]),
        "ours_s": round(median(t["ours"]), 4),
        "plain_inference_s": round(median(t["plain"]), 4),
        "ours_queries_per_s": round(total / median(t["ours"]), 1),
        "plain_images_per_s": round(total / median(t["plain"]), 1),
        "throughput_ratio": round(paired_ratio(t["plain"], t["ours"]), 3),
        "samples": {k: [round(v, 4) for v in vs] for k, vs in t.items()},
        "env": environment(device),
    }
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
