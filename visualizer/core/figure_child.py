"""A run's publication figure drawn in a child process (the window's export, issue 16).

matplotlib's Agg renderer draws a figure in C++ calls of tens of milliseconds that hold
Python's GIL; drawn on the window's export thread, the GUI thread waited for them (its
longest stall during an export, 31-37 ms on a quiet 2-core machine for figure.png alone,
against 13-15 ms for everything else the export writes). In a child process no lock is
shared with the window. The child gets the run's artifacts (its record and arrays) pickled
on stdin, writes ``figure.<fmt>`` into the folder it is given (atomically, as save_figure
always does) and prints the names it wrote as JSON.

    python -m visualizer.core.figure_child          (our own parent's pickle on stdin)
"""

from __future__ import annotations

import json
import pickle
import sys
from dataclasses import replace
from pathlib import Path

from visualizer.core.child_process import lower_priority, run_child


def save_figure_in_child(artifacts, overlay: bool, folder: Path, formats: tuple[str, ...], dpi: int) -> list[Path]:
    """Draw ``artifacts.figure(overlay)`` and save it as ``folder/figure.<fmt>`` for each
    format, in a child process; the paths written. RuntimeError (or OSError,
    subprocess.SubprocessError) if the child could not: the caller draws it here instead."""
    return _in_child({"artifacts": replace(artifacts, iterates=None), "overlay": bool(overlay), "stem": "figure",
                      "folder": str(folder), "formats": list(formats), "dpi": int(dpi)})


def save_comparison_in_child(runs: list, folder: Path, formats: tuple[str, ...], dpi: int) -> list[Path]:
    """The attack comparison figure of ``runs`` (Artifacts of one attack on several models) as
    ``folder/comparison.<fmt>``, in a child process; as save_figure_in_child."""
    return _in_child({"comparison": [{"record": a.record, "clean": a.arrays["clean"],
                                      "adversarial": a.arrays["adversarial"]} for a in runs],
                      "stem": "comparison", "folder": str(folder), "formats": list(formats), "dpi": int(dpi)})


def _in_child(job: dict) -> list[Path]:
    out = run_child("visualizer.core.figure_child", [], pickle.dumps(job))
    return [Path(job["folder"]) / name for name in json.loads(out.decode())]


def main() -> int:
    lower_priority()
    job = pickle.loads(sys.stdin.buffer.read())     # our own parent's input (save_figure_in_child)
    from visualizer.core.figures import attack_comparison_figure, save_figure

    if "comparison" in job:
        runs = job["comparison"]
        figure = attack_comparison_figure([r["record"] for r in runs], [r["clean"] for r in runs],
                                          [r["adversarial"] for r in runs])
    else:
        figure = job["artifacts"].figure(overlay=job["overlay"])
    paths = save_figure(figure, Path(job["folder"]) / job["stem"], formats=tuple(job["formats"]), dpi=job["dpi"])
    sys.stdout.write(json.dumps([p.name for p in paths]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
