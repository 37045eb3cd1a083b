"""`visualizer poison`: plant a backdoor (BadNets or clean-label) in a data set at several
poison rates, train a model at each with the trainer of `visualizer train`, and measure
clean accuracy and attack success rate; optionally find the poisons with spectral
signatures and retrain without them."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from visualizer.cli.common import EXIT_INTERRUPTED, add_threads_option, dpi, number, path_text, whole_number

NAME = "poison"
HELP = "backdoor a data set (BadNets, clean-label) at several poison rates; ASR, clean accuracy, detector"
# Bundled robust models the clean-label attack uses when --robust-model is not given, by data kind
# (none is bundled for MNIST yet: then the option is required).
ROBUST_DEFAULTS = {"mnist": ("mnist-robust",), "fashion-mnist": ("fashion-robust", "fashion-mnist-robust")}
# Bundled robust models of another threat model, offered in the message when no default exists.
OTHER_ROBUST = {"mnist": ("mnist-robust-l2",), "fashion-mnist": ("fashion-robust-l2",)}


def _other_robust(kind: str) -> str:
    from visualizer.core.models.bundled import BUNDLED_NAMES

    names = [n for n in OTHER_ROBUST.get(kind, ()) if n in BUNDLED_NAMES]
    return f"; the bundled L2 model serves too: --robust-model {names[0]}" if names else ""


def add_arguments(p) -> None:
    g = p.add_argument_group("the backdoor")
    g.add_argument("--data", required=True, help="mnist:DIR, fashion-mnist:DIR, folder:DIR or csv:FILE; its train "
                                                 "split is poisoned, its test split measures")
    g.add_argument("--attack", choices=["badnets", "clean-label"], default="badnets",
                   help="badnets (relabel triggered images, Gu et al. 2017) or clean-label (target-class images, "
                        "labels kept, Turner et al. 2018); default badnets")
    g.add_argument("--trigger", default="patch:checker:4:br",
                   help="patch:checker|square|FILE:SIZE[:br|bl|tr|tl|center|X,Y], blend:FILE|noise:ALPHA, or an "
                        "image file (default patch:checker:4:br)")
    g.add_argument("--target", required=True, help="the class the trigger should produce: index or name")
    g.add_argument("--rates", default="0,0.001,0.005,0.01,0.05",
                   help="poison rates, fractions of the training set, comma-separated "
                        "(default 0,0.001,0.005,0.01,0.05)")
    t = p.add_argument_group("training (as visualizer train)")
    t.add_argument("--arch", default="mnist-cnn", help="architecture trained at every rate (default mnist-cnn)")
    t.add_argument("--epochs", type=whole_number, default=1)
    t.add_argument("--seed", type=whole_number, default=0, help="weights, data order and the choice of poisons")
    t.add_argument("--limit", type=whole_number, help="use the first N training images only")
    t.add_argument("--eval-limit", type=whole_number, help="measure on the first N test images (default all)")
    t.add_argument("--batch-size", type=whole_number, default=128)
    t.add_argument("--lr", type=number, default=1e-3, help="peak learning rate of Adam's one-cycle schedule")
    c = p.add_argument_group("clean-label")
    c.add_argument("--robust-model", help="adversarially trained model whose PGD perturbation hides the poisons' "
                                          "features: a bundled name, ckpt:PATH (with --robust-arch), torchscript:PATH")
    c.add_argument("--robust-arch", help="architecture of a ckpt: --robust-model (e.g. mnist-cnn)")
    c.add_argument("--perturb-eps", type=number, default=0.3,
                   help="L-inf budget of that PGD, [0,1] pixels (default 0.3)")
    c.add_argument("--perturb-steps", type=whole_number, default=20, help="PGD steps (default 20)")
    d = p.add_argument_group("defence")
    d.add_argument("--detect", action="store_true",
                   help="flag suspects with spectral signatures (Tran et al. 2018), retrain without them")
    d.add_argument("--detect-eps", type=number,
                   help="upper bound on a class's poisoned fraction; 1.5 x it is removed from each class "
                        "(default: the true fraction, a known-budget experiment)")
    d.add_argument("--detect-directions", type=whole_number, default=10,
                   help="score on the top K singular vectors of each class's activations (default 10: on MNIST "
                        "the poisons' offset spreads over several; 1 is Tran et al.'s original)")
    r = p.add_argument_group("running")
    r.add_argument("--out", required=True, type=path_text, help="output folder (new or empty unless --overwrite)")
    r.add_argument("--overwrite", action="store_true", help="write into a folder that already holds files")
    r.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps")
    add_threads_option(r)
    r.add_argument("--dpi", type=dpi, default=200, help="resolution of the PNG figures (default 200)")


def _robust_model(args, kind: str, device):
    """The clean-label attack's robust model (ClassifierModel: [0, 1] pixels in), or None."""
    from visualizer.core.errors import ParameterError
    from visualizer.core.models.bundled import BUNDLED_NAMES
    from visualizer.core.models.options import LoadOptions
    from visualizer.core.models.registry import load_model

    if args.attack != "clean-label":
        return None, None
    spec = args.robust_model
    if spec is None:
        spec = next((n for n in ROBUST_DEFAULTS.get(kind, ()) if n in BUNDLED_NAMES), None)
    if spec is None:
        raise ParameterError(
            "--attack clean-label needs --robust-model: an adversarially trained model of this data (no L-inf "
            f"robust model for {kind} is bundled yet{_other_robust(kind)}). Or train one with `visualizer train "
            f"--data {args.data} --arch mnist-cnn --adversarial pgd:linf:0.3 --out robust` and pass "
            "--robust-model ckpt:robust/model.safetensors --robust-arch mnist-cnn.")
    return load_model(spec, LoadOptions(arch=args.robust_arch, device=str(device))), spec


