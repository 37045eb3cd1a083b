"""Builders for test images made on the fly (no binary files in the repository)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image


def asymmetric_rgb(h: int = 3, w: int = 5) -> np.ndarray:
    """H x W x 3 uint8 where every pixel differs, so any flip or rotation shows."""
    idx = np.arange(h * w, dtype=np.int64).reshape(h, w)
    return np.stack([idx * 7 % 256, idx * 13 % 256, (idx * 29 + 3) % 256], axis=-1).astype(np.uint8)


def smooth_rgb(h: int, w: int) -> np.ndarray:
    """H x W x 3 uint8 gradients: survives JPEG and resizing nearly unchanged."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 40 + 170 * x / max(w - 1, 1)
    g = 60 + 150 * y / max(h - 1, 1)
    b = 120 + 60 * np.sin(x / max(w, 1) * np.pi)
    return np.stack([r, g, b], axis=-1).round().astype(np.uint8)


def save(array_or_image, path: Path, fmt: str | None = None, **kwargs) -> Path:
    img = array_or_image if isinstance(array_or_image, Image.Image) else Image.fromarray(array_or_image)
    img.save(path, format=fmt, **kwargs)
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes | None = None) -> bytes:
    """A PNG written by hand: lets a test declare any size or bit depth Pillow won't write.

    ``rows`` is the unfiltered scanline data (each row prefixed with filter byte 0);
    None gives a tiny IDAT, enough for a header-only test of a huge declared size.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = zlib.compress(rows if rows is not None else b"\x00")
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def png_16bit_rgb(array: np.ndarray) -> bytes:
    """H x W x 3 uint16 as a 48-bit colour PNG."""
    h, w, _ = array.shape
    be = array.astype(">u2")
    rows = b"".join(b"\x00" + be[i].tobytes() for i in range(h))
    return raw_png(w, h, 16, 2, rows)
