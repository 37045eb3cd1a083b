"""What every command with ``--resume`` (train, evaluate, steal) shares: when there is
nothing to resume, and how a refused resume names what changed.

``--resume`` on a missing or empty output folder starts a new run there (the CLI says so in
one line): a run cut short before its first checkpoint left nothing to continue, and a
script may pass ``--resume`` every time. A folder holding other files is never written
into."""

from __future__ import annotations

from pathlib import Path

SHORT_VALUE = 24     # characters: longer settings (model lists, hashes) are named, not quoted


def nothing_to_resume(out: str | Path) -> bool:
    """True when ``out`` does not exist or is an empty folder."""
    out = Path(out)
    try:
        return not out.exists() or (out.is_dir() and not any(out.iterdir()))
    except OSError:          # unreadable: let the folder checks after this say why
        return False


def changed_settings(old: dict, new: dict, defaults: dict | None = None) -> str:
    """'seed 0 -> 5, models' : each setting that differs, with both values when they are
    short (a refusal that quoted two model lists with their hashes ran to 500 characters).
    ``defaults``: the value of a setting a side leaves out (settings kept only when not at
    their default, so that runs saved before they existed still resume)."""
    defaults = defaults or {}
    parts = []
    for key in sorted(set(old) | set(new)):
        then, now = old.get(key, defaults.get(key)), new.get(key, defaults.get(key))
        if then == now:
            continue
        shown = f"{then!r} -> {now!r}"
        parts.append(f"{key} {shown}" if len(shown) <= 2 * SHORT_VALUE + 4 else key)
    return ", ".join(parts)
