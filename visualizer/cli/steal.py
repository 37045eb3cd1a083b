"""`visualizer steal`: steal a model through its prediction API. Query the victim through an
oracle (probabilities, top-k or labels), train a substitute per query count with the
project's trainer, and report its agreement with the victim, its test accuracy and how well
PGD crafted on it transfers to the victim (steal.json, steal_curve figure, one trained
model folder per substitute)."""

from __future__ import annotations

import sys

from visualizer.cli.common import (EXIT_INTERRUPTED, add_threads_option, dpi, drive, install_cancel_on_interrupt,
                                   note_nothing_to_resume, number, path_text, whole_number)

NAME = "steal"
HELP = "model stealing through an oracle: substitute agreement vs queries, PGD transfer to the victim, defences"


def add_arguments(p) -> None:
    v = p.add_argument_group("the victim (seen only through the oracle)")
    v.add_argument("--victim", required=True,
                   help="a bundled name, ckpt:PATH (with --victim-arch; a `visualizer train` folder's "
                        "model.safetensors), torchscript:PATH, torchvision:NAME or timm:NAME")
    v.add_argument("--victim-arch", help="architecture of a ckpt: victim, e.g. mnist-cnn")
    v.add_argument("--victim-labels", help="class names of a ckpt: victim: a file, one name per line")
    v.add_argument("--oracle", default="label", help="what the victim reveals: probs, topk:K, rounded:D or label "
                                                     "(default label)")
    v.add_argument("--defence", default="none",
                   help="victim-side defence: none, label, rounded:D, reverse-sigmoid[:BETA[:GAMMA]]; "
                        "a comma list runs the theft once per defence to compare their cost (default none)")
    t = p.add_argument_group("the thief")
    t.add_argument("--queries", required=True, help="query counts, increasing, e.g. 1000,5000: one substitute each, "
                                                    "trained on the first N answers")
    t.add_argument("--query-data", required=True,
                   help="what the thief sends: a data set's unlabelled training images (e.g. fashion-mnist:DIR), "
                        "noise, or jacobian (Papernot et al. 2017 augmentation from --seed-size images of --test-data)")
    t.add_argument("--arch", required=True, help="the substitute's architecture, e.g. mnist-cnn")
    t.add_argument("--epochs", type=whole_number, default=10, help="training epochs per substitute (default 10)")
    t.add_argument("--batch-size", type=whole_number, default=128, help="training batch (default 128)")
    t.add_argument("--lr", type=number, default=1e-3, help="peak learning rate (default 0.001)")
    t.add_argument("--copies", type=whole_number, default=1,
                   help="substitutes per query count, trained with seeds SEED, SEED+1, ... on the same answers (no "
                        "extra query); transfer PGD is crafted on the mean of their logits (default 1)")
    t.add_argument("--shifts", type=whole_number, default=0,
                   help="train each copy also on K randomly shifted versions (up to 2 px) of every answered image, "
                        "with the same answer: no extra query (default 0)")
    t.add_argument("--adversarial", default="none",
                   help="train each copy with this adversarial recipe, as `visualizer train --adversarial`; a small "
                        "eps (e.g. pgd:l2:1.0:2) makes a slightly robust copy whose PGD transfers better "
                        "(default none)")
    t.add_argument("--copy", action="append", default=[], metavar="RECIPE",
                   help="one copy per --copy, each trained its own way on the same answers: comma-separated "
                        "epochs=N, seed=S, shifts=K, adversarial=RECIPE, pseudo=N, arch=NAME (unnamed fields: "
                        "--epochs, --seed + the copy's index, --shifts, --adversarial, --arch), e.g. --copy epochs=16 "
                        "--copy shifts=3,epochs=4,arch=mnist-cnn-wide")
    t.add_argument("--adversarial-queries", type=number, default=0.0, metavar="SHARE",
                   help="send this share (0 to 0.5) of each query count's new queries as PGD adversarial versions "
                        "(the measured attack) of its new images, crafted on a substitute trained on the answers "
                        "before: they show the thief the victim's boundary where transfer is decided (default 0)")
    t.add_argument("--query-select", default="order", choices=("order", "uncertainty"),
                   help="which images are asked: order (the data set's first images, default) or uncertainty "
                        "(the first query count's in order, then for each later count the --pool images the "
                        "substitute trained at the count before is least sure of: ActiveThief, Pal et al. 2020; "
                        "needs two or more counts, e.g. 1000,2000,3000,4000,5000, and a first count large enough "
                        "for a fair substitute; its PGD transfers better, no extra query)")
    t.add_argument("--pool", type=whole_number, default=0, metavar="N",
                   help="uncertainty: choose among the first N training images of --query-data (only those "
                        "chosen are sent), more than the largest query count (default 10 x the largest count, or "
                        "as many as the set holds)")
    t.add_argument("--seed-size", type=whole_number, default=100,
                   help="jacobian: in-distribution seed images (default 100; they cost queries too)")
    m = p.add_argument_group("measuring")
    m.add_argument("--test-data", required=True, help="data set of the victim's task, e.g. mnist:DIR: its test split "
                                                      "measures accuracy and agreement")
    m.add_argument("--test-limit", type=whole_number, default=2000, help="first N test images (default 2000)")
    m.add_argument("--attack-eps", type=number, default=0.2, help="PGD L-inf budget, [0,1] pixels (default 0.2)")
    m.add_argument("--attack-steps", type=whole_number, default=20, help="PGD steps (default 20)")
    m.add_argument("--attack-loss", default="ce", type=attack_loss,
                   help="the loss PGD maximises: ce (cross-entropy, default), margin (Carlini & Wagner's logit "
                        "margin) or margin:KAPPA (stop pushing KAPPA logits past the boundary)")
    m.add_argument("--attack-momentum", type=number, default=0.0,
                   help="MI-FGSM momentum decay (Dong et al. 2018; 1.0 in the paper), 0 = plain PGD (default 0)")
    m.add_argument("--attack-limit", type=whole_number, default=500,
                   help="attack the first N test images the victim classifies correctly (default 500)")
    r = p.add_argument_group("running")
    r.add_argument("--out", required=True, type=path_text, help="output folder (new or empty, unless --resume)")
    r.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in --out (same settings): finished query counts are kept, "
                        "answers already bought are not asked again")
    r.add_argument("--seed", type=whole_number, default=0, help="seed of noise, PGD and the copies' training (default 0); copy i trains "
                        "from a salted hash of SEED + i, never a small trainer seed such as the one a victim trained "
                        "by `visualizer train` may have had")
    r.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N, mps or auto")
    add_threads_option(r)
    r.add_argument("--dpi", type=dpi, default=200, help="resolution of the PNG figure, 72 to 1200 (default 200)")


