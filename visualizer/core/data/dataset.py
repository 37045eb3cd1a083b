"""A labelled image data set read from a spec (see spec.py), ready to be cut into batches.

Images are kept in memory in their native form (MNIST: the uint8 idx array, 47 MB for the
60k training images) and converted per batch, so a training epoch indexes one tensor
instead of decoding files. Very large image folders are decoded per batch instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import torch

from visualizer.core.data.files import class_folders, folder_root, list_csv, list_folder, match_classes
from visualizer.core.data.idx import CLASS_NAMES, read_idx_split
from visualizer.core.data.spec import IDX_KINDS, DataSpec, check_split, parse_data_spec
from visualizer.core.errors import DataError, VisualizerError

if TYPE_CHECKING:
    from visualizer.core.models.wrapper import Preprocessing

# Image folders up to this size (as float32 model inputs) are decoded once, up front.
EAGER_BYTES = 1 << 30


@dataclass
class Dataset:
    """N labelled images.

    ``images``: N x C x H x W, uint8 (0..255) or float32 (pixels in [0, 1]); None when the
    images are decoded per batch from ``paths``. ``labels``: N int64 class indices into
    ``class_names``. ``split``: "train", "test", or None for a set without splits.
    """

    spec: DataSpec
    split: str | None
    class_names: list[str]
    labels: torch.Tensor
    images: torch.Tensor | None = None
    paths: list[Path] | None = None
    preprocessing: "Preprocessing | None" = None    # the model input the images are brought to
    files: dict = field(default_factory=dict)         # what was read, for records
    split_size: int | None = None                      # the whole split's size before a limit (None: len)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """C x H x W of the pixels ``batch`` returns."""
        if self.preprocessing is not None:
            pre = self.preprocessing
            return (pre.channels, pre.input_size, pre.input_size)
        return tuple(self.images.shape[1:])

    def batch(self, index: torch.Tensor | Sequence[int] | slice, device: torch.device | str | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """(pixels B x C x H x W float32 in [0, 1], labels B int64), on ``device``.

        uint8 images travel to the device as bytes and are converted there (4x less copying)."""
        if isinstance(index, slice):
            index = torch.arange(len(self))[index]
        index = torch.as_tensor(index, dtype=torch.long)
        labels = self.labels[index.to(self.labels.device)]
        if self.images is not None:
            raw = self.images[index.to(self.images.device)]
            pixels = raw.to(device).float().div_(255) if raw.dtype == torch.uint8 else raw.to(device, torch.float32)
        else:
            pixels = torch.cat([_decode(self.paths[i], self.preprocessing, self.spec) for i in index.tolist()]).to(device)
        if self.preprocessing is not None:
            from visualizer.core.images import preprocess_batch

            pixels = preprocess_batch(pixels, self.preprocessing)
        return pixels, labels.to(device)

    def subset(self, index: torch.Tensor | Sequence[int]) -> "Dataset":
        """The examples at ``index``, in that order (a copy of their images, not of the rest)."""
        index = torch.as_tensor(index, dtype=torch.long)
        return replace(self, labels=self.labels[index],
                       images=self.images[index] if self.images is not None else None,
                       paths=[self.paths[i] for i in index.tolist()] if self.paths is not None else None)

    def first(self, n: int | None) -> "Dataset":
        """The first ``n`` examples in the data set's order (all of them for None)."""
        if n is None or n >= len(self):
            return self
        if n < 1:
            raise DataError(f"A limit must be at least 1, not {n}.")
        return replace(self.subset(torch.arange(n)), split_size=self.split_size or len(self))

    def to(self, device: torch.device | str) -> "Dataset":
        """The in-memory images moved to ``device`` (batches are then cut there)."""
        if self.images is None:
            return self
        return replace(self, images=self.images.to(device), labels=self.labels.to(device))

    def describe(self) -> dict:
        """What a record needs to say which data this was."""
        return {"spec": str(self.spec), "kind": self.spec.kind, "split": self.split, "size": len(self),
                "split_size": self.split_size or len(self),
                "image_shape": list(self.image_shape), "class_names": list(self.class_names), "files": self.files}


def _check_not_the_other_idx_set(spec: DataSpec, class_names: list[str] | None) -> None:
    """Refuse MNIST digits fed to a model whose classes are Fashion-MNIST's garments, and the
    reverse: both have ten classes, so the run went ahead and reported near-chance accuracy."""
    for kind, names in CLASS_NAMES.items():
        if kind != spec.kind and class_names is not None and list(class_names) == list(names):
            raise DataError(f"{spec}: the model's classes are {kind}'s ({', '.join(names[:3])}, ...), not "
                            f"{spec.kind}'s ({', '.join(CLASS_NAMES[spec.kind][:3])}, ...): it was not trained on "
                            f"this data set. Use {kind}:DIR data, or give the model its own class names with "
                            "--labels FILE if these are wrong.")


