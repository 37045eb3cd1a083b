"""On one shared scale a robust model's saliency map can be nearly blank beside a standard
model's (its input gradients are several times smaller). The view then repeats the faint map
on its own scale beside the others, so both the honest magnitude comparison and the robust
map's structure are on screen. Real bundled MNIST models on a real MNIST test digit."""

from pathlib import Path

import numpy as np
import pytest

from visualizer.core.attacks import drive
from visualizer.core.images import load_image
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.results import saliency_record
from visualizer.core.saliency import FAINT, SaliencyParams, compare_saliency
from visualizer.gui.panels import SaliencyView
from visualizer.gui.qt import QtWidgets

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "mnist" / "3_idx18.png"


@pytest.fixture(scope="module")
def pair():
    models = [load_model(name, LoadOptions(device="cpu")) for name in ("mnist-standard", "mnist-robust-l2")]
    image = load_image(str(SAMPLE))
    comparison = drive(compare_saliency(models, image, SaliencyParams(method="vanilla")))
    record = saliency_record(comparison, models, image, "cpu")
    return record, np.moveaxis(image.to_tensor().numpy(), 0, -1), [m.map_original for m in comparison.maps]


def test_a_faint_map_is_repeated_on_its_own_scale(qtbot, pair):
    record, image, maps = pair
    entries, shared = record["saliency"]["maps"], record["saliency"]["shared_scale"]
    ratios = [e["own_scale"] / shared for e in entries]
    assert ratios[0] > FAINT > ratios[1]      # the robust model's map is the faint one
    view = SaliencyView()
    qtbot.addWidget(view)
    view.resize(1100, 500)
    view.show()
    view.show_result(record, image, maps)
    QtWidgets.QApplication.processEvents()

    shared_items, repeats = view.map_items(), view.own_scale_items()
    assert len(shared_items) == 2 and len(repeats) == 1
    for item in shared_items:                                        # the honest comparison stays
        assert tuple(item.getLevels()) == pytest.approx((-shared, shared))
    own = entries[1]["own_scale"]
    assert tuple(repeats[0].getLevels()) == pytest.approx((-own, own))
    np.testing.assert_array_equal(repeats[0].image, maps[1].astype(np.float32))
    assert "mnist-robust-l2" in view._panels[-1].title.full_text() and "own scale" in view._panels[-1].title.full_text()
    assert "repeated on its own scale: mnist-robust-l2" in view.header_label.text()

    view.own_scale_box.setChecked(True)          # every map on its own scale: no repeat needed
    assert len(view.map_items()) == 2 and view.own_scale_items() == []
    view.own_scale_box.setChecked(False)
    assert len(view.own_scale_items()) == 1
