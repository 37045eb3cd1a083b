"""When Python's cyclic garbage collector walks what, in the app.

A full collection walks every object the collector tracks, holding the GIL, on whichever
thread happens to allocate. With torch, timm, Qt and a model loaded that is over 600,000
objects and 0.1-0.6 s, during which none of the window's Python code can run: an export
(matplotlib builds thousands of objects in the worker) stalled the window for 0.6 s on two
busy cores. So whatever is alive when the window goes idle (modules, networks, views,
results) is frozen (``gc.freeze``: the collector skips it, reference counting still frees
it), and collections walk only what was made since: export stalls fell to the attack's.

Frozen objects in a reference cycle are never freed, and some networks are cycles (timm's
are). So when a model is discarded for good, everything is unfrozen and collected once, at
that moment (``release``): a pause the user caused, instead of one at random later.

Only the app and the benchmark turn this on (``enable``); elsewhere (tests, scripts) both
calls do nothing, so nothing is ever kept frozen by accident."""

from __future__ import annotations

import gc

_enabled = False


def enable(on: bool = True) -> None:
    global _enabled
    _enabled = on
    if on:
        settle()
    else:
        gc.unfreeze()


def enabled() -> bool:
    return _enabled


def settle() -> None:
    """What is alive now stays alive for a while: keep the collector off it."""
    if _enabled:
        gc.freeze()


def release() -> None:
    """Something big was let go: let the collector see everything and free it now."""
    if _enabled:
        gc.unfreeze()
        gc.collect()
