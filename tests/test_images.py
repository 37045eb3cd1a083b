"""visualizer.core.images: loading every kind of file, and saving. Files are generated in
tmp_path. (Model inputs and maps back onto the image: test_model_input.py.)"""

from __future__ import annotations

import hashlib
import io
import os
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from image_factories import asymmetric_rgb, png_16bit_rgb, raw_png, save, smooth_rgb
from visualizer.core import images
from visualizer.core.errors import ImageLoadError, OutputError
from visualizer.core.images import LoadedImage, image_from_array, load_image, quantize_8bit, save_npy, save_png

EXACT = 1e-6


def f8(a) -> np.ndarray:
    return np.asarray(a, dtype=np.float64) / 255.0


# --------------------------------------------------------------------------- formats and modes

@pytest.mark.parametrize("fmt,ext,kwargs", [
    ("PNG", "png", {}), ("BMP", "bmp", {}), ("TIFF", "tif", {}), ("WEBP", "webp", {"lossless": True}),
])
def test_lossless_formats_load_exact_rgb(tmp_path, fmt, ext, kwargs):
    rgb = asymmetric_rgb(6, 9)
    img = load_image(save(rgb, tmp_path / f"a.{ext}", fmt, **kwargs))
    assert img.pixels.dtype == np.float32 and img.pixels.shape == (6, 9, 3)
    assert (img.width, img.height) == (9, 6)
    np.testing.assert_allclose(img.pixels, f8(rgb), atol=EXACT)
    assert img.notes == []


def test_jpeg_loads_close_to_source(tmp_path):
    rgb = smooth_rgb(32, 48)
    img = load_image(save(rgb, tmp_path / "a.jpg", "JPEG", quality=95))
    assert np.abs(img.pixels - f8(rgb)).mean() < 0.01


def test_gif_palette(tmp_path):
    rgb = asymmetric_rgb(4, 4)  # 16 colours: fits a GIF palette exactly
    img = load_image(save(Image.fromarray(rgb).quantize(16), tmp_path / "a.gif", "GIF"))
    np.testing.assert_allclose(img.pixels, f8(rgb), atol=EXACT)
    assert "palette converted" in img.notes


def test_grayscale_l_and_1bit(tmp_path):
    gray = np.array([[0, 100], [200, 255]], dtype=np.uint8)
    img = load_image(save(gray, tmp_path / "g.png"))
    np.testing.assert_allclose(img.pixels, np.repeat(f8(gray)[..., None], 3, axis=2), atol=EXACT)
    bw = load_image(save(Image.fromarray(gray > 128), tmp_path / "bw.png"))
    np.testing.assert_array_equal(bw.pixels[..., 0], (gray > 128).astype(np.float32))


def test_16bit_png_keeps_precision(tmp_path):
    a = np.array([[1000, 65535], [0, 257]], dtype=np.uint16)
    img = load_image(save(a, tmp_path / "d.png"))
    assert abs(img.pixels[0, 0, 0] - 1000 / 65535) < EXACT
    np.testing.assert_allclose(img.pixels[..., 1], a / 65535, atol=EXACT)
    assert "16-bit image scaled to [0,1]" in img.notes


def test_16bit_tiff(tmp_path):
    a = np.array([[1000, 40000]], dtype=np.uint16)
    img = load_image(save(a, tmp_path / "d.tif", "TIFF"))
    np.testing.assert_allclose(img.pixels[..., 2], a / 65535, atol=EXACT)


def test_16bit_colour_png_is_read_with_a_note(tmp_path):
    a = np.array([[[65535, 32768, 0], [4096, 61440, 65535]]], dtype=np.uint16)
    path = tmp_path / "rgb48.png"
    path.write_bytes(png_16bit_rgb(a))
    img = load_image(path)
    np.testing.assert_allclose(img.pixels, a / 65535, atol=1 / 255)
    assert any("16-bit colour" in n for n in img.notes)


