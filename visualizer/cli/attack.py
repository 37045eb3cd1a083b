"""`visualizer attack`: FGSM / PGD on one image, or a query (black-box) attack through an
oracle (Square, NES, HopSkipJump, see core/blackbox); with several ``--model``s the same attack
on each, plus a comparison figure."""

from __future__ import annotations

from visualizer.cli.common import (EXIT_INTERRUPTED, add_model_options, add_output_options, drive,
                                   install_cancel_on_interrupt, levels, load_models, load_options, number,
                                   print_warnings, refuse_other_family, whole_number)

NAME = "attack"
HELP = ("FGSM / PGD attack on one image, or a query attack (square, nes, hopskipjump) through an oracle "
        "(repeat --model: the same attack on each, plus a comparison figure)")
QUERY_ATTACKS = ("square", "nes", "hopskipjump")
# Gradient-attack options a query attack does not take (refused, not ignored).
GRADIENT_ONLY = (("steps", None, "--steps"), ("random_start", False, "--random-start"), ("restarts", 1, "--restarts"),
                 ("no_best", False, "--no-best"), ("early_stop", False, "--early-stop"))
# Query-attack options a gradient attack does not take (refused, not ignored).
QUERY_ONLY = (("oracle", None, "--oracle"), ("queries", None, "--queries"), ("defence", None, "--defence"),
              ("p_init", None, "--p-init"), ("samples", None, "--samples"), ("sigma", None, "--sigma"))


def add_arguments(a) -> None:
    add_model_options(a, several=True)
    add_output_options(a)
    a.add_argument("--attack", choices=["fgsm", "pgd", *QUERY_ATTACKS], default="pgd",
                   help="fgsm/pgd use the model's gradients; square, nes and hopskipjump only query an oracle")
    a.add_argument("--norm", choices=["linf", "l2"], default="linf")
    a.add_argument("--eps", required=True, type=number,
                   help="budget in [0,1] pixel units: L-inf max per-pixel change (e.g. 8/255 or 0.5/255), "
                        "L2 norm of the whole perturbation")
    a.add_argument("--steps", type=whole_number, help="PGD steps (default 10)")
    a.add_argument("--step-size", type=number,
                   help="step size (default 2.5 x eps / steps); fractions like 1/255 or 0.5/255 accepted")
    a.add_argument("--random-start", action="store_true",
                   help="start from a random point in the eps ball (L-inf: uniform in the cube; L2: uniform in the ball)")
    a.add_argument("--restarts", type=whole_number, default=1,
                   help="independent restarts, the best per image kept (more than 1 needs --random-start)")
    a.add_argument("--target", help="targeted attack towards this class (index or exact name)")
    a.add_argument("--no-best", action="store_true", help="return the last iterate instead of the best one")
    a.add_argument("--early-stop", action="store_true", help="stop as soon as the attack succeeds")
    a.add_argument("--seed", type=whole_number, default=0)
    q = a.add_argument_group("query attacks (square, nes, hopskipjump): the model is seen only through an oracle")
    q.add_argument("--oracle", default=None,
                   help="what the oracle reveals: probs, topk:K, rounded:D or label (default probs; "
                        "square and nes need scores, hopskipjump works from labels)")
    q.add_argument("--queries", type=whole_number, default=None,
                   help="query budget per image, the clean query included (default 1000)")
    q.add_argument("--defence", default=None,
                   help="perturb the oracle's probabilities: none or reverse-sigmoid[:BETA[:GAMMA]] (Lee et al. 2019)")
    q.add_argument("--p-init", type=number, help="square: first window's share of the image (0.05 L-inf, 0.1 L2)")
    q.add_argument("--samples", type=whole_number,
                   help="nes: queries per gradient estimate (even, 50); hopskipjump: first estimate's probes (100)")
    q.add_argument("--sigma", type=number, help="nes: sampling radius in [0,1] pixel units (0.001)")


