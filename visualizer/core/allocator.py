"""Keep freed memory for reuse during runs on the CPU (glibc only), and give it back after.

By default glibc returns large freed blocks to the kernel at once (every block over 32 MB
is its own mapping, and worker threads get arenas that are trimmed eagerly). A
forward+backward pass frees and reallocates the same activations every step, so each step
pays to fault fresh pages back in: on 2 cores, EfficientNet-Lite0 at batch 32 spent more
than half of its gradient step doing that (bench/malloc_tuning.py measures it). With one
arena, no mappings for large blocks and no automatic trimming, the memory is reused
instead; ``release_free_memory`` hands it back when a run ends, so an idle app does not
keep its peak.

Process-wide, so only the entry points (the CLI and the window) call ``tune_allocator``,
first thing, before other threads exist; a library user of ``visualizer.core`` keeps the
defaults. ``VISUALIZER_MALLOC=default`` turns it off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8
# The most mallopt takes (an int): up to 2 GiB free at the heap's top stays for reuse.
TRIM_THRESHOLD = 2**31 - 1

_libc = None
_tuned = False


def _glibc():
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.gnu_get_libc_version   # glibc only: musl has no mallopt settings like these
            libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
            libc.malloc_trim.argtypes = [ctypes.c_size_t]
            _libc = libc
        except (OSError, AttributeError):
            _libc = False
    return _libc or None


def tune_allocator() -> bool:
    """Apply the settings above; True when they took effect (glibc, not turned off)."""
    global _tuned
    if os.environ.get("VISUALIZER_MALLOC", "").lower() == "default":
        return False
    libc = _glibc()
    if libc is None:
        return False
    _tuned = bool(libc.mallopt(M_ARENA_MAX, 1) and libc.mallopt(M_MMAP_MAX, 0)
                  and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _tuned


def is_tuned() -> bool:
    return _tuned


def release_free_memory() -> None:
    """Give the heap's free pages back to the kernel (after a run; a no-op if not tuned)."""
    libc = _glibc() if _tuned else None
    if libc is not None:
        libc.malloc_trim(0)