def test_32bit_integer_and_float_tiff(tmp_path):
    ints = np.array([[0, 1000, 65535]], dtype=np.int32)
    img = load_image(save(Image.fromarray(ints, "I"), tmp_path / "i.tif", "TIFF"))
    np.testing.assert_allclose(img.pixels[..., 0], ints / 65535, atol=EXACT)

    floats = np.array([[0.0, 0.25, 1.0]], dtype=np.float32)
    img = load_image(save(Image.fromarray(floats, "F"), tmp_path / "f.tif", "TIFF"))
    np.testing.assert_allclose(img.pixels[..., 1], floats, atol=EXACT)

    wide = np.array([[-2.0, 0.0, 2.0]], dtype=np.float32)  # outside [0, 1]: rescaled, with a note
    img = load_image(save(Image.fromarray(wide, "F"), tmp_path / "w.tif", "TIFF"))
    np.testing.assert_allclose(img.pixels[0, :, 0], [0, 0.5, 1], atol=EXACT)
    assert any("rescaled" in n for n in img.notes)


def test_rgba_composited_on_white(tmp_path):
    rgba = np.array([[[255, 0, 0, 0], [10, 20, 30, 255], [0, 0, 0, 128]]], dtype=np.uint8)
    img = load_image(save(rgba, tmp_path / "t.png"))
    np.testing.assert_allclose(img.pixels[0, 0], [1, 1, 1], atol=EXACT)            # alpha 0 -> white
    np.testing.assert_allclose(img.pixels[0, 1], f8([10, 20, 30]), atol=EXACT)     # opaque unchanged
    np.testing.assert_allclose(img.pixels[0, 2], [1 - 128 / 255] * 3, atol=EXACT)  # black at half alpha
    assert "RGBA composited on white" in img.notes


def test_opaque_rgba_has_no_composite_note(tmp_path):
    rgba = np.full((2, 2, 4), 255, dtype=np.uint8)
    assert load_image(save(rgba, tmp_path / "o.png")).notes == []


def test_la_composited_on_white(tmp_path):
    la = np.array([[[50, 0], [50, 255]]], dtype=np.uint8)
    img = load_image(save(Image.fromarray(la, "LA"), tmp_path / "la.png"))
    np.testing.assert_allclose(img.pixels[0, :, 0], [1, 50 / 255], atol=EXACT)


def test_palette_with_transparency(tmp_path):
    pal = Image.new("P", (2, 1))
    pal.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    pal.putpixel((0, 0), 0)
    pal.putpixel((1, 0), 1)
    path = tmp_path / "p.png"
    pal.save(path, transparency=0)
    img = load_image(path)
    np.testing.assert_allclose(img.pixels[0], [[1, 1, 1], [0, 0, 1]], atol=EXACT)
    assert "palette converted" in img.notes


def test_cmyk_tiff_and_jpeg(tmp_path):
    rgb = smooth_rgb(24, 24)
    cmyk = Image.fromarray(rgb).convert("CMYK")
    tif = load_image(save(cmyk, tmp_path / "c.tif", "TIFF"))
    np.testing.assert_allclose(tif.pixels, f8(rgb), atol=EXACT)
    assert "CMYK converted to RGB" in tif.notes
    jpg_path = save(cmyk, tmp_path / "c.jpg", "JPEG", quality=95)
    with Image.open(jpg_path) as check:
        assert check.mode == "CMYK"  # Pillow writes an Adobe (inverted) CMYK JPEG
    jpg = load_image(jpg_path)
    assert np.abs(jpg.pixels - f8(rgb)).mean() < 0.02


# --------------------------------------------------------------------------- EXIF orientation

def _with_orientation(rgb, path, orientation, fmt):
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, format=fmt, exif=exif)
    return path


@pytest.mark.parametrize("orientation,k", [(6, -1), (8, 1), (3, 2)])
def test_exif_orientation_makes_image_upright(tmp_path, orientation, k):
    stored = asymmetric_rgb(3, 5)
    img = load_image(_with_orientation(stored, tmp_path / "e.png", orientation, "PNG"))
    # 6: the camera was turned so the stored picture must rotate 90 degrees clockwise
    # (np.rot90 k=-1); 8: counter-clockwise; 3: half a turn.
    np.testing.assert_allclose(img.pixels, f8(np.rot90(stored, k)), atol=EXACT)
    assert f"EXIF orientation {orientation} applied" in img.notes


