"""The one data-set spec grammar every command that takes data understands.

    mnist:DIR           the four standard MNIST idx files (gzipped or not) in DIR, DIR/raw or
                        DIR/MNIST/raw (torchvision's layout)
    fashion-mnist:DIR   the same for Fashion-MNIST (DIR/FashionMNIST/raw)
    folder:DIR          an ImageFolder tree: DIR/CLASS/IMAGE (or DIR/train/CLASS/..., DIR/test/CLASS/...)
    csv:FILE            rows of path,label (relative paths are read against FILE's folder)
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from visualizer.core.errors import DataError

IDX_KINDS = ("mnist", "fashion-mnist")
KINDS = IDX_KINDS + ("folder", "csv")
_ALIASES = {"fashion": "fashion-mnist", "fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist",
            "imagefolder": "folder"}
SPEC_FORMS = ("mnist:DIR", "fashion-mnist:DIR", "folder:DIR", "csv:FILE")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class DataSpec:
    kind: str       # one of KINDS
    path: Path

    def __str__(self) -> str:
        return f"{self.kind}:{self.path}"


def parse_data_spec(text: str | DataSpec) -> DataSpec:
    """``KIND:PATH`` -> DataSpec. Only the first colon separates, so Windows paths work.

    Raises DataError for an unknown kind or an empty path (the path itself is checked when
    the data is read)."""
    if isinstance(text, DataSpec):
        return text
    raw = (text or "").strip()
    head, sep, rest = raw.partition(":")
    kind = _ALIASES.get(head.strip().lower(), head.strip().lower())
    if not sep and kind in KINDS:
        sep = ":"                   # "mnist" alone: its folder is what is missing
    if not sep or kind not in KINDS:
        raise DataError(f"Unknown data set {text!r}: write one of {', '.join(SPEC_FORMS)}.{_hint(raw)}")
    if not rest.strip():
        raise DataError(f"{head}: needs a {'file' if kind == 'csv' else 'folder'} after the colon, "
                        f"e.g. {kind}:{'labels.csv' if kind == 'csv' else 'data/' + kind}.")
    return DataSpec(kind, Path(rest.strip()).expanduser())


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise DataError(f"Unknown split {split!r}: use train or test.")
    return split


def _hint(raw: str) -> str:
    """" Did you mean: mnist:DIR?" for a misspelt kind, or the kinds to put before a bare path."""
    head, sep, rest = raw.partition(":")
    if sep and len(head.strip()) > 1:       # a one-letter head is a Windows drive (C:\data), not a kind
        names = KINDS + tuple(_ALIASES)
        close = difflib.get_close_matches(head.strip().lower(), names, n=1, cutoff=0.6)
        return f" Did you mean: {_ALIASES.get(close[0], close[0])}:{rest.strip()}?" if close else ""
    if raw:                                  # a path with no kind before it
        return f" Did you mean: {', '.join(f'{k}:{raw}' for k in KINDS if (k == 'csv') == raw.lower().endswith('.csv'))}?"
    return ""
