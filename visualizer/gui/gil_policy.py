"""How soon the GUI thread gets Python's GIL back from a busy worker.

The window's Python runs in short pieces between Qt's C++ work: every pyqtgraph paint()
and every queued slot takes the GIL again. A worker running Python (an attack's module
glue between torch ops, matplotlib building a figure) keeps it until CPython's switch
interval has passed, 5 ms by default: a paint that needs the GIL ten times can then wait
tens of milliseconds in total. At 1 ms the waits are five times shorter; the worker is
asked to hand over only when another thread waits, so what it costs is a few more hand-overs.
"""

from __future__ import annotations

import sys

SWITCH_INTERVAL_S = 0.001


def favour_gui_thread() -> None:
    """Shorten the GIL's switch interval for the window's process (the app's entry point)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