def test_exif_orientation_jpeg(tmp_path):
    stored = smooth_rgb(20, 40)
    img = load_image(_with_orientation(stored, tmp_path / "e.jpg", 6, "JPEG"))
    assert img.pixels.shape == (40, 20, 3)
    assert np.abs(img.pixels - f8(np.rot90(stored, -1))).mean() < 0.01


def test_corrupt_exif_becomes_a_note_not_a_failure(tmp_path):
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(asymmetric_rgb(8, 8)).save(buf, "JPEG", exif=exif)
    data = bytearray(buf.getvalue())
    ifd_offset = data.find(b"Exif\x00\x00") + 10  # TIFF header's pointer to the first IFD
    data[ifd_offset:ifd_offset + 4] = b"\xff\xff\xff\x7f"
    path = tmp_path / "badexif.jpg"
    path.write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's warning must not leak out
        img = load_image(path)
    assert img.pixels.shape == (8, 8, 3)
    assert any(n.startswith("decoder warning") for n in img.notes)


def test_16bit_grey_with_transparent_level(tmp_path):
    a = np.array([[1000, 2000]], dtype=np.uint16)
    path = tmp_path / "t16.png"
    Image.fromarray(a).save(path, transparency=1000)
    img = load_image(path)
    np.testing.assert_allclose(img.pixels[0, :, 0], [1, 2000 / 65535], atol=EXACT)


# --------------------------------------------------------------------------- multi-frame

@pytest.mark.parametrize("name, values, options, note", [
    ("anim.gif", (10, 120, 240), dict(duration=50, loop=0), "first of 3 frames used (animated)"),
    ("anim.webp", (30, 200), dict(duration=50, lossless=True), "first of 2 frames used (animated)"),
    ("pages.tif", (5, 50), {}, "first of 2"),
])
def test_multi_frame_files_use_the_first_frame_and_say_so(tmp_path, name, values, options, note):
    frames = [Image.fromarray(np.full((4, 4, 3), v, dtype=np.uint8)) for v in values]
    path = tmp_path / name
    frames[0].save(path, save_all=True, append_images=frames[1:], **options)
    img = load_image(path)
    np.testing.assert_allclose(img.pixels, values[0] / 255, atol=EXACT)
    assert any(n.startswith(note) for n in img.notes), img.notes


# --------------------------------------------------------------------------- paths and hashes

def test_unicode_path_with_spaces_and_sha256(tmp_path):
    folder = tmp_path / "dossier à moi"
    folder.mkdir()
    path = save(asymmetric_rgb(), folder / "ünïcødé 画像 1.png")
    img = load_image(str(path))
    assert img.path == str(path) and img.name == path.name
    assert img.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- failures

def _fails(path, *words):
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    msg = str(info.value)
    assert str(path) in msg, msg
    for w in words:
        assert w in msg.lower(), msg
    return msg


def test_missing_file(tmp_path):
    _fails(tmp_path / "nope.png", "not found")


def test_file_deleted_after_choosing(tmp_path):
    path = save(asymmetric_rgb(), tmp_path / "gone.png")
    path.unlink()  # chosen in a dialog, then removed before loading
    _fails(path, "not found")


def test_folder(tmp_path):
    _fails(tmp_path, "folder")


def test_empty_file(tmp_path):
    (tmp_path / "e.png").write_bytes(b"")
    _fails(tmp_path / "e.png", "empty")


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"), ("TIFF", "tif")])
def test_truncated(tmp_path, fmt, ext):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, fmt)
    path = tmp_path / f"t.{ext}"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) * 2 // 3])
    _fails(path, "truncated")


