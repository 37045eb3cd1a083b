"""The view export's vector files are played from the recording in a child process (no GIL
shared with the window, issue 16): the child's SVG is the one this process would write,
byte for byte, and its PDF a PDF of the same page. Real widgets offscreen, a real child."""

import numpy as np

from visualizer.gui.panels.attack_view import AttackView
from visualizer.gui.view_export import snapshot_now
from visualizer.gui.view_playback import (render_in_child, render_snapshot, render_view, snapshot_from_bytes,
                                         snapshot_to_bytes)


def a_view(qtbot):
    view = AttackView()
    qtbot.addWidget(view)
    view.resize(520, 480)
    rng = np.random.default_rng(0)
    clean = rng.random((3, 32, 32)).astype(np.float32)
    view.show_clean(clean, [{"class": 3, "label": "cat", "prob": 0.9}], params={"norm": "linf", "eps": 8 / 255})
    view.show()
    qtbot.waitExposed(view)
    return view


def test_the_child_writes_the_svg_this_process_would(qtbot):
    snap = snapshot_now(a_view(qtbot))
    assert len(snap.pieces) > 5
    here = render_snapshot(snap, "svg")
    again = render_snapshot(snapshot_from_bytes(snapshot_to_bytes(snap)), "svg")
    assert again == here                              # the recording survives the trip as bytes
    child = render_in_child(snap, "svg", 300)
    assert child == here
    assert snap.picture_dpi == 96 and render_view(snap, "svg") == here     # what the export calls
    assert b"<image" in child                         # the images travelled too


def test_the_childs_pdf_is_the_same_page(qtbot):
    snap = snapshot_now(a_view(qtbot))
    here, child = render_snapshot(snap, "pdf", 150), render_in_child(snap, "pdf", 150)
    assert child.startswith(b"%PDF") and child.rstrip().endswith(b"%%EOF")
    assert abs(len(child) - len(here)) < 0.02 * len(here)     # only the creation date differs
    mediabox = lambda pdf: pdf[pdf.index(b"/MediaBox"):][:40]  # noqa: E731
    assert mediabox(child) == mediabox(here)


def test_the_pdf_is_vector_and_the_same_at_every_dpi(qtbot):
    """The export's dpi sets the PNG's pixels only. A PDF written at 300 dpi once drew text and
    lines 3.1 x too large (QPicture playback scales by the device's dpi, and the painter was
    scaled again); seen rasterised, the 96 dpi page matched the PNG."""
    import re

    snap = snapshot_now(a_view(qtbot))
    def undated(pdf: bytes) -> bytes:     # the creation time and the document's random id differ
        pdf = re.sub(rb"/CreationDate \([^)]*\)", b"", pdf)
        pdf = re.sub(rb"uuid:[0-9a-f-]+", b"", pdf)
        pdf = re.sub(rb"/ID \[[^\]]*\]", b"", pdf)
        return re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+\-Z0-9:]*", b"", pdf)

    assert undated(render_snapshot(snap, "pdf", 300)) == undated(render_snapshot(snap, "pdf", 96))
    assert undated(render_snapshot(snap, "pdf", 150)) == undated(render_snapshot(snap, "pdf", 96))


def test_the_pdf_keeps_images_lossless(qtbot):
    """Qt put every image into the PDF as JPEG: a perturbation map lost up to 27 of 255 levels."""
    pdf = render_snapshot(snapshot_now(a_view(qtbot)), "pdf", 300)
    assert b"/DCTDecode" not in pdf and b"/FlateDecode" in pdf
    assert render_in_child(snapshot_now(a_view(qtbot)), "pdf", 300).count(b"/DCTDecode") == 0


def test_the_svg_keeps_the_views_clips(qtbot):
    """SVG 1.1, not Qt's default SVG Tiny, which drops every clip (a field's scrolled text ran
    out of its box). Readers that honour clip paths then cut as the PNG does."""
    svg = render_snapshot(snapshot_now(a_view(qtbot)), "svg")
    assert b'version="1.1"' in svg and b"<clipPath" in svg and b'clip-path="url(#' in svg


def test_small_images_go_into_vector_files_crisp(qtbot):
    """Readers smooth a small image they enlarge (a 32 px image became a blur): in SVG and PDF
    each pixel is repeated to about 512 px a side, nearest-neighbour, same place and size."""
    import base64
    import io
    import re

    from PIL import Image

    snap = snapshot_now(a_view(qtbot))
    svg = render_snapshot(snap, "svg").decode()
    embedded = [Image.open(io.BytesIO(base64.b64decode(b))) for b in re.findall(r"base64,([^\"]+)\"", svg)]
    big = [im for im in embedded if im.size == (512, 512)]       # the 32 px clean image, 16 x
    assert big, [im.size for im in embedded]
    pixels = np.asarray(big[0].convert("RGB"))
    assert (pixels[::16, ::16] == pixels[15::16, 15::16]).all()   # whole 16 x 16 blocks: no smoothing
    assert b"/DCTDecode" not in render_snapshot(snap, "pdf", 300)
