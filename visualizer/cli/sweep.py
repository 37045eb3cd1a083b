"""`visualizer sweep`: the rotation x translation grid (or worst-of-k) of Engstrom et al. 2018."""

from __future__ import annotations

from visualizer.cli.common import (EXIT_INTERRUPTED, add_model_options, add_output_options, drive,
                                   install_cancel_on_interrupt, load_model, load_options, number,
                                   refuse_other_family, whole_number)

NAME = "sweep"
HELP = "rotation x translation sweep (Engstrom et al. 2018)"
# (attribute, default, flag) of the options only one mode reads: given to the other, they
# were ignored without a word (--k 50 on the grid still evaluated the 775 grid points).
GRID_ONLY = (("rotations", 31, "--rotations"), ("translations", 5, "--translations"))
RANDOM_ONLY = (("k", 10, "--k"), ("seed", 0, "--seed"))


def add_arguments(s) -> None:
    add_model_options(s)
    add_output_options(s)
    s.add_argument("--mode", choices=["grid", "random"], default="grid")
    s.add_argument("--k", type=whole_number, default=10, help="random mode: transforms drawn (worst-of-k)")
    s.add_argument("--max-rotation", type=number, default=30.0, help="degrees (default 30)")
    s.add_argument("--rotations", type=whole_number, default=31, help="rotation grid points (default 31)")
    s.add_argument("--max-translation", type=number,
                   help="pixels of the model input (default round(3/28 x side): 3 px at 28/32, 24 px at 224)")
    s.add_argument("--translations", type=whole_number, default=5, help="translation grid points per axis (default 5)")
    s.add_argument("--seed", type=whole_number, default=0)


def run(args) -> int:
    from visualizer.core.artifacts import sweep_artifacts
    from visualizer.core.attacks.spatial import SpatialParams
    from visualizer.core.export import check_output_dir, write_run
    from visualizer.core.images import load_image
    from visualizer.core.runs import sweep_run
    from visualizer.progress import ProgressBar

    if args.mode == "grid":
        refuse_other_family(args, RANDOM_ONLY, "--mode grid, which evaluates every grid point (--k and --seed "
                                               "are for --mode random)")
    else:
        refuse_other_family(args, GRID_ONLY, "--mode random, which draws --k transforms from the ranges "
                                             "(--rotations and --translations are for --mode grid)")
    params = SpatialParams(mode=args.mode, max_rotation=args.max_rotation, rotations=args.rotations,
                           max_translation=args.max_translation, translations=args.translations, k=args.k,
                           seed=args.seed)
    check_output_dir(args.out, args.overwrite)
    image = load_image(args.image)
    model = load_model(args.model, load_options(args))
    params.check_fits(model.info.preprocessing.input_size, f"{model.info.model_id}'s input")   # before any folder
    cancel = install_cancel_on_interrupt()
    bar = ProgressBar(f"sweep {params.mode}")
    run_ = drive(sweep_run(model, image, params, label=args.label, cancel=cancel),
                 lambda e: bar.update(e.done, e.total))
    bar.close()
    record = write_run(args.out, sweep_artifacts(run_), overwrite=args.overwrite, dpi=args.dpi)
    w = record["sweep"]["worst"]
    print(f"{record['label']['label']}: {100 * record['sweep']['fooled_fraction']:.1f}% of {record['sweep']['evaluated']} "
          f"transforms misclassified; worst: rotate {w['angle']:+.1f} deg, shift ({w['tx']:+.1f}, {w['ty']:+.1f}) px -> "
          f"{w['pred_label']} (p(true)={w['true_prob']:.3f}){_saved_differs(w)}"
          f"{' [cancelled]' if record['cancelled'] else ''}; written to {args.out}")
    return EXIT_INTERRUPTED if record["cancelled"] else 0    # a script must not take it for a full run


def _saved_differs(worst: dict) -> str:
    """The 8-bit worst.png's prediction, when rounding changed it."""
    saved = worst.get("saved")
    if not saved or saved["pred"] == worst["pred"]:
        return ""
    return f", as saved in 8 bits (worst.png) {saved['pred_label']} (p(true)={saved['true_prob']:.3f})"
