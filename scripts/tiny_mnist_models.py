"""Write the two tiny MNIST classifiers the evaluation tests train (tests/mnist_support.py)
as TorchScript archives, for trying `visualizer evaluate` on real MNIST before the bundled
MNIST models exist: ``tiny-mnist-standard.pt`` (cross-entropy) and ``tiny-mnist-robust.pt``
(L-inf adversarial training, FGSM from a random start at eps 0.2). About 10 s on one core.

    python scripts/tiny_mnist_models.py --out models/
    visualizer evaluate --model torchscript:models/tiny-mnist-robust.pt --input-size 28 --mean 0 --std 1 ...

They are deliberately small (two strided convolutions, ~10k weights, ~90% clean accuracy):
numbers from them show how the tool works, not what MNIST models can do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from mnist_support import ROBUST_EPS, save_torchscript, train_tiny_mnist  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="models", help="folder for the two .pt archives (default models/)")
    args = ap.parse_args()
    torch.set_num_threads(1)       # tiny models: one thread is fastest
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, eps in (("tiny-mnist-standard", None), ("tiny-mnist-robust", ROBUST_EPS)):
        path = save_torchscript(train_tiny_mnist(robust_eps=eps), out / f"{name}.pt")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
