"""Our PGD (L-inf and L2) against torchattacks' PGD / PGDL2 on the same model and batch:
time ratio ours / theirs and agreement of the adversarial images.

torchattacks evaluates k iterates (k fwd+bwd) and returns the last without scoring it;
ours evaluates k+1 (the last a forward only, so the result knows whether the attack
succeeded). ``ratio`` compares the two as called; ``ratio_same_work`` adds one forward
to torchattacks, which is what a caller needs to learn whether its result succeeded.
Both run the model exactly as our loader returns it: on a CPU, in channels-last layout
(visualizer/core/models/layout.py). ``ratio_default_layout`` is the comparison a
torchattacks user sees: theirs on the same network in torch's default layout, as timm and
torchvision build it, plus the scoring forward; its adversarial images differ from ours by
rounding (a sum's order), so their agreement is reported separately.

Loss: torchattacks uses mean-reduced cross-entropy, ours the sum. L-inf steps use the
sign of the gradient and L2 steps normalise it per example, so both give the same steps.

Needs torchattacks, installed without its pinned dependencies (see bench/README.md):
    pip install --no-deps torchattacks
    python bench/vs_torchattacks.py [--batch 8] [--steps 10]
"""

from __future__ import annotations

import argparse
import copy
import sys

import common  # noqa: F401  (puts the checkout on sys.path)
import torch

from common import bench_device, emit, environment, interleaved, median, paired_ratio

TOLERANCE = 1e-5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args()
    device = bench_device()
    try:
        import torchattacks
    except ImportError as exc:
        emit({"benchmark": "vs_torchattacks", "skipped": True,
              "reason": f"torchattacks is not importable ({exc}); install it with: pip install --no-deps torchattacks",
              "env": environment(device)})
        return 0

    from visualizer.core.attacks.loop import run_attack
    from visualizer.core.attacks.params import AttackParams
    from visualizer.core.models.registry import LoadOptions, load_model

    cuda = device.type == "cuda"
    batch = args.batch or (32 if cuda else 8)
    steps = args.steps or 10
    model = load_model("lite0-imagenet", LoadOptions(device=device.type))
    default_layout = copy.deepcopy(model).to(memory_format=torch.contiguous_format)
    conv_weight = next(p for p in model.parameters() if p.dim() == 4 and p.shape[1] > 1)
    gen = torch.Generator().manual_seed(0)
    images = torch.rand((batch, 3, 224, 224), generator=gen).to(device)
    labels = torch.randint(0, 1000, (batch,), generator=gen).to(device)

    rows = []
    for norm, eps in (("linf", 4 / 255), ("l2", 1.0)):
        alpha = 2.5 * eps / steps
        cls = torchattacks.PGD if norm == "linf" else torchattacks.PGDL2
        theirs_attack = cls(model, eps=eps, alpha=alpha, steps=steps, random_start=False)
        theirs_default = cls(default_layout, eps=eps, alpha=alpha, steps=steps, random_start=False)
        params = AttackParams(method="pgd", norm=norm, eps=eps, step_size=alpha, steps=steps,
                              random_start=False, best_iterate=False)
        out = {}

        def ours():
            out["ours"] = run_attack(model, images, labels, params).adversarial

        def theirs():
            out["theirs"] = theirs_attack(images, labels)

        def theirs_scored():
            adv = theirs_attack(images, labels)
            with torch.no_grad():
                (model(adv).argmax(dim=1) != labels).tolist()

        def theirs_default_scored():
            adv = theirs_default(images, labels)
            out["theirs_default"] = adv
            with torch.no_grad():
                (default_layout(adv).argmax(dim=1) != labels).tolist()

        t = interleaved({"ours": ours, "theirs": theirs, "theirs_scored": theirs_scored,
                         "theirs_default_scored": theirs_default_scored}, args.repeats, device)
        diff = (out["ours"] - out["theirs"]).abs()
        diff_default = (out["ours"] - out["theirs_default"]).abs()
        row = {
            "attack": f"PGD-{norm}",
            "eps": round(eps, 5),
            "step_size": round(alpha, 5),
            "repeats": len(t["ours"]),
            "ours_s": round(median(t["ours"]), 4),
            "torchattacks_s": round(median(t["theirs"]), 4),
            "ratio": round(paired_ratio(t["ours"], t["theirs"]), 3),
            "ratio_same_work": round(paired_ratio(t["ours"], t["theirs_scored"]), 3),
            "ratio_default_layout": round(paired_ratio(t["ours"], t["theirs_default_scored"]), 3),
            "fraction_within_1e-5": float((diff <= TOLERANCE).float().mean()),
            "max_abs_diff": float(diff.max()),
            "default_layout_fraction_within_1e-5": float((diff_default <= TOLERANCE).float().mean()),
        }
        print(f"# {row['attack']}: ratio {row['ratio']} (same work {row['ratio_same_work']}, "
              f"theirs in the default layout {row['ratio_default_layout']}), "
              f"equal {row['fraction_within_1e-5']:.6f}", file=sys.stderr)
        rows.append(row)
    emit({
        "benchmark": "vs_torchattacks",
        "target": "ratio <= 1.0 and >= 99.9% of elements within 1e-5",
        "model": "efficientnet_lite0 (bundled lite0-imagenet)",
        "layout_of_our_model": "default" if conv_weight.is_contiguous() else "channels_last",
        "batch": batch,
        "steps": steps,
        "torchattacks": torchattacks.__version__,
        "results": rows,
        "env": environment(device),
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