def data_class_names(spec: str | DataSpec, split: str = "train") -> list[str]:
    """The class names ``load_dataset(spec, split)`` gives, without reading any image: the
    fixed names of an idx set (its files are not opened), a folder tree's class folders, a
    CSV file's labels. For checking a class index or name before a run starts. Raises
    DataError as load_dataset does for a missing folder or file."""
    spec = parse_data_spec(spec)
    check_split(split)
    if spec.kind in IDX_KINDS:
        return list(CLASS_NAMES[spec.kind])
    if spec.kind == "folder":
        root, _ = folder_root(spec.path, split)
        return match_classes(class_folders(root), None, f"folder:{root}")[1]
    return list_csv(spec.path, None)[1]


def load_dataset(spec: str | DataSpec, split: str = "train", preprocessing: "Preprocessing | None" = None,
                 class_names: list[str] | None = None, limit: int | None = None) -> Dataset:
    """Read the data set ``spec`` names (nothing is downloaded).

    ``preprocessing``: the model's input handling; batches come out at its size and channel
    count (image files go through the app's own loader and ``preprocess``). ``class_names``:
    the model's classes; folder and CSV class names are matched to them by name, or by
    index where they are numbers. ``limit``: keep the first N examples.
    Raises DataError naming what is missing or broken, and where it was looked for."""
    spec = parse_data_spec(spec)
    check_split(split)
    if spec.kind in IDX_KINDS:
        images, labels, files = read_idx_split(spec.path, spec.kind, split)
        names = list(CLASS_NAMES[spec.kind])
        if class_names is not None and len(class_names) != len(names):
            raise DataError(f"{spec}: has {len(names)} classes, the model {len(class_names)}: it was not trained on "
                            f"{spec.kind}. Choose a model trained on it (`visualizer models` lists each bundled "
                            f"model's data set, e.g. {spec.kind.replace('-mnist', '')}-standard), or data with the "
                            "model's classes.")
        _check_not_the_other_idx_set(spec, class_names)
        data = Dataset(spec, split, names, labels, images=images, preprocessing=preprocessing, files=files)
        return data.first(limit)
    if spec.kind == "folder":
        root, found_split = folder_root(spec.path, split)
        samples, names = list_folder(root, class_names)
        files = {"folder": str(root)}
    else:
        samples, names = list_csv(spec.path, class_names)
        found_split, files = None, {"csv": str(spec.path)}
    split_size = len(samples)
    if limit is not None:
        if limit < 1:
            raise DataError(f"A limit must be at least 1, not {limit}.")
        samples = samples[:limit]
    paths = [p for p, _ in samples]
    labels = torch.tensor([i for _, i in samples], dtype=torch.long)
    pre = preprocessing or _native_preprocessing(paths[0], spec)
    data = Dataset(spec, found_split, names, labels, paths=paths, preprocessing=pre, files=files,
                   split_size=split_size)
    if len(paths) * 4 * pre.channels * pre.input_size ** 2 <= EAGER_BYTES:
        data.images = torch.cat([_decode(p, pre, spec, exact=preprocessing is None) for p in paths])
        data.paths = None
    return data


def _native_preprocessing(path: Path, spec: DataSpec) -> "Preprocessing":
    """Without a model: keep the images as they are (they must then all be one square size)."""
    from visualizer.core.images import load_image
    from visualizer.core.models.wrapper import Preprocessing

    image = _load(path, spec, load_image)
    if image.width != image.height:
        raise DataError(f"{spec}: {path.name} is {image.width}x{image.height}; without a model to give the input "
                        "size, the images must be square and all of one size.")
    return Preprocessing(input_size=image.width, resize_size=image.width, channels=3)


def _load(path: Path, spec: DataSpec, loader):
    try:
        return loader(path)
    except VisualizerError as exc:
        raise DataError(f"{spec}: {exc}") from None


def _decode(path: Path, pre: "Preprocessing", spec: DataSpec, exact: bool = False) -> torch.Tensor:
    """1 x C x S x S float32 model input from one image file, as the window makes it."""
    from visualizer.core.images import load_image, preprocess

    image = _load(path, spec, load_image)
    if exact and (image.width, image.height) != (pre.input_size, pre.input_size):
        raise DataError(f"{spec}: {path.name} is {image.width}x{image.height}, the first image "
                        f"{pre.input_size}x{pre.input_size}; without a model to give the input size, all images "
                        "must have one size.")
    return preprocess(image, pre)[0]
