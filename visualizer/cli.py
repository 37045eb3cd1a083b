"""The ``visualizer`` command: the desktop app with no arguments, and headless
``models``, ``attack``, ``sweep`` and ``saliency`` subcommands over the same core.

Heavy modules (torch, the core) are imported inside the commands so ``--help`` is instant;
Qt is never imported here except to start the app.
"""

from __future__ import annotations

import argparse
import signal
import sys

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _floats3(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 0.485,0.456,0.406, got {text!r}")
    if len(values) not in (1, 3):
        raise argparse.ArgumentTypeError("give 1 or 3 comma-separated values")
    return values


def _add_model_options(p: argparse.ArgumentParser, several: bool = False) -> None:
    g = p.add_argument_group("model")
    help_model = ("a bundled name (see `visualizer models`), torchvision:NAME, timm:NAME, ckpt:PATH (with --arch) "
                  "or torchscript:PATH")
    if several:
        g.add_argument("--model", action="append", required=True, help=help_model + "; repeat to compare models")
    else:
        g.add_argument("--model", required=True, help=help_model)
    g.add_argument("--arch", help="architecture of a ckpt: model: timm:NAME, torchvision:NAME, wrn-28-10, preact-resnet18")
    g.add_argument("--num-classes", type=int, help="number of classes of a ckpt: model (default: from the checkpoint)")
    g.add_argument("--input-size", type=int, help="model input side in pixels (ckpt:/torchscript:)")
    g.add_argument("--mean", type=_floats3, help="normalisation mean, e.g. 0.485,0.456,0.406")
    g.add_argument("--std", type=_floats3, help="normalisation std, e.g. 0.229,0.224,0.225")
    g.add_argument("--labels", help="class names: imagenet, cifar10, digits or a file (one name per line)")
    g.add_argument("--trust", action="store_true",
                   help="allow full unpickling of this checkpoint (it can run code: only for files you trust)")
    g.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps")


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image", required=True, help="image file (JPEG, PNG, BMP, TIFF, WebP, GIF)")
    p.add_argument("--label", help="reference class: index or exact name (default: the model's clean top-1)")
    p.add_argument("--out", required=True, help="output folder (must be new or empty unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
    p.add_argument("--dpi", type=int, default=200, help="resolution of figure.png (default 200)")


def build_parser() -> argparse.ArgumentParser:
    from visualizer import __version__

    parser = argparse.ArgumentParser(
        prog="visualizer",
        description="See how brittle image classifiers are. Without a command, starts the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("models", help="list model sources and bundled models (and whether weights are available offline)")

    a = sub.add_parser("attack", help="FGSM / PGD attack on one image (repeat --model: the same attack on each, "
                                      "plus a comparison figure)")
    _add_model_options(a, several=True)
    _add_output_options(a)
    a.add_argument("--attack", choices=["fgsm", "pgd"], default="pgd")
    a.add_argument("--norm", choices=["linf", "l2"], default="linf")
    a.add_argument("--eps", required=True,
                   help="budget in [0,1] pixel units: L-inf max per-pixel change (e.g. 8/255), L2 norm of the whole perturbation")
    a.add_argument("--steps", type=int, default=10, help="PGD steps (default 10)")
    a.add_argument("--step-size", help="step size (default 2.5 x eps / steps); fractions like 1/255 accepted")
    a.add_argument("--random-start", action="store_true", help="start from a random point in the eps ball")
    a.add_argument("--restarts", type=int, default=1, help="independent restarts; the best per image is kept")
    a.add_argument("--target", help="targeted attack towards this class (index or exact name)")
    a.add_argument("--no-best", action="store_true", help="return the last iterate instead of the best one")
    a.add_argument("--early-stop", action="store_true", help="stop as soon as the attack succeeds")
    a.add_argument("--seed", type=int, default=0)

    s = sub.add_parser("sweep", help="rotation x translation sweep (Engstrom et al. 2018)")
    _add_model_options(s)
    _add_output_options(s)
    s.add_argument("--mode", choices=["grid", "random"], default="grid")
    s.add_argument("--k", type=int, default=10, help="random mode: transforms drawn (worst-of-k)")
    s.add_argument("--max-rotation", type=float, default=30.0, help="degrees (default 30)")
    s.add_argument("--rotations", type=int, default=31, help="rotation grid points (default 31)")
    s.add_argument("--max-translation", type=float,
                   help="pixels of the model input (default round(3/28 x side): 3 px at 28/32, 24 px at 224)")
    s.add_argument("--translations", type=int, default=5, help="translation grid points per axis (default 5)")
    s.add_argument("--seed", type=int, default=0)

    g = sub.add_parser("saliency", help="input-gradient saliency of one or more models on one shared scale")
    _add_model_options(g, several=True)
    _add_output_options(g)
    g.add_argument("--method", choices=["vanilla", "smoothgrad", "ig"], default="vanilla")
    g.add_argument("--absolute", action="store_true", help="absolute value of the gradient instead of signed")
    g.add_argument("--overlay", action="store_true", help="draw the maps over the image in the figure")
    g.add_argument("--seed", type=int, default=0)
    return parser


def _load_options(args):
    from visualizer.core.models.registry import LoadOptions

    return LoadOptions(arch=args.arch, num_classes=args.num_classes, input_size=args.input_size,
                       mean=args.mean, std=args.std, labels=args.labels, trust=args.trust, device=args.device)


def _load_model(spec: str, options):
    """Load a model and print its warnings (NaN weights, probabilities instead of logits, a
    GPU too small so it runs on the CPU): in the window they open a dialog."""
    from visualizer.core.models.registry import load_model

    model = load_model(spec, options)
    for note in model.info.notes:
        if note.startswith("Warning: "):
            print(f"warning: {model.info.model_id}: {note[len('Warning: '):]}", file=sys.stderr)
    return model


def _install_cancel_on_interrupt():
    """First Ctrl-C cancels gracefully (the partial result is still written); a second one aborts."""
    from visualizer.core.cancel import CancelToken

    token = CancelToken()

    def handler(signum, frame):
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        print("\ncancelling: finishing the current step (Ctrl-C again to abort)", file=sys.stderr)

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:   # not the main thread (tests driving main() from a worker)
        pass
    return token


def cmd_models(args) -> int:
    from visualizer.core.models.registry import describe_sources

    for entry in describe_sources():
        print(f"{entry['source']:12s} {entry['syntax']}")
        if entry.get("example"):
            print(f"{'':12s}   e.g. {entry['example']}")
        for item in entry.get("models", []):
            state = "available offline" if item["available"] else f"weights missing: {item.get('detail', '')}"
            print(f"{'':12s}   {item['name']:18s} {state}  {item.get('description', '')}")
    return 0


def _levels(value: float) -> str:
    """An L-inf size in 8-bit grey levels, the unit people read budgets in."""
    return f"{value * 255:.2f}/255"


def cmd_attack(args) -> int:
    from visualizer.core.artifacts import attack_artifacts
    from visualizer.core.attacks import AttackParams, parse_number
    from visualizer.core.export import check_output_dir, write_comparison, write_run
    from visualizer.core.images import load_image
    from visualizer.core.runs import attack_run
    from visualizer.progress import ProgressBar

    params = AttackParams(
        method=args.attack, norm=args.norm, eps=parse_number(args.eps, "--eps"), steps=args.steps,
        step_size=parse_number(args.step_size, "--step-size") if args.step_size else None,
        random_start=args.random_start, restarts=args.restarts, targeted=args.target is not None,
        best_iterate=not args.no_best, early_stop=args.early_stop, seed=args.seed,
    )
    for warning in params.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    check_output_dir(args.out, args.overwrite)
    image = load_image(args.image)
    options = _load_options(args)
    models = [_load_model(spec, options) for spec in args.model]
    cancel = _install_cancel_on_interrupt()
    runs = []
    for model in models:
        name = f" on {model.info.model_id}" if len(models) > 1 else ""
        bar = ProgressBar(f"{params.method} {params.norm}{name}")
        runs.append(_drive(attack_run(model, image, params, label=args.label, target=args.target, cancel=cancel),
                           lambda e: bar.update(e.done, e.total,
                                                f"loss {float(e.loss[0]):.3f}  p(ref) {float(e.ref_prob[0]):.3f}")))
        bar.close()
        if cancel.cancelled:   # Ctrl-C: keep what was computed, attack no further models
            break
    if len(models) == 1:
        record = write_run(args.out, attack_artifacts(runs[0]), overwrite=args.overwrite, dpi=args.dpi)
        records = [record]
    else:
        _, records = write_comparison(args.out, [attack_artifacts(run) for run in runs], overwrite=args.overwrite,
                                      dpi=args.dpi)
    for record in records:
        for warning in record["warnings"]:
            print(f"warning: {warning}", file=sys.stderr)
        print(_attack_summary(record, prefix=f"{record['model']['id']}: " if len(models) > 1 else "",
                              out=args.out if len(models) == 1 else None))
    if len(models) > 1:
        print(f"comparison figure and {len(records)} runs written to {args.out}")
    return 0


def _attack_summary(record: dict, prefix: str = "", out: str | None = None) -> str:
    before, after = record["clean"]["top5"][0], record["adversarial"]["top5_quantized"][0]
    pert = record["perturbation"]
    return (f"{prefix}{record['label']['label']!s} -> {after['label']} (p={after['prob']:.3f}); clean top-1 "
            f"{before['label']} (p={before['prob']:.3f}); success {record['success_quantized']} after 8-bit "
            f"rounding; perturbation L-inf {_levels(pert['linf'])} ({_levels(pert['linf_quantized'])} after "
            f"rounding), L2 {pert['l2']:.4f} ({pert['l2_quantized']:.4f})"
            f"{' [cancelled]' if record['cancelled'] else ''}" + (f"; written to {out}" if out else ""))


def cmd_sweep(args) -> int:
    from visualizer.core.artifacts import sweep_artifacts
    from visualizer.core.attacks.spatial import SpatialParams
    from visualizer.core.export import check_output_dir, write_run
    from visualizer.core.images import load_image
    from visualizer.core.runs import sweep_run
    from visualizer.progress import ProgressBar

    params = SpatialParams(mode=args.mode, max_rotation=args.max_rotation, rotations=args.rotations,
                           max_translation=args.max_translation, translations=args.translations, k=args.k,
                           seed=args.seed)
    check_output_dir(args.out, args.overwrite)
    image = load_image(args.image)
    model = _load_model(args.model, _load_options(args))
    cancel = _install_cancel_on_interrupt()
    bar = ProgressBar(f"sweep {params.mode}")
    run = _drive(sweep_run(model, image, params, label=args.label, cancel=cancel),
                 lambda e: bar.update(e.done, e.total))
    bar.close()
    record = write_run(args.out, sweep_artifacts(run), overwrite=args.overwrite, dpi=args.dpi)
    w = record["sweep"]["worst"]
    print(f"{record['label']['label']}: {100 * record['sweep']['fooled_fraction']:.1f}% of {record['sweep']['evaluated']} "
          f"transforms misclassified; worst: rotate {w['angle']:+.1f} deg, shift ({w['tx']:+.1f}, {w['ty']:+.1f}) px -> "
          f"{w['pred_label']} (p(true)={w['true_prob']:.3f}){' [cancelled]' if record['cancelled'] else ''}; "
          f"written to {args.out}")
    return 0


def cmd_saliency(args) -> int:
    from visualizer.core.artifacts import saliency_artifacts
    from visualizer.core.export import check_output_dir, write_run
    from visualizer.core.images import load_image
    from visualizer.core.saliency import SaliencyParams, compare_saliency
    from visualizer.progress import ProgressBar

    params = SaliencyParams(method=args.method, absolute=args.absolute, seed=args.seed)
    check_output_dir(args.out, args.overwrite)
    image = load_image(args.image)
    options = _load_options(args)
    models = [_load_model(spec, options) for spec in args.model]
    cancel = _install_cancel_on_interrupt()
    bar = ProgressBar(f"saliency {params.method}")
    comparison = _drive(compare_saliency(models, image, params, label=args.label, cancel=cancel),
                        lambda e: bar.update(e.done, e.total))
    bar.close()
    record = write_run(args.out, saliency_artifacts(comparison, models, image), overwrite=args.overwrite,
                       dpi=args.dpi, overlay=args.overlay)
    labels = ", ".join(f"{m['model']}: {m['label']}" for m in record["saliency"]["maps"])
    print(f"{params.method} saliency ({labels}) on one scale +-{record['saliency']['shared_scale']:.3g}; "
          f"written to {args.out}")
    return 0


def _drive(generator, on_event):
    from visualizer.core.attacks import drive

    return drive(generator, on_event)


COMMANDS = {"models": cmd_models, "attack": cmd_attack, "sweep": cmd_sweep, "saliency": cmd_saliency}


def start_gui(open_path: str | None = None) -> int:
    try:
        from visualizer.gui.app import run_app
    except ImportError as exc:   # e.g. Qt's platform libraries missing on a server
        print(f"error: the desktop app cannot start ({exc}). The headless commands still work: "
              "visualizer models | attack | sweep | saliency (see visualizer --help).", file=sys.stderr)
        return EXIT_USAGE
    return run_app(open_path=open_path)


def main(argv: list[str] | None = None) -> int:
    if argv is None:   # the real entry point (not a test calling main): the whole process is ours
        from visualizer.core.allocator import tune_allocator

        tune_allocator()
    argv = sys.argv[1:] if argv is None else list(argv)
    # `visualizer FILE` (what the desktop entry and a double-click run): open it in the app.
    if len(argv) == 1 and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        return start_gui(open_path=argv[0])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return start_gui()
    from visualizer.core.errors import VisualizerError

    try:
        return COMMANDS[args.command](args)
    except VisualizerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (RuntimeError, MemoryError) as exc:
        from visualizer.core.device import is_out_of_memory, out_of_memory_message

        if not is_out_of_memory(exc):
            raise                # a bug: keep the traceback
        print(f"error: {out_of_memory_message(exc)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("\naborted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
