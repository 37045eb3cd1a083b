"""Image-file data sets: an ImageFolder tree (``folder:DIR``) or a list of path,label rows
(``csv:FILE``), and matching their class names to a model's.

The tree walk is torchvision's (``make_dataset``: sorted, the usual image extensions);
decoding is the app's own ``load_image`` and ``preprocess``, so an image in a data set
becomes exactly the model input it becomes when opened in the window.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from visualizer.core.errors import DataError

# torchvision's IMG_EXTENSIONS plus GIF (the window opens GIFs too). Spelled out here so that
# importing this module does not import torchvision (seconds: it pulls in torch._dynamo).
EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".pgm", ".png", ".ppm", ".tif", ".tiff", ".webp")


def _is_number(text: str) -> bool:
    return text.strip().isdigit()


def match_classes(names: list[str], model_classes: list[str] | None, where: str) -> tuple[dict[str, int], list[str]]:
    """Class index for each name found in the data (folder names or CSV labels).

    With a model's class names: a name equal (case-insensitive) to one of them takes its
    index; else a number is taken as the index itself. Without: numbers are indices (so
    folders 0..9 are classes 0..9, not sorted as text), otherwise names in sorted order (as
    torchvision's ImageFolder numbers them). Returns (name -> index, class names).
    """
    if model_classes is not None:
        lowered = {}
        for i, c in enumerate(model_classes):
            lowered.setdefault(c.lower(), i)
        mapping = {}
        for name in names:
            if name.lower() in lowered:
                mapping[name] = lowered[name.lower()]
            elif _is_number(name) and int(name) < len(model_classes):
                mapping[name] = int(name)
            else:
                shown = ", ".join(model_classes[:10]) + (" ..." if len(model_classes) > 10 else "")
                raise DataError(f"{where}: class {name!r} is neither a class name of the model nor an index "
                                f"below {len(model_classes)} (the model's classes: {shown}).")
        return mapping, list(model_classes)
    if names and all(_is_number(n) for n in names):
        mapping = {n: int(n) for n in names}
        return mapping, [str(i) for i in range(max(mapping.values()) + 1)]
    ordered = sorted(set(names))
    return {n: i for i, n in enumerate(ordered)}, ordered


def folder_root(root: Path, split: str) -> tuple[Path, str | None]:
    """The tree for ``split``: ROOT/train or ROOT/test when ROOT is split that way, else ROOT."""
    if not root.is_dir():
        raise DataError(f"folder:{root}: {'no such folder' if not root.exists() else 'not a folder'}.")
    if (root / "train").is_dir() or (root / "test").is_dir():
        if not (root / split).is_dir():
            raise DataError(f"folder:{root}: has a train/test layout but no {split} folder ({root / split}).")
        return root / split, split
    return root, None


def class_folders(root: Path) -> list[str]:
    """The class folder names under ROOT, sorted; raises DataError when there are none."""
    class_dirs = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    if not class_dirs:
        raise DataError(f"folder:{root}: no class folders in it (expected {root}/CLASS/IMAGE files).")
    return class_dirs


def list_folder(root: Path, model_classes: list[str] | None) -> tuple[list[tuple[Path, int]], list[str]]:
    """(path, class index) for every image under ROOT/CLASS/, and the class names."""
    class_dirs = class_folders(root)
    mapping, classes = match_classes(class_dirs, model_classes, f"folder:{root}")
    from torchvision.datasets.folder import make_dataset

    samples = make_dataset(str(root), class_to_idx=mapping, extensions=EXTENSIONS, allow_empty=True)
    if not samples:
        raise DataError(f"folder:{root}: its class folders ({', '.join(class_dirs[:5])}) hold no images "
                        f"({', '.join(EXTENSIONS)}).")
    return [(Path(p), i) for p, i in samples], classes


def list_csv(path: Path, model_classes: list[str] | None) -> tuple[list[tuple[Path, int]], list[str]]:
    """(path, class index) for every ``path,label`` row of a CSV file; an optional first row
    ``path,label`` is a header. Relative paths are read against the CSV's folder."""
    if not path.is_file():
        raise DataError(f"csv:{path}: {'no such file' if not path.exists() else 'not a file'}.")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"csv:{path}: cannot be read as a CSV text file: {exc}.") from None
    start = 1 if rows and [c.strip().lower() for c in rows[0][:2]] == ["path", "label"] else 0
    entries = []
    for number, row in enumerate(rows[start:], start=start + 1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise DataError(f"csv:{path}: row {number} is {','.join(row)!r}; every row must be path,label.")
        image = Path(row[0].strip()).expanduser()
        entries.append((image if image.is_absolute() else path.parent / image, row[1].strip(), number))
    if not entries:
        raise DataError(f"csv:{path}: holds no path,label rows.")
    missing = [(n, p) for p, _, n in entries if not p.is_file()]
    if missing:
        n, p = missing[0]
        more = f" (and {len(missing) - 1} more rows)" if len(missing) > 1 else ""
        raise DataError(f"csv:{path}: row {n} names {p}, which does not exist{more}.")
    mapping, classes = match_classes(sorted({label for _, label, _ in entries}), model_classes, f"csv:{path}")
    return [(p, mapping[label]) for p, label, _ in entries], classes
