"""The view export lifts the images out of its recording (view_images.py) on every tab, not
only the attack column: saliency maps (plain and over the grayscale image), the sweep's
heat map. Each tab's view, played to PNG, shows the same pixels as recorded whole. Real
window offscreen, the bundled digit models."""

import io

import numpy as np
from PIL import Image

import visualizer.gui.view_export as view_export
from visualizer.gui.image_piece import ImagePiece
from visualizer.gui.view_playback import render_snapshot
from window_support import choose, run_and_wait, run_sweep


def _png(snapshot):
    return np.asarray(Image.open(io.BytesIO(render_snapshot(snapshot, "png", 96))).convert("RGB"), dtype=int)


def _same_both_ways(page, monkeypatch, lifted_at_least):
    lifted = view_export.snapshot_now(page)
    assert sum(isinstance(p, ImagePiece) for p in lifted.pieces) >= lifted_at_least
    with monkeypatch.context() as m:
        m.setattr(view_export, "liftable_images", lambda unit: [])
        whole = view_export.snapshot_now(page)
    a, b = _png(lifted), _png(whole)
    assert a.shape == b.shape
    differ = (np.abs(a - b).max(axis=2) > 8).mean()
    assert differ < 1e-3, differ
    assert a.std() > 10


def test_saliency_and_sweep_views_export_the_same_with_images_lifted(qtbot, digits_window, monkeypatch):
    w = digits_window
    choose(w.form, "saliency")
    run_and_wait(qtbot, w, all_models=True)
    page = w.workspace("saliency").page
    w.tabs.setCurrentWidget(page)
    qtbot.wait(50)
    _same_both_ways(page, monkeypatch, lifted_at_least=3)        # the image and a map per model
    view = w.workspace("saliency").saliency_view
    view.overlay_box.setChecked(True)                             # maps over a grayscale copy
    qtbot.wait(50)
    _same_both_ways(page, monkeypatch, lifted_at_least=5)

    run_sweep(qtbot, w)
    page = w.workspace("sweep").page
    w.tabs.setCurrentWidget(page)
    qtbot.wait(50)
    _same_both_ways(page, monkeypatch, lifted_at_least=1)
