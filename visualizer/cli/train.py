"""`visualizer train`: train a classifier on a data set, standard or adversarial, and write
weights the app loads back (``ckpt:DIR/model.safetensors --arch NAME``), a model card and
per-epoch history. Under ``torchrun`` it trains with DistributedDataParallel."""

from __future__ import annotations

import os
import shlex
import sys

from visualizer.cli.common import (EXIT_INTERRUPTED, add_threads_option, note_nothing_to_resume, number, path_text,
                                   whole_number)
from visualizer.core.formatting import rate_text

NAME = "train"
HELP = "train a model on a data set (standard, FGSM-RS or PGD adversarial training); resumable, torchrun-ready"


def add_arguments(p) -> None:
    g = p.add_argument_group("what to train")
    g.add_argument("--data", required=True,
                   help="training data: mnist:DIR, fashion-mnist:DIR, folder:DIR (ImageFolder tree) or csv:FILE "
                        "(path,label rows)")
    g.add_argument("--split", choices=["train", "test"], default="train", help="split of --data to train on")
    g.add_argument("--arch", required=True,
                   help="mnist-cnn, mnist-cnn-wide, wrn-DEPTH-WIDTH, preact-resnet18, torchvision:NAME or timm:NAME")
    g.add_argument("--adversarial", default="none",
                   help="none | pgd:linf:EPS[:STEPS] | pgd:l2:EPS[:STEPS] | fgsm-rs:linf:EPS; eps in [0,1] pixel "
                        "units, fractions such as 8/255 accepted (default none; PGD steps default 7)")
    g.add_argument("--epochs", type=whole_number, default=1)
    g.add_argument("--seed", type=whole_number, default=0)
    g.add_argument("--limit", type=whole_number, help="train on the first N examples only")
    g.add_argument("--batch-size", type=whole_number, default=128, help="global batch, split across torchrun processes")
    g.add_argument("--lr", type=number, default=1e-3, help="peak learning rate of Adam's one-cycle schedule")
    g.add_argument("--eps-warmup", type=number, default=0.0, help="epochs over which eps ramps up from 0 (default 0)")
    g.add_argument("--attack-mode", choices=["eval", "train"], default="eval",
                   help="model mode while the training attack runs (batch norm, dropout); default eval")
    e = p.add_argument_group("evaluation (the model card's numbers)")
    e.add_argument("--test-data", help="held-out data spec (default: the test split of --data, else --holdout)")
    e.add_argument("--holdout", type=number, default=0.1,
                   help="fraction of --data held out for testing when it has no test split (default 0.1)")
    e.add_argument("--eval-limit", type=whole_number, help="clean accuracy on the first N test examples (default all)")
    e.add_argument("--eval-attack", default="auto",
                   help="auto (the training threat, PGD-20) | none | pgd:NORM:EPS[:STEPS] (default 20 steps)")
    e.add_argument("--eval-attack-limit", type=whole_number, default=1000,
                   help="robust accuracy on the first N test examples (default 1000)")
    e.add_argument("--watch", default="none",
                   help="none | pgd:NORM:EPS[:STEPS]: also measure robust accuracy after every epoch (default 10 "
                        "steps), on the first --watch-limit test examples, into history.json (the window's Train tab)")
    e.add_argument("--watch-limit", type=whole_number, default=200,
                   help="test examples for --watch (default 200; --eval-limit the same gives clean accuracy on them)")
    r = p.add_argument_group("running")
    r.add_argument("--out", required=True, type=path_text,
                   help="output folder (new or empty, unless --resume or --overwrite)")
    r.add_argument("--resume", action="store_true", help="continue an interrupted run in --out (same settings)")
    r.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
    r.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps")
    add_threads_option(r)


def config_from_args(args):
    from visualizer.core.training import TrainConfig, parse_adversarial

    return TrainConfig(
        data=args.data, arch=args.arch, out=args.out, adversarial=parse_adversarial(args.adversarial, "--adversarial"),
        epochs=args.epochs, seed=args.seed, split=args.split, test_data=args.test_data, holdout=args.holdout,
        limit=args.limit, eval_limit=args.eval_limit, eval_attack=args.eval_attack,
        eval_attack_limit=args.eval_attack_limit, batch_size=args.batch_size, lr=args.lr,
        eps_warmup=args.eps_warmup, attack_mode=args.attack_mode)


def command_line(config, threads: int | None = None, device: str | None = None) -> str:
    """The full command that reproduces ``config`` (every setting spelled out, for the card),
    with the thread count and device when given: on a CPU the thread count decides the bits."""
    words = ["visualizer", "train"]
    for key, value in config.to_dict().items():
        if value is not None:
            words += [f"--{key.replace('_', '-')}", repr(value) if isinstance(value, float) else str(value)]
    if device not in (None, "auto"):
        words += ["--device", device]
    if threads is not None:
        words += ["--threads", str(threads)]
    return shlex.join(words)


