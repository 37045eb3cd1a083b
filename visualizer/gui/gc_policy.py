"""Where and when Python's cyclic garbage collector runs, in the window.

On the GUI thread only. The wrappers of Qt objects (a removed model's panels, a closed
window's widgets) can be garbage in reference cycles, and a collection is run by whichever
thread happens to allocate: a worker building an export's matplotlib figure then destroyed
widgets off their thread, and deadlocked (the worker inside ~QObject waiting for the GIL,
the GUI thread waiting for the Qt lock that destructor held). ``collect_on_gui_thread``
turns automatic collection off and collects on a GUI-thread timer instead (as pyqtgraph's
GarbageCollector does, without importing pyqtgraph while the window starts); every window
calls it.

Walking less. A full collection walks every object the collector tracks: with torch,
timm, Qt and a model loaded that is over 600,000 objects and 0.1-0.6 s during which none
of the window's Python code can run. So in the app (``enable``), whatever is alive when the
window goes idle (modules, networks, views, results) is collected once and frozen (``gc.freeze``: the collector
skips it, reference counting still frees it), and collections walk only what was made
since. Frozen objects in a reference cycle are never freed, and some networks are cycles
(timm's are): when a model is discarded for good, everything is unfrozen and collected
once, at that moment (``release``), a pause the user caused instead of one at random. Tests
and scripts leave this off, so nothing is ever kept frozen by accident.
"""

from __future__ import annotations

import gc

_enabled = False
_timer = None
CHECK_MS = 1000


def collect_on_gui_thread() -> None:
    """From now on the collector runs on the GUI thread's timer only (once per process):
    automatic collection is off, and every CHECK_MS the generations past Python's own
    thresholds are collected, as the automatic collector would have, on this thread."""
    global _timer
    if _timer is None:
        from visualizer.gui.qt import QtCore

        thresholds = gc.get_threshold()
        gc.disable()
        _timer = QtCore.QTimer()
        _timer.timeout.connect(lambda: _collect_due(thresholds))
        _timer.start(CHECK_MS)


def _collect_due(thresholds: tuple[int, ...]) -> None:
    """Collect the oldest generation whose count of new objects (or younger collections)
    passed its threshold, with every younger one (``gc.collect(n)`` takes 0..n)."""
    due = [g for g, (count, limit) in enumerate(zip(gc.get_count(), thresholds)) if count > limit]
    if due:
        gc.collect(max(due))


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on
    if on:
        gc.freeze()         # the process's start: modules and the window, hardly any garbage
    else:
        gc.unfreeze()


def enabled() -> bool:
    return _enabled


def settle() -> None:
    """What is alive now stays alive for a while: keep the collector off it. Garbage is
    collected first: frozen, a job's leftovers in reference cycles (an exported figure,
    which matplotlib's figures are) would have been kept until a model was discarded. The
    collection walks only what was made since the last freeze, i.e. what the job left."""
    if _enabled:
        gc.collect()
        gc.freeze()


def release() -> None:
    """Something big was let go: let the collector see everything and free it now."""
    if _enabled:
        gc.unfreeze()
        gc.collect()
