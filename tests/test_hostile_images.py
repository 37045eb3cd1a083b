"""One corpus of bad image files, built on the fly, through all three doors: the core
loader, the command line and the window. Each must give a specific message and no crash;
the window keeps what the user had."""

import io

import numpy as np
import pytest
from PIL import Image

from image_factories import raw_png
from visualizer.cli import main
from visualizer.core.errors import ImageLoadError
from visualizer.core.images import load_image


def _jpeg_bytes():
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


# name, file name, bytes, words the message must contain
CORPUS = [
    ("zero-byte", "empty.png", b"", "empty"),
    ("truncated-jpeg", "cut.jpg", _jpeg_bytes()[:300], "cut.jpg"),
    ("text-named-png", "notes.png", b"just some text, not a picture\n" * 20, "notes.png"),
    ("pdf-named-png", "paper.png", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "paper.png"),
    ("decompression-bomb", "bomb.png", raw_png(12_000, 10_000, 8, 0), "megapixels"),
    ("damaged-header", "hdr.png", b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\xff" * 20, "hdr.png"),
]
IDS = [c[0] for c in CORPUS]


@pytest.fixture
def bad_file(tmp_path, request):
    name, filename, data, needle = request.param
    folder = tmp_path / "dossier à tester"          # spaces and non-ASCII in the path as well
    folder.mkdir()
    path = folder / filename
    path.write_bytes(data)
    return path, needle


@pytest.mark.parametrize("bad_file", CORPUS, ids=IDS, indirect=True)
def test_core_refuses_with_a_specific_message(bad_file):
    path, needle = bad_file
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert needle in str(info.value)


@pytest.mark.parametrize("bad_file", CORPUS, ids=IDS, indirect=True)
def test_cli_exits_nonzero_with_one_line(bad_file, tmp_path, capsys):
    path, needle = bad_file
    rc = main(["attack", "--model", "digits-standard", "--image", str(path), "--eps", "1", "--norm", "l2",
               "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1 and err[0].startswith("error:") and needle in err[0], err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bad_file", CORPUS, ids=IDS, indirect=True)
def test_window_shows_the_message_and_keeps_the_image(bad_file, qtbot, tmp_path):
    from visualizer.core.resources import sample_images
    from visualizer.gui.main_window import MainWindow
    from visualizer.gui.qt import QtCore

    path, needle = bad_file
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    w = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w)
    good = next(p for p in sample_images() if p.name.startswith("digit-"))
    with qtbot.waitSignal(w.imageLoaded, timeout=60000):
        w.open_image(good)
    with qtbot.waitSignal(w.errorShown, timeout=60000):
        w.open_image(path)
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=60000)
    assert needle in w.last_error and w.image.name == good.name
    w.close()
