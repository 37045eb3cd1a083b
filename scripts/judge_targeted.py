"""Do a model's large-eps targeted adversarial examples look like the target class? An
independent pixel k-NN judge decides (visualizer/core/judge.py).

    python scripts/judge_targeted.py --model mnist-robust-l2 --threads 1 --n 60 \\
        --out judge-mnist-robust-l2.json
    python scripts/bundle_models.py --judge judge-mnist-robust-l2.json   # into the shipped card

Fits a pixel 5-NN on the first 20,000 training images of the model's data set, runs targeted
L2 PGD-100 (the project's attack loop) on the first N test images towards (label + 1) mod 10
(or random targets) at each budget, and prints, per budget, the fraction the judge labels as
the target. --data defaults to the data set recorded in a bundled model's card.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import torch  # noqa: E402

from visualizer.core.atomic import write_atomically  # noqa: E402
from visualizer.core.data import load_dataset  # noqa: E402
from visualizer.core.errors import ParameterError, VisualizerError  # noqa: E402
from visualizer.core.judge import TARGET_RULES, fit_pixel_judge, judge_targeted  # noqa: E402
from visualizer.core.models.bundled import bundled_card  # noqa: E402
from visualizer.core.models.options import LoadOptions  # noqa: E402
from visualizer.core.models.registry import load_model, parse_model_spec  # noqa: E402


def budgets(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"budgets are comma-separated numbers, not {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError("give at least one positive budget")
    return values


def data_spec(model_spec: str, given: str | None) -> str:
    if given:
        return given
    card = bundled_card(model_spec)
    spec = ((card or {}).get("data") or {}).get("train", {}).get("spec")
    if not spec:
        raise ParameterError(f"{model_spec} records no data set: give --data mnist:DIR or fashion-mnist:DIR.")
    return str(spec)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="a bundled model name or any model spec")
    p.add_argument("--arch", help="architecture of a ckpt: model (e.g. mnist-cnn)")
    p.add_argument("--data", help="data spec (default: the bundled model's card)")
    p.add_argument("--n", type=int, default=60, help="test images attacked (the first N; default 60)")
    p.add_argument("--budgets", type=budgets, default=[4.0, 6.0, 8.0], help="L2 eps values (default 4,6,8)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--targets", choices=TARGET_RULES, default="next")
    p.add_argument("--seed", type=int, default=0, help="seed of random targets")
    p.add_argument("--fit", type=int, default=20000, help="training images the judge is fitted on")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--threads", type=int, help="torch threads")
    p.add_argument("--out", type=Path, help="write the result as JSON (for bundle_models.py --judge)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(max(1, args.threads))
    try:
        spec = data_spec(args.model, args.data)
        model = load_model(args.model, LoadOptions(device="cpu", arch=args.arch))
        pre = model.info.preprocessing
        train = load_dataset(spec, "train", preprocessing=pre, limit=args.fit)
        test = load_dataset(spec, "test", preprocessing=pre, limit=args.n)
        judge = fit_pixel_judge(*train.batch(slice(0, len(train))), k=args.k)
        x, y = test.batch(slice(0, len(test)))
        started = time.perf_counter()
        print(f"{args.model}: {judge.describe}; targeted L2 PGD-{args.steps} on {len(y)} test images", file=sys.stderr)
        result = judge_targeted(model, judge, x, y, args.budgets, args.steps, args.targets, args.seed,
                                on_budget=lambda r: print(f"  eps {r['eps']:g}: judged as the target "
                                                          f"{r['judged_target']:.2f} (model fooled "
                                                          f"{r['model_target_success']:.2f})", file=sys.stderr))
    except (VisualizerError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kind, target = parse_model_spec(args.model)
    result.update(model=target if kind == "bundled" else args.model, data=spec, command=" ".join(["python", "scripts/judge_targeted.py", *(
        argv if argv is not None else sys.argv[1:])]), torch_threads=torch.get_num_threads(),
        seconds=round(time.perf_counter() - started, 1))
    print(f"judge accuracy on the clean images {result['judge_clean_accuracy']:.2f}")
    print("| model | " + " | ".join(f"L2 {b['eps']:g}" for b in result["budgets"]) + " |")
    print("|---|" + "---|" * len(result["budgets"]))
    print(f"| {args.model} | " + " | ".join(f"{b['judged_target']:.2f}" for b in result["budgets"]) + " |")
    if args.out:
        data = (json.dumps(result, indent=1) + "\n").encode("utf-8")
        write_atomically(args.out, lambda fh: fh.write(data), "the judge's result")
    return 0


if __name__ == "__main__":
    sys.exit(main())
