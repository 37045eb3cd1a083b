"""`visualizer saliency`: input-gradient saliency of one or more models on one shared scale."""

from __future__ import annotations

import sys

from visualizer.cli.common import (EXIT_INTERRUPTED, add_model_options, add_output_options, drive,
                                   install_cancel_on_interrupt,
                                   load_models, load_options, print_warnings, whole_number)

NAME = "saliency"
HELP = "input-gradient saliency of one or more models on one shared scale"


def add_arguments(g) -> None:
    add_model_options(g, several=True)
    add_output_options(g)
    g.add_argument("--method", choices=["vanilla", "smoothgrad", "ig"], default="vanilla")
    g.add_argument("--absolute", action="store_true", help="absolute value of the gradient instead of signed")
    g.add_argument("--overlay", action="store_true", help="draw the maps over the image in the figure")
    g.add_argument("--ig-steps", type=whole_number, metavar="N",
                   help="Integrated Gradients: N trapezoid steps from a black image (default: adaptive, doubling "
                        "from 32 until the completeness gap is below 5%%, at most 1024; N at most 16384)")
    g.add_argument("--seed", type=whole_number, default=0)


def run(args) -> int:
    from visualizer.core.artifacts import saliency_artifacts
    from visualizer.core.export import check_output_dir, write_run
    from visualizer.core.images import load_image
    from visualizer.core.saliency import SaliencyParams, compare_saliency
    from visualizer.progress import ProgressBar

    from visualizer.core.errors import ParameterError

    if args.ig_steps is not None and args.method != "ig":
        raise ParameterError(f"--ig-steps applies to --method ig only, not to {args.method}.")
    params = SaliencyParams(method=args.method, absolute=args.absolute, seed=args.seed, ig_steps=args.ig_steps)
    check_output_dir(args.out, args.overwrite)
    image = load_image(args.image)
    options = load_options(args)
    models = load_models(args.model, options)
    cancel = install_cancel_on_interrupt()
    bar = ProgressBar(f"saliency {params.method}")
    comparison = drive(compare_saliency(models, image, params, label=args.label, cancel=cancel),
                       lambda e: bar.update(e.done, e.total))
    bar.close()
    if comparison.cancelled and not comparison.maps:
        # Nothing was computed: writing an empty figure would also replace an earlier good run.
        print("interrupted before any map was computed; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    record = write_run(args.out, saliency_artifacts(comparison, models, image), overwrite=args.overwrite,
                       dpi=args.dpi, overlay=args.overlay)
    print_warnings(comparison.warnings)      # the models' own were printed when they loaded
    maps = record["saliency"]["maps"]
    labels = ", ".join(f"{m['model']}: {m['label']}{_state(m)}" for m in maps)
    print(f"{params.method} saliency ({labels}) on one scale +-{record['saliency']['shared_scale']:.3g}"
          f"{' [cancelled]' if comparison.cancelled else ''}; written to {args.out}")
    return EXIT_INTERRUPTED if comparison.cancelled else 0    # a script must not take it for a full run


def _state(entry: dict) -> str:
    """' (no gradient: NaN)', ' (completeness gap 1.0% at 256 steps)' or ''."""
    if entry.get("gradient") in ("nan", "zero"):
        return " (no gradient: NaN)" if entry["gradient"] == "nan" else " (zero gradient)"
    c = entry.get("completeness")
    if not c:
        return ""
    gap = "undefined" if c.get("gap") is None else f"{100 * c['gap']:.1f}%"
    return f" (completeness gap {gap} at {c['steps']} steps)"