def config_from_args(args, robust_spec):
    from visualizer.core.numbers import parse_numbers
    from visualizer.core.poisoning import PoisonConfig, parse_trigger

    return PoisonConfig(
        data=args.data, attack=args.attack, trigger=parse_trigger(args.trigger), target=args.target, arch=args.arch,
        out=args.out, rates=parse_numbers(args.rates, "--rates", example="0,0.01,0.05"), epochs=args.epochs, seed=args.seed,
        limit=args.limit, eval_limit=args.eval_limit, batch_size=args.batch_size, lr=args.lr, detect=args.detect,
        detect_eps=args.detect_eps, detect_directions=args.detect_directions,
        perturb_eps=args.perturb_eps, perturb_steps=args.perturb_steps,
        robust_model=robust_spec)


def command_line(config) -> str:
    """The `visualizer poison` command that repeats ``config`` (the window's runs record it).
    A clean-label run names its robust model by the spec it was loaded from."""
    words = ["visualizer", "poison", "--data", config.data, "--attack", config.attack, "--trigger",
             config.trigger.spec(), "--target", str(config.target), "--rates", ",".join(f"{r:g}" for r in config.rates),
             "--arch", config.arch, "--epochs", str(config.epochs), "--seed", str(config.seed),
             "--batch-size", str(config.batch_size), "--lr", f"{config.lr:g}"]
    for flag, value in (("--limit", config.limit), ("--eval-limit", config.eval_limit)):
        if value is not None:
            words += [flag, str(value)]
    if config.attack == "clean-label":
        words += ["--robust-model", str(config.robust_model), "--perturb-eps", f"{config.perturb_eps:g}",
                  "--perturb-steps", str(config.perturb_steps)]
    if config.detect:
        words += ["--detect", "--detect-directions", str(config.detect_directions)]
        if config.detect_eps is not None:
            words += ["--detect-eps", f"{config.detect_eps:g}"]
    return shlex.join(words + ["--out", config.out])


def describe_rate(entry: dict) -> str:
    text = (f"rate {entry['rate']:g} ({entry['poisons']} poisons): clean accuracy {entry['clean_accuracy']:.2%}, "
            f"attack success rate {entry['attack_success_rate']:.2%}")
    found = entry.get("detection")
    if found:
        p = "n/a" if found["precision"] is None else f"{found['precision']:.1%}"
        text += (f"\n  spectral signatures flagged {found['flagged']}: {found['true_positives']} of {found['poisons']} "
                 f"poisons (recall {found['recall']:.1%}, precision {p}); retrained: clean accuracy "
                 f"{found['retrained']['clean_accuracy']:.2%}, attack success rate "
                 f"{found['retrained']['attack_success_rate']:.2%}")
    from visualizer.core.formatting import broken_model_note

    for what, checked in (("", entry), ("retrained: ", (found or {}).get("retrained") or {})):
        note = broken_model_note(checked)
        if note:
            text += f"\n  warning: {what}{note}"
    return text


def run(args) -> int:
    import torch

    from visualizer.core.data.spec import parse_data_spec
    from visualizer.core.device import pick_device
    from visualizer.core.training import outputs

    from visualizer.core.poisoning.config import resolve_target

    args.target = resolve_target(args.target, args.data)     # an index; before any model, folder or training
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    robust, robust_spec = _robust_model(args, parse_data_spec(args.data).kind, device)
    config = config_from_args(args, robust_spec)
    out = Path(args.out)
    with outputs.removed_if_left_empty(out):
        outputs.prepare_folder(out, resume=False, overwrite=args.overwrite)
        return _sweep(args, config, robust, device, out)


def _sweep(args, config, robust, device, out: Path) -> int:
    """The sweep into the prepared ``out``: progress, files, the summary; the exit status."""
    from visualizer.cli.common import drive, install_cancel_on_interrupt
    from visualizer.cli.train import EpochBar
    from visualizer.core.poisoning import RateDone, RateStarted, sweep_steps
    from visualizer.core.poisoning.output import write_sweep_files
    from visualizer.core.poisoning.record import build_record
    from visualizer.core.training.card import now_iso

    command = shlex.join(["visualizer", "poison", *sys.argv[2:]]) if sys.argv[1:2] == ["poison"] else None
    started = now_iso()
    bars = [EpochBar(True)]

    def on_event(event) -> None:
        bar = bars[-1]
        if isinstance(event, RateStarted):
            bar.close()
            bars.append(EpochBar(True))   # a fresh bar: every training run counts epochs from 1
            print(f"[{event.number}/{event.rates}] rate {event.rate:g}: {event.what}, {event.poisons} poisons",
                  file=sys.stderr)
        elif isinstance(event, RateDone):
            bar.close()
            print(describe_rate(event.entry))
        else:
            bar(event)

    result = drive(sweep_steps(config, robust, device=str(device), command=command,
                               cancel=install_cancel_on_interrupt()), on_event)
    bars[-1].close()
    record = build_record(config, result, command, started)
    write_sweep_files(out, record, result, dpi=args.dpi)
    if result.cancelled:
        print(f"interrupted after {len(record['rates'])} rate(s); what finished is in {out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"wrote {out}: poison.json, curves.png/pdf/svg, examples.png/pdf/svg, and per rate "
          f"rate-R/model.safetensors + model.json (load with --model ckpt:{out}/rate-R/model.safetensors "
          f"--arch {args.arch}) in {record['time']['seconds']:.0f} s")
    return 0
