"""Argument groups and helpers shared by the subcommands: model loading options, output
options, Ctrl-C handling and driving a core generator with a progress bar."""

from __future__ import annotations

import argparse
import signal
import sys

from visualizer.core.errors import ParameterError
from visualizer.core.numbers import parse_number, parse_numbers, parse_whole

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A bad command line, reported by ``main`` as one ``error:`` line (exit 2)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad command line is one ``error: ...`` line like every other bad
    input, not a usage block (subcommand parsers inherit the class)."""

    def error(self, message: str):
        raise UsageError(f"{message.rstrip('.')}. See '{self.prog} --help'.")


def _convert(parse, text: str):
    """A core parser as an argparse ``type``: the core's grammar and words, with argparse
    naming the option ("argument --eps: must be a number such as ...")."""
    try:
        return parse(text, "")
    except ParameterError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def number(text: str) -> float:
    """A number as the window's fields take it: 0.03, 1e-3, 8/255, 0.5/255, ' 8 / 255 '."""
    return _convert(parse_number, text)


def whole_number(text: str) -> int:
    """A whole number (10, 1e3); ranges are the parameter objects' rule."""
    return _convert(parse_whole, text)


def count(text: str) -> int:
    """A whole number of at least 1 (threads, examples, batch sizes): 0 or a negative count
    used to be taken silently as 1 or as 'all'."""
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_threads_option(group) -> None:
    """``--threads N`` (N >= 1) for the long-running commands: one thread is faster on a busy
    machine (OpenMP threads wait for each other while another process holds a core)."""
    group.add_argument("--threads", type=count, help="CPU threads for torch (default: torch's choice; "
                                                     "1 on a busy machine)")


def dpi(text: str) -> int:
    """A figure resolution in the range the window's export dialog allows (0 used to crash
    matplotlib after the whole attack had run; 100000 ran out of memory)."""
    from visualizer.core.export import DPI_RANGE

    value = whole_number(text)
    low, high = DPI_RANGE
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be between {low} and {high} dpi, not {value}")
    return value


def path_text(text: str) -> str:
    """A file or folder name; an empty one (``--out ""``, an unset shell variable) is refused:
    it used to mean the current folder and read as ". already holds files"."""
    if not text.strip():
        raise argparse.ArgumentTypeError("names no file or folder (it is empty)")
    return text


def floats3(text: str) -> tuple[float, ...]:
    values = _convert(parse_numbers, text)
    if len(values) not in (1, 3):
        raise argparse.ArgumentTypeError("give 1 or 3 comma-separated values")
    return values


def add_model_options(p: argparse.ArgumentParser, several: bool = False) -> None:
    g = p.add_argument_group("model")
    help_model = ("a bundled name (see `visualizer models`), torchvision:NAME, timm:NAME, ckpt:PATH (with --arch) "
                  "or torchscript:PATH")
    if several:
        g.add_argument("--model", action="append", required=True, help=help_model + "; repeat to compare models")
    else:
        g.add_argument("--model", required=True, help=help_model)
    g.add_argument("--arch", help="architecture of a ckpt: model: timm:NAME, torchvision:NAME, wrn-28-10, "
                                  "preact-resnet18, or py:FILE.py:NAME (a class or function in your own Python "
                                  "file; running it needs --trust)")
    g.add_argument("--arch-kwargs", metavar="JSON",
                   help="keyword arguments for the --arch constructor, as a JSON object, e.g. "
                        "'{\"transform_input\": false}' or '{\"depth\": 28, \"widen_factor\": 10}'")
    g.add_argument("--num-classes", type=whole_number, help="number of classes of a ckpt: model (default: from the checkpoint)")
    g.add_argument("--input-size", type=whole_number, help="model input side in pixels (ckpt:/torchscript:)")
    g.add_argument("--channels", type=whole_number, choices=(1, 3),
                   help="input channels, 1 (grayscale) or 3 (RGB) (default: the source's, or a TorchScript "
                        "model's first convolution, else 3)")
    g.add_argument("--mean", type=floats3, help="normalisation mean: one value for every channel, or one per "
                                                "channel, e.g. 0.485,0.456,0.406")
    g.add_argument("--std", type=floats3, help="normalisation std: one value for every channel, or one per "
                                               "channel, e.g. 0.229,0.224,0.225")
    g.add_argument("--labels", help="class names: imagenet, cifar10, digits or a file (one name per line)")
    g.add_argument("--trust", action="store_true",
                   help="allow this model's code to run: full unpickling of the checkpoint and running a "
                        "py: architecture file (only for files you trust)")
    g.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N, mps")


def add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--image", required=True, type=path_text, help="image file (JPEG, PNG, BMP, TIFF, WebP, GIF)")
    p.add_argument("--label", help="reference class: index or exact name (default: the model's clean top-1)")
    p.add_argument("--out", required=True, type=path_text,
                   help="output folder (must be new or empty unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
    p.add_argument("--dpi", type=dpi, default=200, help="resolution of figure.png, 72 to 1200 (default 200)")


def refuse_other_family(args, options, what: str) -> None:
    """ParameterError naming every option in ``options`` ((attribute, default, flag)) that was
    given: it does not apply to ``what`` and would be silently ignored."""
    given = [flag for name, default, flag in options if getattr(args, name) != default]
    if given:
        raise ParameterError(f"{' and '.join(given)} {'does' if len(given) == 1 else 'do'} not apply to {what}.")


def load_options(args):
    from visualizer.core.models.registry import LoadOptions
    from visualizer.core.models.user_arch import parse_arch_kwargs

    return LoadOptions(arch=args.arch, arch_kwargs=parse_arch_kwargs(args.arch_kwargs), num_classes=args.num_classes,
                       input_size=args.input_size, channels=args.channels, mean=args.mean, std=args.std,
                       labels=args.labels, trust=args.trust, device=args.device)


def load_model(spec: str, options):
    """Load a model and print its warnings (NaN weights, a saturated softmax, a model that is
    not deterministic, a GPU too small so it runs on the CPU): in the window they open a dialog."""
    from visualizer.core.models.registry import load_model as core_load_model

    model = core_load_model(spec, options)
    for note in model.info.notes:
        if note.startswith("Warning: "):
            print(f"warning: {model.info.model_id}: {note[len('Warning: '):]}", file=sys.stderr)
    return model


def load_models(specs: list[str], options) -> list:
    """Every ``--model``, each loaded as ``load_model`` does, after refusing one given twice
    (before any is loaded: a repeat used to be compared with itself)."""
    from visualizer.core.models.registry import repeat_text, repeated_model

    repeat = repeated_model(specs)
    if repeat:
        raise ParameterError(f"--model {repeat_text(*repeat)}; give each model once.")
    return [load_model(spec, options) for spec in specs]


def install_cancel_on_interrupt():
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


def drive(generator, on_event):
    from visualizer.core.attacks import drive as core_drive

    return core_drive(generator, on_event)


def note_nothing_to_resume(args) -> None:
    """One line when ``--resume`` finds a missing or empty ``--out``: the run starts afresh
    there (train, evaluate and steal alike, see core.resume)."""
    from visualizer.core.resume import nothing_to_resume

    if args.resume and nothing_to_resume(args.out):
        print(f"note: nothing to resume in {args.out}; starting a new run there", file=sys.stderr)


def print_warnings(warnings, prefix: str = "") -> None:
    for warning in warnings:
        print(f"warning: {prefix}{warning}", file=sys.stderr)


def levels(value: float) -> str:
    """An L-inf size in 8-bit grey levels, the unit people read budgets in."""
    return f"{value * 255:.2f}/255"
