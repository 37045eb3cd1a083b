"""Our APGD (visualizer/core/attacks/apgd.py) against the authors' (pyautoattack's
APGDAttack / APGDAttack_targeted) at matched settings: robust accuracy on the same examples
(target: within 1 point) and the time ratio ours / theirs (target <= 1.0).

Model: the tiny MNIST CNN of the tests, adversarially trained (L-inf FGSM from a random
start, eps 0.2, ~6 s on one CPU thread), so the attacks have work to do; examples: the first
N of the real MNIST test set. Settings: 100 iterations, 1 restart, rho 0.75; APGD-T with 9
target classes, as in AutoAttack's standard version. Each setting runs once per side, the
sides alternating which goes first.

    pip install pyautoattack
    python bench/apgd_vs_autoattack.py [--examples 500]
"""

from __future__ import annotations

import argparse
import sys
import time

import common  # noqa: F401  (puts the checkout on sys.path)
import torch

from common import ROOT, bench_device, emit, environment, sync

SETTINGS = (("linf", 0.15, "ce", 1), ("l2", 2.0, "ce", 1), ("linf", 0.15, "dlr-targeted", 9))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=None)
    ap.add_argument("--steps", type=int, default=100)
    args = ap.parse_args()
    device = bench_device()
    try:
        from pyautoattack.autopgd_base import APGDAttack, APGDAttack_targeted
    except ImportError as exc:
        emit({"benchmark": "apgd_vs_autoattack", "skipped": True,
              "reason": f"pyautoattack is not importable ({exc}); pip install pyautoattack", "env": environment(device)})
        return 0
    sys.path.insert(0, str(ROOT / "tests"))
    from mnist_support import MNIST_SPEC, ROBUST_EPS, as_classifier, train_tiny_mnist

    from visualizer.core.attacks.apgd import APGDParams, run_apgd
    from visualizer.core.data import load_dataset

    n = args.examples or (2000 if device.type == "cuda" else 500)
    model = as_classifier(train_tiny_mnist(robust_eps=ROBUST_EPS)).to(device)
    x, y = load_dataset(MNIST_SPEC, "test", limit=n).batch(slice(0, n), device=device)
    with torch.no_grad():
        clean = float((model(x).argmax(1) == y).float().mean())
    rows = []
    for k, (norm, eps, loss, targets) in enumerate(SETTINGS):
        name = {"linf": "Linf", "l2": "L2"}[norm]
        if loss == "ce":
            theirs_attack = APGDAttack(model, norm=name, eps=eps, n_iter=args.steps, n_restarts=1, loss="ce", seed=0,
                                       device=device)
        else:
            theirs_attack = APGDAttack_targeted(model, norm=name, eps=eps, n_iter=args.steps, n_restarts=1,
                                                n_target_classes=targets, seed=0, device=device)
        params = APGDParams(norm=norm, eps=eps, steps=args.steps, loss=loss, target_classes=targets)
        runs = {}

        def ours():
            result = run_apgd(model, x, y, params)
            return 1 - float(result.success.float().mean())

        def theirs():
            with torch.no_grad():
                return float((model(theirs_attack.perturb(x, y)).argmax(1) == y).float().mean())

        order = [("ours", ours), ("theirs", theirs)]
        for label, fn in (order if k % 2 == 0 else order[::-1]):
            sync(device)
            t0 = time.perf_counter()
            accuracy = fn()
            sync(device)
            runs[label] = (accuracy, time.perf_counter() - t0)
        print(f"{norm} {eps} {loss}: ours {runs['ours']}, theirs {runs['theirs']}", file=sys.stderr, flush=True)
        rows.append({"attack": "APGD-CE" if loss == "ce" else f"APGD-T ({targets} targets)", "norm": norm, "eps": eps,
                     "robust_accuracy_ours": runs["ours"][0], "robust_accuracy_theirs": runs["theirs"][0],
                     "difference_points": round(100 * (runs["ours"][0] - runs["theirs"][0]), 2),
                     "seconds_ours": round(runs["ours"][1], 2), "seconds_theirs": round(runs["theirs"][1], 2),
                     "ratio": runs["ours"][1] / runs["theirs"][1]})
    emit({"benchmark": "apgd_vs_autoattack", "examples": n, "steps": args.steps, "clean_accuracy": clean,
          "model": f"tiny MNIST CNN, FGSM-RS adversarial training eps {ROBUST_EPS}", "results": rows,
          "env": environment(device)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
