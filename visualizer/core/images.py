"""Image loading and saving.

Every image enters the engine as a ``LoadedImage``: upright, RGB, float32 in [0, 1],
whatever the file held (palette, 16-bit, CMYK, transparency, EXIF rotation, ...),
with human notes saying which conversions were made. ``model_input.preprocess`` turns it
into a model input (also importable from here).
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from visualizer.core.atomic import write_atomically
from visualizer.core.errors import ImageLoadError
# Model inputs (resize, crop, maps back onto the image) live in model_input; kept importable here.
from visualizer.core.model_input import CropGeometry, map_to_original, preprocess, preprocess_batch  # noqa: F401

# Refuse images declaring more pixels than this before decoding anything
# (a small file can declare a gigantic canvas: a "decompression bomb").
MAX_IMAGE_PIXELS = 100_000_000
# Files are read whole into memory (hash and pixels from the same bytes); cap that read.
MAX_FILE_BYTES = 1 << 30

# Only the formats we promise; Pillow's other plugins (EPS runs Ghostscript, ...)
# are a needless attack surface for files a user drags in. (Multi-picture JPEGs
# from cameras come through "JPEG": Pillow opens MPO with the JPEG plugin.)
SUPPORTED_FORMATS = ("JPEG", "PNG", "BMP", "TIFF", "WEBP", "GIF")
_FORMATS_TEXT = "JPEG, PNG, BMP, TIFF, WebP or GIF"
_ANIMATED_FORMATS = ("GIF", "PNG", "WEBP")


@dataclass
class LoadedImage:
    """An upright RGB image as H x W x 3 float32 in [0, 1], with where it came from."""

    pixels: np.ndarray
    path: str | None = None
    sha256: str | None = None
    notes: list[str] = field(default_factory=list)
    name: str | None = None  # short display name (file name, or the name given to image_from_array)

    def __post_init__(self) -> None:
        self.pixels = np.ascontiguousarray(self.pixels, dtype=np.float32)
        if self.pixels.ndim != 3 or self.pixels.shape[2] != 3:
            raise ValueError(f"pixels must be H x W x 3, not {self.pixels.shape}")

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def to_tensor(self) -> torch.Tensor:
        """3 x H x W float32 copy (a copy, so callers can modify it freely)."""
        return torch.from_numpy(self.pixels).permute(2, 0, 1).clone(memory_format=torch.contiguous_format)


# --------------------------------------------------------------------------- loading

def load_image(path: str | os.PathLike) -> LoadedImage:
    """Read an image file; every failure becomes an ImageLoadError naming the file."""
    return load_image_and_bytes(path)[0]


def load_image_and_bytes(path: str | os.PathLike) -> tuple[LoadedImage, bytes]:
    """The image and the exact bytes it was decoded from (a session stores those), from one
    read: the file may be replaced or deleted at any moment, and a second read could fail
    or disagree with the first."""
    p = Path(path)
    data = _read_file(p)
    digest = hashlib.sha256(data).hexdigest()
    notes: list[str] = []
    pixels = _decode(data, p, notes)
    return LoadedImage(pixels=pixels, path=str(p), sha256=digest, notes=notes, name=p.name), data


def load_image_bytes(data: bytes, name: str, path: str | None = None) -> LoadedImage:
    """Decode image file bytes held in memory (clipboard, session files)."""
    if not data:
        raise ImageLoadError(f"{name} is empty (0 bytes); it holds no image.")
    if len(data) > MAX_FILE_BYTES:
        raise ImageLoadError(f"{name} is larger than the {MAX_FILE_BYTES / 2**20:.0f} MiB limit for images.")
    notes: list[str] = []
    pixels = _decode(bytes(data), Path(name), notes)
    return LoadedImage(pixels=pixels, path=path, sha256=hashlib.sha256(data).hexdigest(), notes=notes, name=name)


def _read_file(p: Path) -> bytes:
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ImageLoadError(f"Image file not found: {p}") from None
    except PermissionError:
        raise ImageLoadError(f"Permission denied: cannot access {p}") from None
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the path
        raise ImageLoadError(f"Cannot access {p}: {getattr(e, 'strerror', None) or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ImageLoadError(f"{p} is a folder, not an image file.")
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or device would block or never end; refuse instead of hanging.
        raise ImageLoadError(f"{p} is not a regular file (it may be a pipe or a device).")
    if st.st_size == 0:
        raise ImageLoadError(f"{p} is empty (0 bytes); it holds no image.")
    if st.st_size > MAX_FILE_BYTES:
        raise ImageLoadError(f"{p} is {st.st_size / 2**20:.0f} MiB, larger than the "
                             f"{MAX_FILE_BYTES / 2**20:.0f} MiB limit for image files.")
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ImageLoadError(f"{p} disappeared before it could be read.") from None
    except PermissionError:
        raise ImageLoadError(f"Permission denied: cannot read {p}") from None
    except OSError as e:
        raise ImageLoadError(f"Cannot read {p}: {e.strerror or e}") from None
    if not data:
        raise ImageLoadError(f"{p} is empty (0 bytes); it holds no image.")
    if len(data) > MAX_FILE_BYTES:
        raise ImageLoadError(f"{p} grew past the {MAX_FILE_BYTES / 2**20:.0f} MiB limit while being read.")
    return data


def _decode(data: bytes, p: Path, notes: list[str]) -> np.ndarray:
    # Pillow reports damaged-but-readable data (corrupt EXIF, ...) as warnings:
    # keep them as notes for the user instead of printing them on the console.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Pillow also warns above its own, lower, pixel limit; ours is checked below.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        pixels = _decode_pil(data, p, notes)
    notes.extend(f"decoder warning: {m}" for m in dict.fromkeys(str(w.message) for w in caught))
    return pixels


def _decode_pil(data: bytes, p: Path, notes: list[str]) -> np.ndarray:
    limit = f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels"
    try:
        im = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
    except Image.DecompressionBombError as e:
        raise ImageLoadError(f"{p} declares an image too large to open safely ({e}); "
                             f"the limit is {limit}.") from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{p} {_describe_unreadable(data, p)}") from None
    except Exception as e:  # damaged headers raise all sorts (SyntaxError, struct.error, ...)
        raise ImageLoadError(f"{p} could not be read as an image: its header is damaged ({e}).") from None

    with im:
        fmt, (w, h) = im.format, im.size
        if w * h > MAX_IMAGE_PIXELS:
            raise ImageLoadError(f"{p} declares {w} x {h} pixels ({w * h / 1e6:.1f} megapixels), "
                                 f"more than the limit of {limit}; refusing to decode it.")
        if w < 1 or h < 1:
            raise ImageLoadError(f"{p} declares an empty image ({w} x {h} pixels).")
        try:
            reduced = _has_16bit_colour(im)
            frames = getattr(im, "n_frames", 1)  # before load(): counting GIF frames seeks
            im.load()  # decode now, inside the try: truncated data raises here
            im = _apply_exif_orientation(im, notes)
            pixels = _pil_to_rgb_float(im, notes)
        except ImageLoadError as e:
            raise ImageLoadError(f"{p}: {e}") from None
        except MemoryError:
            raise ImageLoadError(f"Not enough memory to decode {p} ({w} x {h} pixels).") from None
        except Exception as e:
            if "truncated" in str(e).lower():
                raise ImageLoadError(f"{p} is truncated: the file ends before the image data does "
                                     f"(incomplete download or copy?).") from None
            raise ImageLoadError(f"{p} could not be decoded; the file is damaged or uses an "
                                 f"unsupported variant of its format ({type(e).__name__}: {e}).") from None
    if reduced:
        notes.append("16-bit colour reduced to 8 bits per channel (Pillow reads colour PNG/TIFF at 8 bits)")
    if frames > 1:
        kind = "frames used (animated)" if fmt in _ANIMATED_FORMATS else "images in the file used"
        notes.insert(0, f"first of {frames} {kind}")
    return pixels


def _describe_unreadable(data: bytes, p: Path) -> str:
    """Why Pillow could not identify the file, in the user's terms."""
    ext = p.suffix.lower()
    despite = f" despite its {ext} extension" if ext else ""
    head = data[:2048]
    if head.startswith(b"%PDF"):
        return f"is a PDF document{despite}, not an image."
    if b"<svg" in head:
        return f"is an SVG (vector) drawing{despite}; convert it to PNG first."
    try:
        # Name a real image format we chose not to support (opening only parses the header).
        with Image.open(io.BytesIO(data)) as other:
            fmt = other.format
        return f"is a {fmt} image{despite}; supported formats are {_FORMATS_TEXT}."
    except Exception:
        pass
    try:
        head.decode("utf-8")
        return f"contains text, not image data{despite}."
    except UnicodeDecodeError:
        return f"is not an image in a supported format ({_FORMATS_TEXT}){despite}."