class EpochBar:
    """The progress line: batches/s, ETA, loss, adversarial and sampled clean batch accuracy."""

    def __init__(self, main: bool):
        self.main, self.bar, self.epoch = main, None, None

    def __call__(self, event) -> None:
        from visualizer.core.training import BatchProgress, EpochDone, Evaluating
        from visualizer.progress import ProgressBar

        if not self.main:
            return
        if isinstance(event, BatchProgress):
            if event.epoch != self.epoch:
                self.close()
                self.epoch, self.bar = event.epoch, ProgressBar(f"epoch {event.epoch}/{event.epochs}")
            if self.bar.due(event.batch, event.batches):
                self.bar.update(event.batch, event.batches, describe_batch(event))
        elif isinstance(event, EpochDone):
            self.close()
            print(describe_epoch(event.record), file=sys.stderr)
        elif isinstance(event, Evaluating):
            if self.epoch != event.what:
                self.close()
                self.epoch, self.bar = event.what, ProgressBar("test accuracy under attack" if event.what == "adversarial"
                                                              else f"test accuracy ({event.what})")
            self.bar.update(event.done, event.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def describe_batch(e) -> str:
    rate = e.batch / e.elapsed_s if e.elapsed_s > 0 else 0.0
    text = f"{rate_text(rate, 'batch'):>12}  loss {float(e.loss_sum) / e.seen:.3f}"
    if e.clean_correct is not None:
        text += f"  adv {float(e.correct) / e.seen:.1%}"
        if e.clean_seen:
            text += f"  clean {float(e.clean_correct) / e.clean_seen:.1%}"
        text += f"  eps {e.eps:.3g}"
    else:
        text += f"  acc {float(e.correct) / e.seen:.1%}"
    return text


def describe_epoch(r: dict) -> str:
    adv = r.get("train_adversarial_accuracy")
    train = f"train adv {adv:.1%}" if adv is not None else f"train {r['train_accuracy']:.1%}"
    robust = (f", robust {r['test_robust_accuracy']:.2%} ({r['test_robust_images']} images)"
              if "test_robust_accuracy" in r else "")
    return (f"epoch {r['epoch']}: loss {r['train_loss']:.4f}, {train}, test clean {r['test_clean_accuracy']:.2%} "
            f"({r['test_images']} images){robust}, {r['seconds']:.1f} s ({rate_text(r['batches_per_s'], 'batch')})")


def run(args) -> int:
    import torch

    from visualizer.cli.common import drive, install_cancel_on_interrupt
    from visualizer.core.training import train_steps
    from visualizer.core.training.evaluate import parse_watch
    from visualizer.core.training.distributed import launched_by_torchrun

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    config = config_from_args(args)
    watch = parse_watch(args.watch, args.watch_limit)
    if config.eps_warmup > config.epochs:
        r = config.adversarial
        print(f"warning: --eps-warmup {config.eps_warmup:g} is longer than the {config.epochs} epoch(s): the "
              f"eps never reaches {r.eps:g}; the last batch trains at {r.eps * config.epochs / config.eps_warmup:.3g}",
              file=sys.stderr)
    distributed = launched_by_torchrun()
    main = not distributed or os.environ.get("RANK") == "0"
    # Ctrl-C under torchrun: torchrun stops every process; a graceful stop of one would leave
    # the others waiting for it.
    cancel = None if distributed else install_cancel_on_interrupt()
    if main:
        note_nothing_to_resume(args)
    bar = EpochBar(main)
    result = drive(train_steps(config, device=args.device, resume=args.resume, overwrite=args.overwrite,
                               command=command_line(config, args.threads, args.device), cancel=cancel,
                               watch=watch, keep_on_cancel=True), bar)
    bar.close()
    if not main:
        return 0
    if result.cancelled:
        done = len(result.history)
        if done:
            # As the window's Cancel does: the last finished epoch is a loadable model too.
            print(f"interrupted: {done} epoch(s) finished; the weights after epoch {done} are a loadable model in "
                  f"{args.out} (model.safetensors, model.json), and the same command with --resume continues "
                  "from there", file=sys.stderr)
        else:
            print("interrupted during the first epoch: nothing to resume from (a checkpoint is written after "
                  "each epoch)", file=sys.stderr)
        return EXIT_INTERRUPTED
    m = result.card["metrics"]
    text = f"clean accuracy {m['clean_accuracy']:.2%} ({m['clean_images']} test images)"
    if "pgd_accuracy" in m:
        a = m["pgd_attack"]
        text += (f"; under PGD-{a['steps']} {a['norm']} eps {a['eps']:.4g}: {m['pgd_accuracy']:.2%} "
                 f"({m['pgd_images']} images)")
    print(text)
    print(f"wrote {args.out}: model.safetensors, model.json, history.json, labels.txt. Load it with "
          f"--model ckpt:{os.path.join(args.out, 'model.safetensors')} --arch {result.card['architecture']} "
          f"--labels {os.path.join(args.out, 'labels.txt')}")
    return 0
