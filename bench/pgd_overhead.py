"""PGD overhead: our PGD-k against the physical floor, k forward+backward passes.

Ours is ``attack_steps`` consumed the way the GUI and CLI do: every event's loss and
reference probability read as Python floats (the progress report). The floor is k
forward+backward passes (input gradient only, parameters frozen as in ClassifierModel)
of the same model on the same batch, timed in the same run, interleaved.

Our loop evaluates k+1 iterates: the last is a forward only (it scores the final
iterate). ``ratio`` counts it against the k fwd+bwd floor; ``ratio_vs_scored_floor``
adds one measured forward to the floor (all a scored PGD-k must compute);
``ratio_per_gradient_step`` removes one measured forward from ours, i.e. the cost of each
gradient step over a bare fwd+bwd.

    python bench/pgd_overhead.py [--repeats 3] [--steps K] [--batches 1 8]
"""

from __future__ import annotations

import argparse
import sys

import common  # noqa: F401  (puts the checkout on sys.path)
import torch
import torch.nn.functional as F

from common import bench_device, emit, environment, interleaved, median, paired_ratio


def resnet50_model():
    import torchvision

    from visualizer.core.models.wrapper import ClassifierModel, ModelInfo, Preprocessing

    net = torchvision.models.resnet50(weights=None)
    info = ModelInfo("resnet50-random", "torchvision", "resnet50", Preprocessing.imagenet_default(224),
                     [str(i) for i in range(1000)])
    return ClassifierModel(net, info)


def lite0_model():
    from visualizer.core.models.registry import LoadOptions, load_model

    return load_model("lite0-imagenet", LoadOptions(device="cpu"))


MODELS = {"efficientnet_lite0": lite0_model, "resnet50": resnet50_model}


def measure(model, batch: int, steps: int, repeats: int | None, device) -> dict:
    from visualizer.core.attacks.loop import attack_steps
    from visualizer.core.attacks.params import AttackParams

    gen = torch.Generator().manual_seed(0)
    images = torch.rand((batch, 3, 224, 224), generator=gen).to(device)
    labels = torch.randint(0, 1000, (batch,), generator=gen).to(device)
    params = AttackParams(method="pgd", norm="linf", eps=4 / 255, steps=steps)

    def ours():
        it = attack_steps(model, images, labels, params)
        progress = []
        try:
            while True:
                e = next(it)
                progress.append((float(e.loss[0]), float(e.ref_prob[0])))   # what the GUI/CLI read
        except StopIteration as stop:
            return stop.value

    def fwd_bwd_k():
        for _ in range(steps):
            x = images.detach().requires_grad_(True)
            loss = F.cross_entropy(model(x), labels, reduction="sum")
            torch.autograd.grad(loss, x)

    def forward():
        with torch.no_grad():
            model(images)

    t = interleaved({"ours": ours, "floor": fwd_bwd_k, "forward": forward}, repeats, device)
    ours_s, floor_s, fwd_s = median(t["ours"]), median(t["floor"]), median(t["forward"])
    return {
        "batch": batch,
        "steps": steps,
        "repeats": len(t["ours"]),
        "ours_s": round(ours_s, 4),
        "floor_k_fwd_bwd_s": round(floor_s, 4),
        "forward_s": round(fwd_s, 4),
        "ratio": round(paired_ratio(t["ours"], t["floor"]), 3),
        # Against everything a scored PGD-k must do: k fwd+bwd and one forward.
        "ratio_vs_scored_floor": round(paired_ratio(t["ours"], [f + g for f, g in zip(t["floor"], t["forward"])]), 3),
        "ratio_per_gradient_step": round(paired_ratio([o - f for o, f in zip(t["ours"], t["forward"])], t["floor"]), 3),
        "ratio_of_medians": round(ours_s / floor_s, 3),
        "samples": {k: [round(v, 4) for v in vs] for k, vs in t.items()},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--batches", type=int, nargs="+", default=None)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    args = ap.parse_args()

    device = bench_device()
    # The sizes everywhere: batch 1 and 32, PGD-10 (ResNet-50 at batch 32 takes a
    # few minutes on 2 CPU cores; --batches / --steps shrink it for a quick look).
    batches = args.batches or [1, 32]
    steps = args.steps or 10
    repeats = args.repeats   # None: as many as fit a time budget per configuration
    rows = []
    for name in args.models:
        model = MODELS[name]().to(device)
        for b in batches:
            row = {"model": name, **measure(model, b, steps, repeats, device)}
            print(f"# {name} b={b}: ratio {row['ratio']} (per step {row['ratio_per_gradient_step']})",
                  file=sys.stderr)
            rows.append(row)
        del model
    emit({
        "benchmark": "pgd_overhead",
        "target": "ratio <= 1.05",
        "results": rows,
        "worst_ratio": max(r["ratio"] for r in rows),
        "worst_ratio_per_gradient_step": max(r["ratio_per_gradient_step"] for r in rows),
        "env": environment(device),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