def attack_loss(text: str) -> tuple[str, float | None]:
    """ce | margin | margin:KAPPA -> (loss, kappa)."""
    import argparse

    loss, _, kappa = text.strip().lower().partition(":")
    if loss not in ("ce", "margin") or (kappa and loss != "margin"):
        raise argparse.ArgumentTypeError(f"write ce, margin or margin:KAPPA, not {text!r}")
    try:
        return loss, (float(kappa) if kappa else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"KAPPA must be a number of logits, not {kappa!r}") from None


def _config(args):
    from visualizer.core.stealing import StealConfig, parse_defences, parse_query_counts, parse_query_source

    return StealConfig(victim=args.victim, oracle=args.oracle, queries=tuple(parse_query_counts(args.queries)),
                       query_data=str(parse_query_source(args.query_data)), arch=args.arch, test_data=args.test_data,
                       out=args.out, defences=tuple(parse_defences(args.defence)), seed=args.seed, epochs=args.epochs,
                       batch_size=args.batch_size, lr=args.lr, test_limit=args.test_limit, seed_size=args.seed_size,
                       attack_eps=args.attack_eps, attack_steps=args.attack_steps, attack_limit=args.attack_limit,
                       device=args.device, attack_loss=args.attack_loss[0], attack_kappa=args.attack_loss[1],
                       attack_momentum=args.attack_momentum, copies=args.copies, shifts=args.shifts,
                       adversarial=args.adversarial, copy_specs=tuple(args.copy),
                       adversarial_queries=args.adversarial_queries, query_select=args.query_select,
                       pool=args.pool)


