"""`visualizer evaluate`: accuracy of one or more models under threats over the first N
examples of a data set: evaluation.json, per_example.csv, the table, the curves and the
gallery of failures. Under ``torchrun --nproc_per_node=K -m visualizer evaluate ...`` the
examples are shared between the processes and rank 0 writes the results."""

from __future__ import annotations

import sys

from visualizer.cli.common import (EXIT_INTERRUPTED, add_model_options, add_threads_option, count, dpi, drive,
                                   install_cancel_on_interrupt, load_models, load_options, note_nothing_to_resume,
                                   path_text, print_warnings, whole_number)
from visualizer.core.formatting import rate_text

NAME = "evaluate"
HELP = "accuracy of models under attacks over a data set: table, curves, per-example CSV (resumable, torchrun)"


def add_arguments(p) -> None:
    from visualizer.core.data.spec import SPEC_FORMS

    add_model_options(p, several=True)
    p.add_argument("--data", required=True, help=f"data set: {', '.join(SPEC_FORMS)}")
    p.add_argument("--split", default="test", choices=["train", "test"],
                   help="which split of a set that has them (default test)")
    p.add_argument("--limit", type=count, help="evaluate the first N examples in the data set's order (default all)")
    p.add_argument("--threat", action="append", required=True,
                   help="repeatable: clean, fgsm:linf:EPS, pgd:linf|l2:EPS[:STEPS[:RESTARTS]], "
                        "apgd-ce:NORM:EPS[:STEPS[:RESTARTS]], apgd-t:NORM:EPS[:STEPS[:TARGETS]], autoattack:NORM:EPS, "
                        "spatial:grid[:MAXROT:ROTS:MAXTRANS:TRANS], spatial:worst-of-k[:K], transfer:pgd:NORM:EPS[:STEPS] "
                        "(crafted on each --model, scored on every other: transfer_matrix), query attacks through an "
                        "oracle square|nes|hopskipjump:NORM:EPS[:QUERIES]; EPS in [0,1] pixel units "
                        "(8/255 accepted); a comma list of EPS makes a curve; A+B: robust only if both fail")
    p.add_argument("--batch-size", type=count, default=64, help="examples per batch (default 64)")
    p.add_argument("--seed", type=whole_number, default=0, help="seed of every random start and draw (default 0)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out (same settings)")
    p.add_argument("--out", required=True, type=path_text, help="output folder (new or empty, unless --resume)")
    p.add_argument("--dpi", type=dpi, default=200, help="resolution of the PNG figures (default 200)")
    add_threads_option(p)


def _open_store(args, models, datasets, threats, coll):
    """Rank 0 checks and prepares the folder; every rank learns whether that failed."""
    from visualizer.core.errors import OutputError
    from visualizer.core.evaluation import RunStore, settings_fingerprint

    store, problem = None, None
    if coll.rank == 0:
        note_nothing_to_resume(args)
        try:
            store = RunStore(args.out, settings_fingerprint(models, datasets[0].describe(), threats, args.batch_size,
                                                            args.seed), args.resume)
        except OutputError as exc:
            problem = str(exc)
    problem = coll.broadcast(problem)
    if problem:
        raise OutputError(problem)
    return store


