"""The ``visualizer`` command: the desktop app with no arguments, and one headless
subcommand per module of this package, all over the same core.

Each subcommand module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args)``;
adding one is a new module plus one entry in ``SUBCOMMANDS``. Heavy modules (torch, the core)
are imported inside ``run`` so ``--help`` is instant; Qt is never imported here except to
start the app.
"""

from __future__ import annotations

import argparse
import sys

from visualizer.cli import attack, evaluate, models, poison, saliency, steal, sweep, train
from visualizer.cli.common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, OneLineParser, UsageError

SUBCOMMANDS = (models, attack, sweep, saliency, train, evaluate, steal, poison)
COMMANDS = {module.NAME: module.run for module in SUBCOMMANDS}


def build_parser() -> argparse.ArgumentParser:
    from visualizer import __version__

    parser = OneLineParser(
        prog="visualizer",
        description="See how brittle image classifiers are. Without a command, starts the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_arguments(sub.add_parser(module.NAME, help=module.HELP))
    return parser


def start_gui(open_path: str | None = None) -> int:
    try:
        from visualizer.gui.app import run_app
    except ImportError as exc:   # e.g. Qt's platform libraries missing on a server
        names = " | ".join(COMMANDS)
        print(f"error: the desktop app cannot start ({exc}). The headless commands still work: "
              f"visualizer {names} (see visualizer --help).", file=sys.stderr)
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
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
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
