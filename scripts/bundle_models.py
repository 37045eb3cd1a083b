"""Ship finished `visualizer train` runs as bundled models.

    python scripts/bundle_models.py mnist-standard fashion-standard --runs /work/bundled_runs
    python scripts/bundle_models.py --judge judge-mnist-robust-l2.json      # judge numbers only
    python scripts/bundle_models.py --evaluation runs/mnist-table/evaluation.json   # evaluate's numbers

For each NAME, from RUNS/NAME (the trainer's --out folder): checks the weights are under
3 MB and match the card's SHA-256, loads them exactly as the app will, recomputes from them
the numbers tests/test_shipped_cards.py checks (clean accuracy on the first 1,000 test images;
for a robust model, PGD-20 at its training threat on the first 100), and writes into
resources/models: NAME.safetensors, and NAME.json = the trainer's card plus
``history`` (per-epoch records), ``reproduce`` (the exact command, with the torch thread
count, seed and wall time), ``checks`` and, with --judge, ``judge`` (from
scripts/judge_targeted.py) and, with --evaluation, ``evaluations`` (each `visualizer evaluate`
result for the model, see visualizer/core/models/card_evaluations.py). Then regenerates
resources/models/MODEL_CARDS.md from every trainer card there and prints the README table rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import torch  # noqa: E402

from visualizer.core.atomic import write_atomically  # noqa: E402
from visualizer.core.data import load_dataset  # noqa: E402
from visualizer.core.errors import VisualizerError  # noqa: E402
from visualizer.core.models import card_evaluations, card_text, model_cards  # noqa: E402
from visualizer.core.models.bundled import load_card_model  # noqa: E402
from visualizer.core.models.card_checks import card_checks, held_out_spec  # noqa: E402
from visualizer.core.models.options import LoadOptions  # noqa: E402
from visualizer.core.training.card import now_iso  # noqa: E402

MAX_BYTES = 3 * 1024 * 1024      # the wheel's budget per model
MAX_HISTORY_BYTES = 64 * 1024
LOW_ROBUST = 0.25   # below this at its own threat, an adversarially trained model is not robust


class BundleError(VisualizerError):
    pass


def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, indent=1, allow_nan=False) + "\n").encode("utf-8")


def write_bytes(path: Path, data: bytes, what: str) -> None:
    write_atomically(path, lambda fh: fh.write(data), what)


def exact_command(card: dict) -> str:
    """The trainer's command with the thread count it ran with (it decides the bits)."""
    words = shlex.split(str(card.get("command") or ""))
    threads = (card.get("environment") or {}).get("torch_threads")
    if words and "--threads" not in words and threads:
        words += ["--threads", str(threads)]
    return shlex.join(words)


def parse_threat(text: str) -> tuple[str, tuple[str, float]]:
    """NAME=NORM:EPS, e.g. mnist-standard=linf:0.3."""
    name, _, rest = text.partition("=")
    norm, _, eps = rest.partition(":")
    try:
        value = float(eps)
    except ValueError:
        value = 0.0
    if not name or norm not in ("linf", "l2") or not value > 0:
        raise argparse.ArgumentTypeError(f"write NAME=linf:EPS or NAME=l2:EPS, not {text!r}")
    return name, (norm, value)


def bundle_one(name: str, runs: Path, dest: Path, data_root: str | None,
               threat: tuple[str, float] | None = None) -> dict:
    """Ship RUNS/NAME as NAME, or RUNS/RUN as NAME when ``name`` is RUN=NAME."""
    run, _, name = name.rpartition("=") if "=" in name else (name, "", name)
    src = runs / run
    weights, card_path = src / "model.safetensors", src / "model.json"
    for p in (weights, card_path):
        if not p.is_file():
            raise BundleError(f"{name}: {p} is missing (has the run finished?).")
    blob = weights.read_bytes()
    if len(blob) >= MAX_BYTES:
        raise BundleError(f"{name}: {weights} is {len(blob) / 2**20:.2f} MB; bundled weights must stay under 3 MB.")
    card = model_cards.read_card(card_path)
    if not model_cards.is_trainer_card(card):
        raise BundleError(f"{name}: {card_path} is not a card written by visualizer train.")
    sha = hashlib.sha256(blob).hexdigest()
    if card.get("weights_sha256") not in (None, sha):
        raise BundleError(f"{name}: the weights' SHA-256 {sha} differs from the card's {card['weights_sha256']}.")
    history = src / "history.json"
    if history.is_file() and history.stat().st_size <= MAX_HISTORY_BYTES:
        card["history"] = json.loads(history.read_text(encoding="utf-8"))
    card["reproduce"] = {"command": exact_command(card), "seed": card.get("seed"),
                         "wall_time_s": (card.get("time") or {}).get("train_seconds"),
                         "script": "scripts/train_bundled.sh", "copied_from": str(src), "bundled": now_iso()}
    model = load_card_model(name, weights, card_path, LoadOptions(device="cpu"))
    test = load_dataset(held_out_spec(card, data_root), "test")
    card["checks"] = {**card_checks(model, card, test, threat), "weights_sha256": sha, "torch": torch.__version__,
                      "torch_threads": torch.get_num_threads()}
    earlier = model_cards.read_card(dest / f"{name}.json")
    if earlier and earlier.get("weights_sha256") == sha:   # the same weights: what was measured still holds
        for key in ("judge", "evaluations", "evaluation_notes"):
            if earlier.get(key):
                card[key] = earlier[key]
    write_bytes(dest / f"{name}.safetensors", blob, f"the weights of {name}")
    write_bytes(dest / f"{name}.json", _json_bytes(card), f"the card of {name}")
    return card