def run(args) -> int:
    from visualizer.core.data import load_dataset
    from visualizer.core.errors import ParameterError
    from visualizer.core.evaluation import AttackProgress, BatchesFinished, evaluate, parse_threats
    from visualizer.core.evaluation.distributed import from_environment, rank_device
    from visualizer.core.evaluation.output import write_evaluation
    from visualizer.core.evaluation.threats import check_threats_fit
    from visualizer.core.evaluation.transfer import expand_transfer
    from visualizer.progress import ProgressBar

    threats = parse_threats(args.threat)          # bad specs fail before anything loads
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if args.batch_size < 1:
        raise ParameterError(f"--batch-size must be at least 1, not {args.batch_size}.")
    coll = from_environment()
    try:
        lead = coll.rank == 0
        options = load_options(args)
        options.device = rank_device(options.device)
        models = load_models(args.model, options)
        expand_transfer(threats, [m.info.model_id for m in models])     # fails before the folder is made
        check_threats_fit(threats, models)                               # e.g. apgd-t's 12 targets of 10 classes
        datasets = [load_dataset(args.data, args.split, preprocessing=m.info.preprocessing,
                                 class_names=m.info.class_names, limit=args.limit) for m in models]
        store = _open_store(args, models, datasets, threats, coll)
        cancel = install_cancel_on_interrupt()
        bar = ProgressBar("evaluate", stream=sys.stderr if lead else _Silent())
        state = {"done": 0, "total": len(datasets[0]), "rate": ""}

        def show(event) -> None:
            if isinstance(event, BatchesFinished):
                if not event.new_examples:         # resumed: an earlier run's count
                    bar.resumed_from(event.examples_done)
                state.update(done=event.examples_done, rate=rate_text(event.images_per_s) if event.new_examples else "")
                bar.update(event.examples_done, event.examples_total, state["rate"])
            elif isinstance(event, AttackProgress):
                bar.update(state["done"], state["total"], f"{state['rate']}  {_short(event.model)} "
                           f"{event.threat} {event.attack} {event.done}/{event.total}")

        result = drive(evaluate(models, datasets, threats, batch_size=args.batch_size, seed=args.seed,
                                cancel=cancel, store=store, collective=coll), show)
        bar.close()
        if not lead:
            return 0
        record = write_evaluation(args.out, result, dpi=args.dpi)
    finally:
        coll.close()
    print(summary(record))
    print_warnings(record["warnings"])
    print(f"written to {args.out}: {_file_list(record['files'])}")
    if not record["complete"]:
        print(f"stopped after {record['examples']['done']} of {record['examples']['requested']} examples; "
              f"run the same command with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _file_list(files: dict) -> str:
    """'evaluation.json, per_example.csv, table.{png,pdf,svg}, ...'."""
    names = ["evaluation.json"]
    for value in files.values():
        if isinstance(value, str):
            names.append(value)
            continue
        stems: dict[str, list[str]] = {}
        for name in value:
            stem, _, suffix = name.rpartition(".")
            stems.setdefault(stem, []).append(suffix)
        names += [f"{stem}.{{{','.join(suffixes)}}}" for stem, suffixes in stems.items()]
    return ", ".join(names)


class _Silent:
    """Where the progress of ranks other than 0 goes (rank 0 reports for all)."""

    def write(self, _text) -> None:
        pass

    def flush(self) -> None:
        pass


def _short(model_id: str, limit: int = 24) -> str:
    return model_id if len(model_id) <= limit else "\u2026" + model_id[-(limit - 1):]


def summary(record: dict) -> str:
    """Accuracy per model and threat, with its 95% interval and speed, as aligned text."""
    from visualizer.core.figures.evaluation import display_names

    data = record["data"]
    lines = [f"accuracy on {data['kind']}{' ' + data['split'] if data.get('split') else ''}, "
             f"{record['examples']['done']} examples (95% Wilson interval):"]
    width = max(len(r["threat"]) for r in record["results"]) if record["results"] else 10
    ids = [m["id"] for m in record["models"]]
    names = dict(zip(ids, display_names(ids)))
    current = None
    for r in record["results"]:
        if r["model"] != current:
            current = r["model"]
            lines.append(f"  {names[current]}")
        low, high = r["ci95"] or (0.0, 1.0)
        speed = f"{rate_text(r['images_per_s']):>14}" if r["images_per_s"] else ""
        lines.append(f"    {r['threat']:<{width}}  {100 * r['accuracy']:5.1f}%  [{100 * low:5.1f}, {100 * high:5.1f}]"
                     f"  {speed}")
    return "\n".join(lines)