def test_truncated_webp_is_refused(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(smooth_rgb(64, 64)).save(buf, "WEBP")
    path = tmp_path / "t.webp"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    _fails(path)


def test_text_named_png(tmp_path):
    (tmp_path / "notes.png").write_text("just some text\n")
    _fails(tmp_path / "notes.png", "text", ".png")


def test_pdf_named_png(tmp_path):
    (tmp_path / "doc.png").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    _fails(tmp_path / "doc.png", "pdf")


def test_binary_garbage(tmp_path):
    (tmp_path / "x.jpg").write_bytes(bytes(range(256)) * 4)
    _fails(tmp_path / "x.jpg", "not an image")


def test_damaged_png_header(tmp_path):
    (tmp_path / "h.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\xff" * 20)
    _fails(tmp_path / "h.png")


def test_unsupported_format_is_named(tmp_path):
    save(asymmetric_rgb(), tmp_path / "a.ppm", "PPM")
    _fails(tmp_path / "a.ppm", "ppm", "supported")


def test_decompression_bomb_over_our_limit(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(raw_png(12_000, 10_000, 8, 0))  # 120 MP declared in a 60-byte file
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no Pillow warning leaks out
        msg = _fails(path, "12000 x 10000", "limit", "100 megapixels")
    assert "120.0 megapixels" in msg


def test_decompression_bomb_over_pillow_limit(tmp_path):
    path = tmp_path / "bigbomb.png"
    path.write_bytes(raw_png(40_000, 40_000, 8, 0))
    _fails(path, "too large", "100 megapixels")


def test_fifo_is_refused_without_hanging(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    os.mkfifo(tmp_path / "pipe.png")
    _fails(tmp_path / "pipe.png", "not a regular file")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file(tmp_path):
    path = save(asymmetric_rgb(), tmp_path / "locked.png")
    path.chmod(0)
    try:
        _fails(path, "permission denied")
    finally:
        path.chmod(0o600)


# --------------------------------------------------------------------------- arrays

@pytest.mark.parametrize("shape", [(3, 4), (3, 4, 1), (3, 4, 3), (3, 4, 4)])
@pytest.mark.parametrize("dtype,scale", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1), (np.float64, 1)])
def test_image_from_array(shape, dtype, scale):
    rng = np.random.default_rng(1)
    raw = (rng.random(shape) * scale).astype(dtype) if scale == 1 else rng.integers(0, scale + 1, shape).astype(dtype)
    img = image_from_array(raw, name="test")
    x = raw.astype(np.float64) / scale
    if x.ndim == 2:
        x = x[..., None]
    if x.shape[2] == 4:
        x = x[..., :3] * x[..., 3:] + (1 - x[..., 3:])
    x = np.broadcast_to(x, (3, 4, 3))
    assert img.pixels.shape == (3, 4, 3) and img.pixels.dtype == np.float32
    np.testing.assert_allclose(img.pixels, x, atol=EXACT)
    assert img.path is None and img.sha256 is None and img.name == "test"


@pytest.mark.parametrize("bad,words", [
    (np.zeros((3, 4, 2), np.uint8), "shape"),
    (np.zeros((2, 3, 4, 3), np.uint8), "shape"),
    (np.zeros((0, 4), np.uint8), "empty"),
    (np.full((2, 2), 1.5, np.float32), "[0, 1]"),
    (np.full((2, 2), np.nan, np.float32), "nan"),
    (np.zeros((2, 2), np.int32), "dtype"),
])
def test_image_from_array_rejects(bad, words):
    with pytest.raises(ImageLoadError, match="(?i)" + __import__("re").escape(words)):
        image_from_array(bad)


def test_image_from_bool_array():
    img = image_from_array(np.array([[True, False]]))
    np.testing.assert_array_equal(img.pixels[0, :, 1], [1, 0])


def test_to_tensor_is_chw_copy():
    img = image_from_array(asymmetric_rgb(3, 5))
    t = img.to_tensor()
    assert t.shape == (3, 3, 5) and t.dtype == torch.float32
    np.testing.assert_array_equal(t.permute(1, 2, 0).numpy(), img.pixels)
    t.zero_()
    assert img.pixels.max() > 0


# --------------------------------------------------------------------------- quantize and save

def test_quantize_8bit():
    x = torch.rand(2, 3, 17, 19)
    q = quantize_8bit(x)
    assert q.shape == x.shape and q.dtype == x.dtype
    assert (q - x).abs().max() <= 0.5 / 255 + 1e-7
    torch.testing.assert_close(quantize_8bit(q), q, atol=0, rtol=0)
    levels = q * 255
    torch.testing.assert_close(levels, levels.round(), atol=1e-4, rtol=0)
    assert quantize_8bit(torch.tensor([-0.5, 1.5])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("channels", [3, 1])
def test_save_png_round_trip_exact(tmp_path, channels):
    levels = np.random.default_rng(2).integers(0, 256, (channels, 13, 11))
    pixels = torch.from_numpy(levels / 255.0).float()
    path = tmp_path / "out.png"
    save_png(pixels, path)
    img = load_image(path)
    expected = np.broadcast_to(levels.transpose(1, 2, 0), (13, 11, 3)) / 255.0
    np.testing.assert_allclose(img.pixels, expected, atol=EXACT)
    save_png(pixels.numpy() * 0, path)  # overwrites in place, leaves no temp files
    assert load_image(path).pixels.max() == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_npy_round_trip(tmp_path):
    a = torch.rand(3, 5, 7, dtype=torch.float64)
    save_npy(a, tmp_path / "m.npy")
    back = np.load(tmp_path / "m.npy")
    assert back.dtype == np.float32 and back.shape == (3, 5, 7)
    np.testing.assert_allclose(back, a.numpy(), atol=1e-7)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npy"]


def test_save_into_missing_folder_raises_output_error(tmp_path):
    with pytest.raises(OutputError, match="Could not write"):
        save_png(torch.zeros(3, 2, 2), tmp_path / "no" / "such.png")
    with pytest.raises(OutputError):
        save_npy(np.zeros((1, 2, 2)), tmp_path / "no" / "such.npy")


def test_loaded_image_rejects_wrong_shape():
    with pytest.raises(ValueError):
        LoadedImage(pixels=np.zeros((2, 2)), path=None, sha256=None, notes=[])


# --------------------------------------------------------------------------- properties

_HEADERS = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*",
            b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"%PDF-"]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.sampled_from(_HEADERS), body=st.binary(max_size=600))
