"""Render docs/digits_effects.png: the two effects of Tsipras et al. (2018) on the bundled
digits models.

(a) input gradients (vanilla saliency of the true-class logit): structured along the
    strokes for the robust model, noise-like for the standard one;
(b) large-epsilon targeted L2 PGD: against the robust model the image turns into the
    target digit, against the standard model it stays the source digit under noise.

Run from the repository root after scripts/train_digits.py:
    python scripts/digits_effects_figure.py [--models resources/models] [--out docs/digits_effects.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from train_digits import ROOT, load_data, load_shipped  # noqa: E402  (same folder)

from visualizer.core.attacks import AttackParams, run_attack  # noqa: E402

SALIENCY_CLASSES = (0, 2, 4, 6, 8)
TARGETED = ((0, 6), (1, 4), (3, 7), (5, 9))   # (source class, target class)
TARGET_EPS_FACTOR = 3.0                        # attack budget, in multiples of the training eps
TARGET_STEPS = 200


def first_of_class(y: torch.Tensor, label: int) -> int:
    return int((y == label).nonzero()[0])


def saliency(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    logit = model(x).gather(1, y.view(-1, 1)).sum()
    return torch.autograd.grad(logit, x)[0].detach()


def show_gray(ax, img, title):
    ax.imshow(img.squeeze().numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def show_signed(ax, g, title=None):
    g = g.squeeze().numpy()
    lim = float(abs(g).max()) or 1.0  # each panel on its own symmetric scale
    ax.imshow(g, cmap="RdBu_r", vmin=-lim, vmax=lim)
    if title:
        ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=ROOT / "resources" / "models")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "digits_effects.png")
    ap.add_argument("--eps-factor", type=float, default=TARGET_EPS_FACTOR,
                    help="targeted attack budget in multiples of the robust model's training eps")
    ap.add_argument("--steps", type=int, default=TARGET_STEPS)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)

    standard, _ = load_shipped("digits-standard", args.models)
    robust, meta = load_shipped("digits-robust", args.models)
    size, eps = meta["preprocessing"]["input_size"], float(meta["train_eps"])
    _, _, x_test, y_test, _, _ = load_data(size)
    models = (("standard", standard), ("robust", robust))

    fig = plt.figure(figsize=(11, 11), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[3, 4])

    # (a) Saliency.
    idx = torch.tensor([first_of_class(y_test, c) for c in SALIENCY_CLASSES])
    x, y = x_test[idx], y_test[idx]
    grads = {name: saliency(m, x, y) for name, m in models}
    axes = top.subplots(3, len(idx))
    for j in range(len(idx)):
        show_gray(axes[0, j], x[j], f"held-out digit {int(y[j])}")
        for row, (name, _) in enumerate(models, start=1):
            show_signed(axes[row, j], grads[name][j])
    for row, text in enumerate(("image", "standard\nd logit / d x", "robust\nd logit / d x")):
        axes[row, 0].set_ylabel(text, fontsize=9)
    top.suptitle("(a) Input gradient of the true-class logit (red +, blue -; each panel scaled to its own max |grad|)",
                 fontsize=10)

    # (b) Large-eps targeted attacks.
    big = args.eps_factor * eps
    idx = torch.tensor([first_of_class(y_test, s) for s, _ in TARGETED])
    x, y = x_test[idx], y_test[idx]
    targets = torch.tensor([t for _, t in TARGETED])
    params = AttackParams(method="pgd", norm="l2", eps=big, steps=args.steps, targeted=True)
    axes = bottom.subplots(len(idx), 3)
    for i in range(len(idx)):
        show_gray(axes[i, 0], x[i], f"source {int(y[i])} (target {int(targets[i])})")
    for col, (name, m) in enumerate(models, start=1):
        adv = run_attack(m, x, y, params, targets=targets).adversarial
        with torch.no_grad():
            probs = m(adv).softmax(1)
        for i in range(len(idx)):
            p, c = probs[i].max(0)
            show_gray(axes[i, col], adv[i], f"vs {name}: {int(y[i])}->{int(targets[i])}, "
                                             f"predicted {int(c)} ({float(p):.0%})")
    bottom.suptitle(f"(b) Targeted L2 PGD, eps {big:g} ({args.eps_factor:g} x the training eps {eps:g}), "
                    f"{args.steps} steps", fontsize=10)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print("Wrote", args.out)


if __name__ == "__main__":
    main()
