"""Writing files atomically: through a temporary file in the same folder, then renamed over
the target. Readers never see a half-written file; a failure (full disk, read-only folder)
leaves any earlier file intact and no temporary file behind."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

from visualizer.core.errors import OutputError


def user_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux shows
    it in /proc; elsewhere it is set and put back at once)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def private_to_umask(path: str | os.PathLike, folder: bool) -> None:
    """Give a file or folder that tempfile created owner-only (0600/0700) the permissions an
    ordinary one gets under the user's umask (0644/0755 with the usual 022)."""
    os.chmod(path, (0o777 if folder else 0o666) & ~user_umask())


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], None], what: str = "") -> Path:
    """``write(fh)`` fills a binary file handle; on success it becomes ``path``.
    OSErrors become an OutputError naming the file (``what`` describes it, e.g. "the figure")."""
    target = Path(path)
    tmp = None
    try:
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~user_umask()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)       # mkstemp's 0600 would make exports unreadable to others
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise OutputError(f"Could not write {what + ' ' if what else ''}{target}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return target