def test_random_bytes_only_ever_raise_image_load_error(tmp_path_factory, header, body):
    path = tmp_path_factory.getbasetemp() / "fuzz.img"
    path.write_bytes(header + body)
    try:
        img = load_image(path)
    except ImageLoadError:
        return
    assert img.pixels.ndim == 3 and np.isfinite(img.pixels).all()


_FORMATS = {  # format -> (extension, save options, modes it stores losslessly)
    "PNG": ("png", {}, ("L", "RGB", "RGBA", "P", "I;16")),
    "BMP": ("bmp", {}, ("L", "RGB", "P")),
    "TIFF": ("tif", {}, ("L", "RGB", "RGBA", "P", "I;16")),
    "WEBP": ("webp", {"lossless": True, "exact": True}, ("L", "RGB", "RGBA", "P")),
}


@st.composite
def _small_images(draw):
    fmt = draw(st.sampled_from(sorted(_FORMATS)))
    mode = draw(st.sampled_from(_FORMATS[fmt][2]))
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if mode == "I;16":
        raw = rng.integers(0, 65536, (h, w), dtype=np.uint16)
        return fmt, Image.fromarray(raw), np.repeat(raw[..., None] / 65535.0, 3, axis=2)
    if mode == "P":
        palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
        index = rng.integers(0, 256, (h, w), dtype=np.uint8)
        im = Image.fromarray(index, "L").convert("P")   # a P image over these indices
        im.putpalette(palette.tobytes())
        return fmt, im, palette[index] / 255.0
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    raw = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
    x = raw / 255.0
    if mode == "RGBA":
        x = x[..., :3] * x[..., 3:] + (1 - x[..., 3:])
    return fmt, Image.fromarray(raw[..., 0] if mode == "L" else raw, mode), np.broadcast_to(x, (h, w, 3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_small_images())
def test_random_small_images_decode_exactly(tmp_path_factory, case):
    fmt, im, expected = case
    ext, options, _ = _FORMATS[fmt]
    path = tmp_path_factory.getbasetemp() / f"prop.{ext}"
    im.save(path, format=fmt, **options)
    img = load_image(path)
    assert (img.width, img.height) == im.size
    np.testing.assert_allclose(img.pixels, expected, atol=EXACT)
