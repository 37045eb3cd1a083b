"""What the allocator settings of core/allocator.py are worth: forward+backward passes
(input gradient, as in a PGD step) of EfficientNet-Lite0 on a worker thread, as the app
runs them, in two fresh processes, one with the settings and one with glibc's defaults
(VISUALIZER_MALLOC=default). The processes alternate, and each reports its median step
time; the ratio default / tuned is the speed-up.

    python bench/malloc_tuning.py [--batches 1 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import common  # noqa: F401  (puts the checkout on sys.path)
from common import ROOT, bench_device, emit, environment, median

CHILD = """
import json, statistics, sys, threading, time
import torch, torch.nn.functional as F
from visualizer.core.allocator import tune_allocator
tuned = tune_allocator()
from visualizer.core.models.registry import LoadOptions, load_model
batch, steps = int(sys.argv[1]), int(sys.argv[2])
model = load_model("lite0-imagenet", LoadOptions(device="cpu"))
x = torch.rand((batch, 3, 224, 224), generator=torch.Generator().manual_seed(0))
y = torch.randint(0, 1000, (batch,), generator=torch.Generator().manual_seed(1))
times = []
def work():
    torch.set_num_threads(max(1, torch.get_num_threads()))
    for i in range(steps + 1):
        t0 = time.perf_counter()
        xx = x.detach().requires_grad_(True)
        torch.autograd.grad(F.cross_entropy(model(xx), y, reduction="sum"), xx)
        if i:                       # the first step warms up
            times.append(time.perf_counter() - t0)
t = threading.Thread(target=work); t.start(); t.join()
print(json.dumps({"tuned": tuned, "step_s": statistics.median(times)}))
"""


def child(batch: int, steps: int, default: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.pop("VISUALIZER_MALLOC", None)
    if default:
        env["VISUALIZER_MALLOC"] = "default"
    out = subprocess.run([sys.executable, "-c", CHILD, str(batch), str(steps)], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 32])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for batch in args.batches:
        steps = 10 if batch < 8 else 4
        tuned, default = [], []
        for r in range(args.rounds):
            order = [(tuned, False), (default, True)]
            for samples, is_default in (order if r % 2 == 0 else order[::-1]):
                res = child(batch, steps, is_default)
                assert res["tuned"] == (not is_default), res
                samples.append(res["step_s"])
        rows.append({"batch": batch, "steps_per_process": steps, "rounds": args.rounds,
                     "tuned_step_s": round(median(tuned), 4), "default_step_s": round(median(default), 4),
                     "speedup": round(median(d / t for d, t in zip(default, tuned)), 3),
                     "samples": {"tuned": [round(v, 4) for v in tuned], "default": [round(v, 4) for v in default]}})
        print(f"# batch {batch}: speed-up {rows[-1]['speedup']}", file=sys.stderr)
    emit({"benchmark": "malloc_tuning", "target": "speedup >= 1 (no slower)", "model": "efficientnet_lite0",
          "results": rows, "env": environment(bench_device())})
    return 0


if __name__ == "__main__":
    sys.exit(main())
