"""Training overhead: an adversarial epoch with a k-step attack against k+1 plain epochs.

The floor of adversarial training is k attack steps (forward + input-gradient backward) plus
the weight update (forward + backward + optimiser step) per batch; a plain epoch is the last
part alone. Target: adversarial epoch <= 1.10 x (k + 1) plain epochs. Everything is timed
through the real trainer (``visualizer.core.training.train_steps``) on real MNIST: a
variant's time is its epoch's training time (the last BatchProgress's ``elapsed_s``: data
loading, evaluation and the checkpoint are outside it). Variants run interleaved in a
rotating order, and ratios are medians of per-repeat ratios (see common.py).

    python bench/train_overhead.py [--limit 2048] [--repeats 3] [--threads 1] [--arch mnist-cnn]
    python bench/train_overhead.py --limit 0 --stop-after 40 --repeats 1 --threads 2   # full-epoch seconds

Default size: 2,048 training images (16 batches of 128), about a minute on one free core.
``--stop-after N`` times the first N batches of each epoch and reports whole-epoch seconds
extrapolated from them (the per-batch cost is flat: no data-set work happens per epoch).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (puts the checkout on sys.path)
import torch

from common import emit, environment, median, paired_ratio

MNIST = common.ROOT.parent / "shared" / "data" / "mnist"
# name -> (recipe, attack steps k)
VARIANTS = {
    "plain": ("none", 0),
    "fgsm-rs": ("fgsm-rs:linf:0.3", 1),
    "pgd-linf-7": ("pgd:linf:0.3:7", 7),
}


def epoch_seconds(recipe: str, args, folder: Path) -> float:
    from visualizer.core.attacks.loop import drive
    from visualizer.core.training import BatchProgress, TrainConfig, parse_adversarial, train_steps

    config = TrainConfig(data=f"mnist:{args.data}", arch=args.arch, out=str(folder / recipe.replace(":", "_")),
                         adversarial=parse_adversarial(recipe), limit=args.limit, eval_limit=10,
                         eval_attack="none", batch_size=args.batch_size)
    from visualizer.core.cancel import CancelToken

    seen: list[BatchProgress] = []
    token = CancelToken()

    def on_event(e) -> None:
        if isinstance(e, BatchProgress):
            seen[1:] = [e]
            if len(seen) == 1:
                seen.append(e)
            if args.stop_after and e.batch >= args.stop_after:
                token.cancel()   # a fraction of the epoch, extrapolated below

    drive(train_steps(config, device=args.device, overwrite=True, cancel=token), on_event)
    first, last = seen[0], seen[-1]
    if last.batch == last.batches or last.batch == 1:
        return last.elapsed_s
    # The first batch carries one-time costs (kernel selection, first allocations); the rest
    # run at a steady rate, which the remaining batches of the epoch would keep.
    per_batch = (last.elapsed_s - first.elapsed_s) / (last.batch - 1)
    return first.elapsed_s + per_batch * (last.batches - 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=MNIST, help="folder with the MNIST idx files")
    ap.add_argument("--limit", type=int, default=2048, help="training images per epoch (0: all 60,000)")
    ap.add_argument("--stop-after", type=int, default=None,
                    help="time only the first N batches of each epoch and extrapolate to the whole epoch")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--arch", default="mnist-cnn")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = ap.parse_args()
    args.limit = args.limit or None
    torch.set_num_threads(args.threads)
    names = ["plain"] + [v for v in args.variants if v != "plain"]

    times: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        epoch_seconds("none", args, Path(tmp))                    # warm-up: allocator, kernels, page cache
        for r in range(args.repeats):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                times[name].append(epoch_seconds(VARIANTS[name][0], args, Path(tmp)))
            print(f"# repeat {r + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names), file=sys.stderr)

    rows = []
    for name in names[1:]:
        recipe, k = VARIANTS[name]
        floor = [(k + 1) * p for p in times["plain"]]
        rows.append({"variant": name, "recipe": recipe, "attack_steps": k,
                     "epoch_s": round(median(times[name]), 3),
                     "plain_epoch_s": round(median(times["plain"]), 3),
                     "ratio_vs_k_plus_1_plain": round(paired_ratio(times[name], floor), 3),
                     "ratio_vs_plain": round(paired_ratio(times[name], times["plain"]), 3),
                     "samples": [round(t, 3) for t in times[name]]})
        print(f"# {name}: {rows[-1]['ratio_vs_k_plus_1_plain']} x ({k}+1) plain epochs", file=sys.stderr)
    emit({
        "benchmark": "train_overhead",
        "target": "adversarial epoch <= 1.10 x (k+1) plain epochs",
        "images_per_epoch": args.limit or 60000, "batch_size": args.batch_size, "arch": args.arch,
        "timed_batches_per_epoch": args.stop_after or "all",
        "plain_samples": [round(t, 3) for t in times["plain"]],
        "results": rows,
        "worst_ratio": max(r["ratio_vs_k_plus_1_plain"] for r in rows),
        "env": environment(torch.device(args.device)),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