def run(args) -> int:
    import torch

    from visualizer.core.data import load_dataset
    from visualizer.core.models.registry import LoadOptions, load_model
    from visualizer.core.stealing import StealProgress, run_steal, write_steal
    from visualizer.core.stealing.run import check_steal_fits
    from visualizer.core.stealing.store import StealStore
    from visualizer.progress import ProgressBar

    config = _config(args)                      # bad specs fail before anything loads
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    # Everything that can be refused is, before the folder is made: a half-made folder made the
    # corrected command need --resume or another folder.
    victim = load_model(args.victim, LoadOptions(arch=args.victim_arch, labels=args.victim_labels, device=args.device))
    test = load_dataset(args.test_data, "test", preprocessing=victim.info.preprocessing,
                        class_names=victim.info.class_names, limit=args.test_limit)
    check_steal_fits(config, victim)        # e.g. topk:11 of 10 classes, too few query images
    note_nothing_to_resume(args)
    store = StealStore(args.out, config.fingerprint(), args.resume)
    cancel = install_cancel_on_interrupt()
    bar = ProgressBar("steal", stream=sys.stderr)
    total = config.queries[-1] * len(config.defences)

    last = config.queries[-1]
    # The bar counts query counts measured (asking, training and attacking a count all take
    # time): counting the queries asked read "2000/2000 ETA 0.0s" through the half-minute of
    # training and PGD still to come.
    measured = _measured_before(store, config) if args.resume else 0
    if measured:            # an earlier run's work: the ETA uses this run's own rate
        bar.resumed_from(measured)

    def show(event: StealProgress) -> None:
        nonlocal measured
        base = config.defences.index(event.defence) * last if event.defence in config.defences else 0
        if event.stage == "measured":
            measured = base + event.queries
        bar.update(measured, total, f"{event.defence}: {event.stage} at {event.queries} queries")

    record = drive(run_steal(config, victim, test, cancel, store), show)
    bar.close()
    record = write_steal(args.out, record, dpi=args.dpi)
    print(summary(record))
    print(f"written to {args.out}: steal.json, steal_curve.{{png,pdf,svg}}, one model folder per substitute")
    if record["cancelled"]:
        print(f"interrupted: the finished query counts are kept in {args.out}; the same command with --resume "
              "continues from there", file=sys.stderr)
    return EXIT_INTERRUPTED if record["cancelled"] else 0


def _measured_before(store, config) -> int:
    """The bar's position where an interrupted run stopped: per defence, its largest query
    count already measured (defences in order, each worth the largest count)."""
    position = 0
    for index, defence in enumerate(config.defences):
        saved = store.run(defence)
        if saved is not None and saved[0]["points"]:
            position = index * config.queries[-1] + max(p["queries"] for p in saved[0]["points"])
    return position


def summary(record: dict) -> str:
    """Per defence and query count: agreement, accuracy, transfer; then white-box."""
    white = record["white_box"]
    attack = record["attack"]
    lines = [f"victim test accuracy {100 * record['test']['victim_accuracy']:.1f}% on {record['test']['size']} images; "
             f"PGD-{attack['steps']} L-inf eps {attack['eps']:g} white-box on the victim: "
             f"{100 * (white['success_rate'] or 0):.1f}% of {white['n']}"]
    method = record.get("transfer_method") or {}
    arch = record["settings"]["arch"]
    if method.get("copies", 1) > 1 or any(r["shifts"] or r["adversarial"] != "none" or r.get("arch", arch) != arch
                                          for r in method.get("recipes", [])):
        lines.append(f"transfer PGD crafted on {method['crafted_on']}")
    if record["settings"].get("query_select") == "uncertainty":
        lines.append("queries after the first count chosen by uncertainty: the pool images the substitute of the "
                     "count before was least sure of")
    for run in record["runs"]:
        lines.append(f"  defence {run['defence']} (answers {run['oracle']}; top-1 kept for honest users "
                     f"{100 * run['top1_kept']:.1f}%), {run['oracle_queries']} oracle queries:")
        lines.append("    queries  agreement [95% CI]      test acc  transfer success")
        for p in run["points"]:
            low, high = p["agreement_ci95"]
            lines.append(f"    {p['queries']:>7}  {100 * p['agreement']:5.1f}% [{100 * low:5.1f}, {100 * high:5.1f}]"
                         f"  {100 * p['test_accuracy']:6.1f}%  {100 * (p['transfer']['success_rate'] or 0):6.1f}%")
    return "\n".join(lines)