def run(args) -> int:
    from visualizer.core.artifacts import attack_artifacts
    from visualizer.core.attacks import AttackParams
    from visualizer.core.errors import ParameterError
    from visualizer.core.runs import attack_run

    if args.attack in QUERY_ATTACKS:
        return run_query(args)
    refuse_other_family(args, QUERY_ONLY, f"the gradient attack {args.attack}; it reads the model's gradients "
                                          "(the query attacks are --attack square, nes or hopskipjump)")
    if args.attack == "fgsm" and args.steps not in (None, 1):   # FGSM is one step: --steps would be ignored
        raise ParameterError("FGSM is one full-budget step from the clean image: --steps does not apply to it. "
                             "Use --attack pgd for several steps.")
    params = AttackParams(
        method=args.attack, norm=args.norm, eps=args.eps,
        steps=args.steps if args.steps is not None else AttackParams.steps, step_size=args.step_size,
        random_start=args.random_start, restarts=args.restarts, targeted=args.target is not None,
        best_iterate=not args.no_best, early_stop=args.early_stop, seed=args.seed,
    )
    image, models = load_checked(args, params)
    runs = attack_each(models, f"{params.method} {params.norm}",
                       lambda model, cancel: attack_run(model, image, params, label=args.label, target=args.target,
                                                        cancel=cancel),
                       lambda e: f"loss {float(e.loss[0]):.3f}  p(ref) {float(e.ref_prob[0]):.3f}")
    return report(args, write_records(args, [attack_artifacts(run) for run in runs]), models,
                  printed=parameter_warnings(params, models))


def attack_each(models: list, title: str, start_run, progress_text) -> list:
    """Drive ``start_run(model, cancel)`` (a core run generator) on each model in turn with a
    progress bar titled ``title`` (plus the model's id when there are several), the bar's text
    from ``progress_text(event)``; the finished runs. Ctrl-C keeps the run it interrupted
    (marked cancelled) and attacks no further models."""
    from visualizer.progress import ProgressBar

    cancel = install_cancel_on_interrupt()
    runs = []
    for model in models:
        name = f" on {model.info.model_id}" if len(models) > 1 else ""
        bar = ProgressBar(f"{title}{name}")
        runs.append(drive(start_run(model, cancel), lambda e: bar.update(e.done, e.total, progress_text(e))))
        bar.close()
        if cancel.cancelled:
            break
    return runs


def load_checked(args, params):
    """(image, models) after checking the output folder and refusing a contradictory class
    request on any model before attacking the first; prints the parameters' warnings."""
    from visualizer.core.errors import ParameterError
    from visualizer.core.export import check_output_dir
    from visualizer.core.images import load_image
    from visualizer.core.runs import check_attack_request

    check_output_dir(args.out, args.overwrite)
    image = load_image(args.image)
    options = load_options(args)
    models = load_models(args.model, options)
    for model in models:
        try:
            check_attack_request(model, image, params, label=args.label, target=args.target)
        except ParameterError as exc:
            raise ParameterError(f"{model.info.model_id}: {exc}" if len(models) > 1 else str(exc)) from None
    print_warnings(parameter_warnings(params, models))
    return image, models


def parameter_warnings(params, models: list) -> list[str]:
    """The parameters' warnings, once each, for the input size of every model (an L2 budget
    that limits nothing at 28 px is flagged for that size): what a run's record repeats."""
    sized = getattr(params, "image_warnings", None)
    if sized is None:
        return list(params.warnings())
    found: dict[str, None] = {}
    for model in models:
        pre = model.info.preprocessing
        found.update(dict.fromkeys(sized((pre.channels, pre.input_size, pre.input_size))))
    return list(found)


def write_records(args, artifacts: list) -> list[dict]:
    """One run folder, or a comparison of several; the records as written."""
    from visualizer.core.export import write_comparison, write_run

    if len(artifacts) == 1:
        return [write_run(args.out, artifacts[0], overwrite=args.overwrite, dpi=args.dpi)]
    return write_comparison(args.out, artifacts, overwrite=args.overwrite, dpi=args.dpi)[1]


def query_params(args):
    """QueryAttackParams from the command line; gradient-only options are refused."""
    from visualizer.core.blackbox.params import QueryAttackParams
    from visualizer.core.blackbox.run import check_query_request

    refuse_other_family(args, GRADIENT_ONLY, f"the query attack {args.attack}; its budget is --queries")
    args.oracle = args.oracle or "probs"
    params = QueryAttackParams(method=args.attack, norm=args.norm, eps=args.eps,
                               queries=1000 if args.queries is None else args.queries,
                               targeted=args.target is not None, seed=args.seed, p_init=args.p_init,
                               samples=args.samples, sigma=args.sigma, step_size=args.step_size)
    check_query_request(params, args.oracle)
    return params