def _has_16bit_colour(im: Image.Image) -> bool:
    # Pillow decodes 16-bit colour by dropping the low byte; read the raw mode before
    # load() (which clears the tile list) so we can say so in the notes.
    if im.mode.startswith("I") or im.mode == "F":
        return False
    for tile in im.tile:
        rawmode = tile.args if isinstance(tile.args, str) else (tile.args[0] if tile.args else "")
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def _apply_exif_orientation(im: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = int(im.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # damaged EXIF must not stop the image from loading
        notes.append("EXIF data unreadable; orientation not checked")
        return im
    if orientation not in range(2, 9):
        return im
    try:
        upright = ImageOps.exif_transpose(im)
    except Exception:
        notes.append(f"EXIF orientation {orientation} could not be applied; image used as stored")
        return im
    notes.append(f"EXIF orientation {orientation} applied")
    return upright


def _pil_to_rgb_float(im: Image.Image, notes: list[str]) -> np.ndarray:
    mode = im.mode
    if mode.startswith("I;16") or mode == "I" or mode == "F":
        gray = _wide_gray(im, notes)
        key = im.info.get("transparency")
        if isinstance(key, int) and mode != "F":  # 16-bit grey PNG with a transparent value
            opaque = np.asarray(im) != key
            if not opaque.all():
                gray = np.where(opaque, gray, np.float32(1.0))
                notes.append("transparent grey level composited on white")
        return np.repeat(gray[..., None], 3, axis=2)

    if mode == "P":
        notes.append("palette converted")
    elif mode == "CMYK":
        notes.append("CMYK converted to RGB")
    elif mode == "1":
        notes.append("black-and-white (1-bit) image converted to RGB")
    elif mode in ("L", "LA", "La"):
        notes.append("grayscale converted to RGB")
    elif mode not in ("RGB", "RGBA"):
        notes.append(f"{mode} converted to RGB")

    if im.has_transparency_data:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / np.float32(255)
        rgb, alpha = rgba[..., :3], rgba[..., 3:]
        if alpha.min() < 1:
            # Composite on white: the usual look of transparent images in viewers.
            rgb = rgb * alpha + (np.float32(1) - alpha)
            notes.append("RGBA composited on white" if mode == "RGBA"
                         else f"{mode} with transparency composited on white")
        return np.clip(rgb, 0, 1)
    return np.asarray(im.convert("RGB"), dtype=np.float32) / np.float32(255)


def _wide_gray(im: Image.Image, notes: list[str]) -> np.ndarray:
    """Grey levels of 16-bit, 32-bit integer and float images, scaled to [0, 1]."""
    a = np.asarray(im)
    if im.mode.startswith("I;16"):
        notes.append("16-bit image scaled to [0,1]")
        return a.astype(np.float32) / np.float32(65535)
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ImageLoadError("the image holds NaN or infinite values.")
    lo, hi = float(a.min()), float(a.max())
    if im.mode == "F" and lo >= 0 and hi <= 1:
        notes.append("floating-point image used as is")
        return a.astype(np.float32)
    if im.mode == "I" and lo >= 0 and hi <= 65535:
        # 32-bit integer images are nearly always 16-bit data in a wider container.
        notes.append("32-bit integer image read as 16-bit levels (scaled by 65535)")
        return (a / 65535).astype(np.float32)
    notes.append(f"{im.mode}-mode values from {lo:g} to {hi:g} rescaled to [0,1]")
    return ((a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)).astype(np.float32)


def image_from_array(array, name: str | None = None) -> LoadedImage:
    """Wrap an H x W (x 1, 3 or 4) uint8, uint16, bool or float array in [0, 1]."""
    label = name or "array"
    try:
        a = np.asarray(array)
    except Exception as e:
        raise ImageLoadError(f"{label} cannot be read as an array ({e}).") from None
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise ImageLoadError(f"{label}: expected an H x W, H x W x 1, H x W x 3 or H x W x 4 array, "
                             f"got shape {tuple(a.shape)}.")
    h, w = a.shape[:2]
    if h < 1 or w < 1:
        raise ImageLoadError(f"{label} is empty ({w} x {h} pixels).")
    if h * w > MAX_IMAGE_PIXELS:
        raise ImageLoadError(f"{label} has {h * w / 1e6:.1f} megapixels, more than the limit of "
                             f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels.")
    notes: list[str] = []
    if a.dtype == np.uint8:
        x = a.astype(np.float32) / np.float32(255)
    elif a.dtype == np.uint16:
        x = a.astype(np.float32) / np.float32(65535)
        notes.append("16-bit image scaled to [0,1]")
    elif a.dtype == np.bool_:
        x = a.astype(np.float32)
    elif np.issubdtype(a.dtype, np.floating):
        x = a.astype(np.float32)
        if not np.isfinite(x).all():
            raise ImageLoadError(f"{label} holds NaN or infinite values.")
        if x.min() < 0 or x.max() > 1:
            raise ImageLoadError(f"{label}: float pixels must be in [0, 1]; these range from "
                                 f"{float(x.min()):g} to {float(x.max()):g}.")
    else:
        raise ImageLoadError(f"{label} has dtype {a.dtype}; use uint8, uint16 or float values in [0, 1].")
    if x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
        notes.append("grayscale converted to RGB")
    elif x.shape[2] == 4:
        alpha = x[..., 3:]
        x = x[..., :3]
        if alpha.min() < 1:
            x = x * alpha + (1 - alpha)
            notes.append("RGBA composited on white")
    return LoadedImage(pixels=x, path=None, sha256=None, notes=notes, name=name)


# --------------------------------------------------------------------------- output

def quantize_8bit(pixels: torch.Tensor) -> torch.Tensor:
    """Snap to the nearest of the 256 levels an 8-bit file can hold (what a saved PNG shows)."""
    return (torch.round(pixels.clamp(0, 1) * 255) / 255).to(pixels.dtype)


def save_png(pixels: torch.Tensor | np.ndarray, path) -> None:
    """Write C x H x W (C = 1 or 3; a leading batch dim of 1 is allowed) floats in [0, 1]
    as a lossless 8-bit PNG, atomically."""
    a = _as_numpy(pixels)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[0] not in (1, 3):
        raise ValueError(f"save_png needs C x H x W with C = 1 or 3, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("save_png: pixels contain NaN or infinite values")
    levels = np.round(np.clip(a, 0, 1) * 255).astype(np.uint8)
    img = Image.fromarray(levels[0]) if levels.shape[0] == 1 else Image.fromarray(levels.transpose(1, 2, 0))
    write_atomically(path, lambda fh: img.save(fh, format="PNG"))


def save_npy(array, path) -> None:
    """Write an array (C x H x W by convention) as float32 .npy, atomically."""
    a = _as_numpy(array).astype(np.float32, copy=False)
    write_atomically(path, lambda fh: np.save(fh, a, allow_pickle=False))


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    return np.asarray(x, dtype=np.float32)


