"""Work the window hands to a child process of its own Python, so that no GIL is shared
with the GUI thread: the view's SVG/PDF playback (gui/view_playback.py) and the publication
figures (figure_child.py). Standard library only: a child imports what it needs itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHILD_TIMEOUT_S = 600
CHILD_NICENESS = 10       # a child takes a core only when the window does not want it


def run_child(module: str, args: list[str], payload: bytes, env: dict[str, str] | None = None,
              timeout_s: float = CHILD_TIMEOUT_S) -> bytes:
    """``python -m module *args`` with ``payload`` on stdin; its stdout. This checkout's
    package comes first on its path. RuntimeError (the child's last stderr) if it fails or
    says nothing; OSError, subprocess.SubprocessError if it cannot start or times out; also
    RuntimeError in a frozen application, which has no Python to run a module with."""
    if getattr(sys, "frozen", False):
        raise RuntimeError(f"a frozen application cannot run {module} as a child")
    root = str(Path(__file__).resolve().parents[2])        # this checkout's visualizer package
    env = dict(os.environ, **(env or {}))
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    # communicate() waits with the GIL released: the window's thread runs meanwhile.
    proc = subprocess.run([sys.executable, "-m", module, *args], input=payload, capture_output=True, env=env,
                          timeout=timeout_s)
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(proc.stderr.decode(errors="replace")[-2000:])
    return proc.stdout


def lower_priority(niceness: int = CHILD_NICENESS) -> None:
    """In the child: run below the window, which keeps a core for itself on machines with
    few. The output is the same. Nothing happens where the platform does not allow it."""
    try:
        os.nice(niceness)
    except (AttributeError, OSError):
        pass
