"""MNIST-format (idx) files: finding them in the layouts people keep them in, and reading
them strictly.

The parser is ours rather than torchvision's ``read_image_file``: that one opens only
uncompressed files (its docstring says otherwise), checks headers with ``assert`` and, with
``strict=False``, accepts a truncated file until a reshape fails. Here a gzipped or plain
file reads the same way and every defect is one sentence naming the file.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

import torch

from visualizer.core.errors import DataError

MNIST_CLASSES = [str(d) for d in range(10)]
# The names of Zalando's README (and torchvision's FashionMNIST.classes), in label order.
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                         "Bag", "Ankle boot"]
CLASS_NAMES = {"mnist": MNIST_CLASSES, "fashion-mnist": FASHION_MNIST_CLASSES}
# torchvision.datasets.MNIST / FashionMNIST keep the files in ROOT/<class name>/raw.
TORCHVISION_FOLDER = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
FILE_PREFIX = {"train": "train", "test": "t10k"}
UBYTE = 0x08          # the only element type MNIST-style sets use
MAX_BYTES = 1 << 31   # a sanity cap on what one file may declare
# sha256 of the decompressed standard label files: MNIST's and Fashion-MNIST's files share
# their names, so this is how a folder of one read as the other is told apart.
KNOWN_LABEL_FILES = {
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5": ("mnist", "train"),
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2": ("mnist", "test"),
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9": ("fashion-mnist", "train"),
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34": ("fashion-mnist", "test"),
}


def search_folders(root: Path, kind: str) -> list[Path]:
    """Where ``kind:ROOT`` looks, in order: ROOT, ROOT/raw, ROOT/<MNIST|FashionMNIST>/raw."""
    return [root, root / "raw", root / TORCHVISION_FOLDER[kind] / "raw"]


def _names(split: str, what: str) -> list[str]:
    """File names for one split: 'images' or 'labels'; LeCun's site wrote '-idx', some
    mirrors (e.g. Kaggle) write '.idx'; uncompressed first (faster to read)."""
    prefix = FILE_PREFIX[split]
    kind = "idx3" if what == "images" else "idx1"
    stems = [f"{prefix}-{what}-{kind}-ubyte", f"{prefix}-{what}.{kind}-ubyte"]
    return [stem + ext for ext in ("", ".gz") for stem in stems]


def find_idx_file(root: Path, kind: str, split: str, what: str) -> Path:
    folders = search_folders(root, kind)
    names = _names(split, what)
    for folder in folders:
        for name in names:
            if (folder / name).is_file():
                return folder / name
    if not root.exists():
        raise DataError(f"{kind}:{root}: the folder {root} does not exist.")
    where = ", ".join(str(f) for f in folders)
    raise DataError(f"{kind}:{root}: no {split} {what} file ({names[0]} or {names[0]}.gz) in {where}.")


def read_idx_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read(MAX_BYTES + 1)
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:   # gzip.BadGzipFile is an OSError
        what = "a readable gzip file" if path.suffix == ".gz" else "readable"
        raise DataError(f"{path} is not {what}: {exc}.") from None


def parse_idx(data: bytes, path: Path, dims: int) -> torch.Tensor:
    """The uint8 array of an idx file with ``dims`` dimensions (3 for images, 1 for labels).

    Format (big-endian): two zero bytes, the element type (0x08 = unsigned byte), the number
    of dimensions, then one 4-byte size per dimension, then the elements."""
    expected_magic = 0x0800 + dims
    if len(data) < 4:
        raise DataError(f"{path} is not an idx file: it holds only {len(data)} bytes.")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        what = "images (idx3)" if dims == 3 else "labels (idx1)"
        hint = " It looks like a gzip file without the .gz suffix." if data[:2] == b"\x1f\x8b" else ""
        raise DataError(f"{path} is not an idx file of {what}: its magic number is 0x{magic:08x}, "
                        f"expected 0x{expected_magic:08x}.{hint}")
    header = 4 + 4 * dims
    if len(data) < header:
        raise DataError(f"{path} is truncated: its header alone needs {header} bytes, the file has {len(data)}.")
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    count = 1
    for s in shape:
        count *= s
    if len(data) - header != count:
        state = "truncated" if len(data) - header < count else "longer than its header says"
        raise DataError(f"{path} is {state}: the header declares {' x '.join(map(str, shape))} = {count} bytes "
                        f"of data, the file holds {len(data) - header}.")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8, offset=header).view(*shape)


def check_known_set(label_bytes: bytes, path: Path, kind: str) -> None:
    """Refuse the standard files of one set read as the other (``fashion-mnist:`` on an MNIST
    folder would train and evaluate with the wrong class names). Files that are neither
    standard set (a user's own idx data) pass.

    Raises:
        DataError: the labels are byte for byte the other set's.
    """
    known = KNOWN_LABEL_FILES.get(hashlib.sha256(label_bytes).hexdigest())
    if known is not None and known[0] != kind:
        raise DataError(f"{path} is the standard {known[0]} {known[1]} label file, but it was read as {kind}; "
                        f"write {known[0]}:{path.parent} instead.")


def read_idx_split(root: Path, kind: str, split: str) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """(images N x 1 x H x W uint8, labels N int64, description of the files read)."""
    image_path = find_idx_file(root, kind, split, "images")
    label_path = find_idx_file(root, kind, split, "labels")
    label_bytes = read_idx_bytes(label_path)
    check_known_set(label_bytes, label_path, kind)
    images = parse_idx(read_idx_bytes(image_path), image_path, dims=3).unsqueeze(1)
    labels = parse_idx(label_bytes, label_path, dims=1).long()
    if len(images) != len(labels):
        raise DataError(f"{kind}:{root}: {image_path.name} holds {len(images)} images but {label_path.name} "
                        f"holds {len(labels)} labels; the two files come from different sets.")
    n_classes = len(CLASS_NAMES[kind])
    if len(labels) and int(labels.max()) >= n_classes:
        raise DataError(f"{label_path} holds label {int(labels.max())}; {kind} has classes 0-{n_classes - 1}.")
    return images, labels, {"images": str(image_path), "labels": str(label_path)}