def merge_judge(path: Path, dest: Path) -> str:
    """Put a judge_targeted.py result into the shipped card of the model it judged."""
    result = json.loads(path.read_text(encoding="utf-8"))
    name = str(result.get("model", ""))
    card_path = dest / f"{name}.json"
    card = model_cards.read_card(card_path)
    if card is None:
        raise BundleError(f"{path} judged {name!r}, which has no card in {dest}; bundle the model first.")
    card["judge"] = result
    write_bytes(card_path, _json_bytes(card), f"the card of {name}")
    return name


def merge_evaluation(path: Path, dest: Path) -> list[str]:
    """Put a `visualizer evaluate` record's results into the shipped card of each model it
    scored (matched by name and weights SHA-256); returns the names updated."""
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("kind") != "evaluation":
        raise BundleError(f"{path} is not an evaluation.json written by visualizer evaluate.")
    names = []
    for model in record.get("models", []):
        name, card_path = model["id"], dest / f"{model['id']}.json"
        card = model_cards.read_card(card_path)
        if not model_cards.is_trainer_card(card):
            continue
        if card.get("weights_sha256") != model.get("weights_sha256"):
            raise BundleError(f"{path} scored other weights of {name} than the shipped ones; rerun it.")
        test_size = ((card.get("data") or {}).get("test") or {}).get("size")
        entries = card_evaluations.card_entries(record, name, str(path.resolve()), str(path.resolve().parent),
                                                test_size)
        card["evaluations"] = card_evaluations.merge(card.get("evaluations"), entries)
        card["evaluation_notes"] = card_evaluations.masking_notes(card["evaluations"])
        write_bytes(card_path, _json_bytes(card), f"the card of {name}")
        names.append(name)
    if not names:
        raise BundleError(f"{path} scored none of the bundled models in {dest}.")
    return names


def write_markdown(dest: Path) -> list[tuple[str, dict]]:
    cards = [(f.name, model_cards.read_card(f.card)) for f in model_cards.card_files(dest)]
    cards = [(n, c) for n, c in cards if model_cards.is_trainer_card(c)]
    write_bytes(dest / "MODEL_CARDS.md", card_text.model_cards_markdown(cards).encode("utf-8"), "MODEL_CARDS.md")
    return cards


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("names", nargs="*", help="run names (folders under --runs), or RUN=NAME to ship RUN as NAME")
    p.add_argument("--runs", type=Path, default=Path("/work/bundled_runs"), help="folder holding the runs")
    p.add_argument("--dest", type=Path, default=ROOT / "resources" / "models")
    p.add_argument("--data-root", help="folder with mnist/ and fashion-mnist/ (default: the paths in the cards)")
    p.add_argument("--judge", type=Path, action="append", default=[], help="a judge_targeted.py --out file")
    p.add_argument("--evaluation", type=Path, action="append", default=[],
                   help="an evaluation.json of visualizer evaluate: its results go into the cards of the models it scored")
    p.add_argument("--threat", type=parse_threat, action="append", default=[],
                   help="NAME=NORM:EPS: the PGD-20 check of a standard model (robust ones use their training threat)")
    p.add_argument("--threads", type=int, default=1, help="torch threads for the checks (default 1)")
    args = p.parse_args(argv)
    if not args.names and not args.judge and not args.evaluation:
        p.error("name at least one run, or --judge FILE, or --evaluation FILE")
    torch.set_num_threads(max(1, args.threads))
    try:
        for given in args.names:
            name = given.rpartition("=")[2]
            card = bundle_one(given, args.runs, args.dest, args.data_root, dict(args.threat).get(name))
            checks = card["checks"]
            text = f"{name}: clean {checks['clean']['correct']}/{checks['clean']['images']}"
            if "robust" in checks:
                text += f", robust {checks['robust']['correct']}/{checks['robust']['images']}"
            print(text)
            robust = checks.get("robust")
            if model_cards.threat_model(card) is not None and robust and robust["accuracy"] < LOW_ROBUST:
                print(f"warning: {name} is adversarially trained but keeps only {robust['correct']}/"
                      f"{robust['images']} under PGD-20 at its own training threat: the recipe did not reach "
                      "robustness (or masked the training attack's gradients); check before shipping it.",
                      file=sys.stderr)
        for path in args.judge:
            print(f"judge results merged into {merge_judge(path, args.dest)}")
        for path in args.evaluation:
            print(f"evaluation results merged into {', '.join(merge_evaluation(path, args.dest))}")
        cards = write_markdown(args.dest)
    except (VisualizerError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(card_text.table_header() + [card_text.table_row(n, c) for n, c in cards]))
    print("\nThe talk's table (README, Robustness over a data set):")
    print("\n".join(card_text.talk_table(cards)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