def run_query(args) -> int:
    """A query attack on each model through its own oracle; the same files as a gradient
    attack, plus record["queries"] and loss_vs_queries.npy."""
    from visualizer.core.blackbox.oracle import check_oracle_fits, parse_defence
    from visualizer.core.blackbox.run import query_attack_artifacts, query_attack_run

    params = query_params(args)
    parse_defence(args.defence)            # refuse a bad defence before loading anything
    image, models = load_checked(args, params)
    for model in models:                   # every model checked before the first is attacked
        check_oracle_fits(args.oracle, model.info.num_classes, model.info.model_id)
    runs = attack_each(models, f"{params.method} {params.norm} via {args.oracle}",
                       lambda model, cancel: query_attack_run(model, image, params, args.oracle, args.defence,
                                                              label=args.label, target=args.target, cancel=cancel),
                       lambda e: query_progress_text(e, params.method, args.oracle))
    return report(args, write_records(args, [query_attack_artifacts(run) for run in runs]), models,
                  extra=_queries_spent, printed=params.warnings())


def query_progress_text(step, method: str, oracle: str) -> str:
    """'queries 153  margin -0.464  p(ref) 0.640': the loss under its own name, and the
    reference class's probability only where the oracle reveals probabilities (a label
    oracle's answer is one-hot: its p(ref) reads 0.000 or 1.000 and means nothing)."""
    from visualizer.core.blackbox.oracle import parse_oracle_spec
    from visualizer.core.blackbox.params import query_loss_name

    text = f"queries {step.done}  {query_loss_name(method)} {float(step.loss[0]):.3f}"
    return text + (f"  p(ref) {float(step.ref_prob[0]):.3f}" if parse_oracle_spec(oracle).scores else "")


def _queries_spent(record: dict) -> str:
    q = record["queries"]
    spent = (f"fooled after {q['at_success']} queries" if q["at_success"] is not None else
             f"not fooled in {q['spent']} queries")
    return f"; {spent} to oracle {q['oracle']}"


def report(args, records: list[dict], models: list, extra=lambda record: "", printed=()) -> int:
    """Print each record's warnings (but not those in ``printed``, the parameters' warnings
    already printed before the run) and one-line summary (``extra(record)`` appended), where
    the files went and, after Ctrl-C, which models were not attacked; the exit status (130
    when cancelled)."""
    several = len(records) > 1
    for record in records:
        print_warnings([warning for warning in record["warnings"] if warning not in printed])
        print(summary(record, prefix=f"{record['model']['id']}: " if len(models) > 1 else "") + extra(record)
              + ("" if several else f"; written to {args.out}"))
    if several:
        print(f"comparison figure and {len(records)} runs written to {args.out}")
    if not any(record["cancelled"] for record in records):
        return 0
    skipped = [model.info.model_id for model in models[len(records):]]
    print("cancelled" + (f"; not attacked: {', '.join(skipped)}" if skipped else ""))
    return EXIT_INTERRUPTED


def summary(record: dict, prefix: str = "") -> str:
    """The one-line result, about the saved adversarial image (8-bit, inside eps): what it is
    classified as, whether the attack succeeds on it, and its norms; the float result's norms
    and any change of outcome made by rounding follow in brackets."""
    from visualizer.core.results import saved_outcome

    saved = saved_outcome(record)
    before, after = record["clean"]["top5"][0], saved["top5"][0]
    pert = record["perturbation"]
    params = record.get("parameters") or {}
    success = f"success {saved['success']}"
    if saved["success"] != record["success"]:
        success += f" (the float result's was {record['success']})"
    if saved["rounding"] == "gradient-guided":
        success += " after gradient-guided rounding"
    budget = "within" if saved["within_budget"] else "NOT within" if saved["within_budget"] is False else "vs"
    return (f"{prefix}{record['label']['label']!s} -> {after['label']} (p={after['prob']:.3f}); clean top-1 "
            f"{before['label']} (p={before['prob']:.3f}); {success}; saved 8-bit image {budget} eps = "
            f"{_eps(params)}: L-inf {levels(saved['linf'])}, L2 {saved['l2']:.4f} (float result: "
            f"{levels(pert['linf'])}, {pert['l2']:.4f})"
            f"{' [cancelled]' if record['cancelled'] else ''}")


def _eps(params: dict) -> str:
    eps = params.get("eps")
    if eps is None:
        return "?"
    return levels(eps) if params.get("norm") == "linf" else f"{eps:g}"
