"""One evaluated example as an image the window can study: the picture the data set holds at
that index, before any model's preprocessing (the window preprocesses it per model exactly
as a data-set batch is, see model_input.preprocess_batch), so the Attack and Sweep views
see the input the evaluation saw."""

from __future__ import annotations

from pathlib import Path

from visualizer.core.data.dataset import Dataset
from visualizer.core.data.files import folder_root, list_csv, list_folder
from visualizer.core.data.spec import IDX_KINDS
from visualizer.core.errors import DataError
from visualizer.core.images import LoadedImage, image_from_array, load_image_and_bytes


def example_image(data: Dataset, index: int) -> tuple[LoadedImage, bytes]:
    """The ``index``-th example of ``data`` (in the data set's order) as an upright RGB
    image (H x W x 3 float32, pixels in [0, 1]) and its bytes as a file (what a session
    keeps). MNIST-style sets give their stored 8-bit pixels (as PNG bytes); folders and CSV
    lists give the image file itself. Raises DataError for an index outside the data set,
    or a file that can no longer be read."""
    if not 0 <= index < len(data):
        raise DataError(f"Example {index} is not in {data.spec} (it holds {len(data)} examples).")
    name = f"{data.spec.kind}{'-' + data.split if data.split else ''} #{index}"
    if data.spec.kind in IDX_KINDS and data.images is not None:
        pixels = data.images[index].permute(1, 2, 0).cpu().numpy()     # C x H x W uint8 -> H x W x C
        return image_from_array(pixels, name=name), _png_bytes(pixels)
    path = data.paths[index] if data.paths is not None else _example_path(data, index)
    try:
        return load_image_and_bytes(path)
    except Exception as exc:     # moved, deleted or replaced since the evaluation read it
        raise DataError(f"{name}: {path} cannot be opened now ({exc}).") from None


def _png_bytes(pixels) -> bytes:
    """H x W x C uint8 (C = 1 or 3) as a lossless PNG file."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _example_path(data: Dataset, index: int) -> Path:
    """The file behind an example whose pixels were decoded up front (the listing is
    deterministic: the same files in the same order as when the set was read)."""
    if data.spec.kind == "folder":
        root, _ = folder_root(data.spec.path, data.split or "test")
        samples, _ = list_folder(root, data.class_names)
    else:
        samples, _ = list_csv(data.spec.path, data.class_names)
    return samples[index][0]
