"""Result panels on real engine output: EfficientNet-Lite0 (CPU) attacked, swept and explained on
the bundled sample photo, shown in real widgets offscreen. Previews of every view (light and
dark palette) are written to <tmp>/panel-previews for a human to look at."""

import json
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from visualizer.core.attacks import AttackParams, drive
from visualizer.core.attacks.spatial import SpatialParams
from visualizer.core.attacks.transforms import rotate_translate
from visualizer.core.figures import DIVERGING, SEQUENTIAL
from visualizer.core.images import load_image
from visualizer.core.results import attack_record, saliency_record, sweep_record
from visualizer.core.runs import attack_run, class_probabilities, sweep_run
from visualizer.core.saliency import SaliencyParams, compare_saliency
from visualizer.gui.panels import AttackView, SaliencyView, SweepView
from visualizer.gui.panels.colormaps import diverging_cmap, sequential_cmap
from visualizer.gui.panels.image_views import to_display
from visualizer.gui.panels.theme import plot_colours
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Qt

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "resources" / "samples" / "china.jpg"
PREVIEWS = Path(tempfile.gettempdir()) / "panel-previews"
EPS = 4 / 255


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """These few small runs are fastest on one thread: on a busy 2-core machine a second
    OpenMP thread mostly spin-waits (first runs took 15 s instead of 0.4 s)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def model(lite0):
    return lite0


@pytest.fixture(scope="module")
def image():
    return load_image(SAMPLE)


def _top5(model, probs, classes):
    names = model.info.class_names
    return [{"class": int(c), "label": names[int(c)], "prob": float(p)} for p, c in zip(probs, classes)]


@pytest.fixture(scope="module")
def attack(model, image):
    events = []
    run = drive(attack_run(model, image, AttackParams(method="pgd", norm="linf", eps=EPS, steps=3),
                           report_images=True), events.append)
    progress = [dict(step=e.done - 1, total=e.total, loss=float(e.loss[0]), ref_prob=float(e.ref_prob[0]),
                     target_prob=None, top5=_top5(model, e.topk_prob[0], e.topk_class[0]),
                     adversarial=e.adversarial[0].cpu().numpy()) for e in events]
    # The window shows the saved 8-bit adversarial image (artifacts' "adversarial" array).
    return SimpleNamespace(record=attack_record(run), clean=run.result.clean[0].cpu().numpy(),
                           adversarial=run.adversarial_quantized[0].cpu().numpy(), progress=progress)


@pytest.fixture(scope="module")
def attack_l2(model, image):
    run = drive(attack_run(model, image, AttackParams(method="pgd", norm="l2", eps=1.0, steps=1)))
    return SimpleNamespace(record=attack_record(run), clean=run.result.clean[0].cpu().numpy(),
                           adversarial=run.adversarial_quantized[0].cpu().numpy())


def _transformed(run, angle, tx, ty) -> torch.Tensor:
    return rotate_translate(run.clean, torch.tensor([float(angle)]), torch.tensor([float(tx)]),
                            torch.tensor([float(ty)]))


def _sweep(model, image, params):
    run = drive(sweep_run(model, image, params))
    record = sweep_record(run)
    w = record["sweep"]["worst"]
    worst = _transformed(run, w["angle"], w["tx"], w["ty"])[0].numpy()
    return SimpleNamespace(run=run, record=record, clean=run.clean[0].numpy(), worst=worst)


@pytest.fixture(scope="module")
def sweep(model, image):
    return _sweep(model, image, SpatialParams(mode="grid", rotations=5, translations=3))


@pytest.fixture(scope="module")
def sweep_random(model, image):
    return _sweep(model, image, SpatialParams(mode="random", k=8, seed=3))


def _saliency(model, image, absolute=False, copies=2):
    models = [model] * copies    # one real model twice: the view must treat them as two columns
    comparison = drive(compare_saliency(models, image, SaliencyParams(method="vanilla", absolute=absolute)))
    record = saliency_record(comparison, models, image, "cpu")
    return SimpleNamespace(record=record, image=np.moveaxis(image.to_tensor().numpy(), 0, -1),
                           maps=[m.map_original for m in comparison.maps])


@pytest.fixture(scope="module")
def saliency(model, image):
    return _saliency(model, image)


# --------------------------------------------------------------------------- helpers


def _shown(qtbot, widget, width, height):
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    QtWidgets.QApplication.processEvents()
    return widget


def _pixels(qimage: QtGui.QImage) -> np.ndarray:
    img = qimage.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return arr[:, : img.width(), :3].copy()


def _distinct_colours(qimage: QtGui.QImage) -> int:
    px = _pixels(qimage).reshape(-1, 3).astype(np.uint32)
    return int(np.unique(px[:, 0] << 16 | px[:, 1] << 8 | px[:, 2]).size)


def _preview(widget, name: str) -> QtGui.QImage:
    """Grab the widget, save it for a human to look at, and check it is not blank."""
    QtWidgets.QApplication.processEvents()
    image = widget.grab().toImage()
    PREVIEWS.mkdir(parents=True, exist_ok=True)
    assert image.save(str(PREVIEWS / f"{name}.png"))
    assert _distinct_colours(image) > 300, f"{name} looks blank"
    return image


def _scene_items(*views) -> int:
    return sum(len(v.scene().items()) for v in views)


def _dark_palette() -> QtGui.QPalette:
    p = QtGui.QPalette()
    roles = QtGui.QPalette.ColorRole
    for role, colour in ((roles.Window, "#2b2b2b"), (roles.WindowText, "#e8e8e8"), (roles.Base, "#1e1e1e"),
                         (roles.AlternateBase, "#333333"), (roles.Text, "#e8e8e8"), (roles.Button, "#3a3a3a"),
                         (roles.ButtonText, "#e8e8e8"), (roles.ToolTipBase, "#2b2b2b"),
                         (roles.ToolTipText, "#e8e8e8"), (roles.Highlight, "#2f65ca"),
                         (roles.HighlightedText, "#ffffff")):
        p.setColor(role, QtGui.QColor(colour))
    return p


@pytest.fixture
def dark_app(qapp):
    old = qapp.palette()
    qapp.setPalette(_dark_palette())
    yield qapp
    qapp.setPalette(old)


# --------------------------------------------------------------------------- colour maps


def test_colormaps_are_the_figures_matplotlib_maps():
    import matplotlib

    for cmap, name in ((diverging_cmap(), DIVERGING), (sequential_cmap(), SEQUENTIAL)):
        lut = cmap.getLookupTable(nPts=256, alpha=True)
        expected = np.round(matplotlib.colormaps[name](np.linspace(0, 1, 256)) * 255)
        np.testing.assert_allclose(lut.astype(float), expected, atol=1)
    mid = diverging_cmap().map(np.array([0.5]), mode="float")[0]
    assert min(mid[:3]) > 0.9          # RdBu_r is white-ish at zero: no perturbation, no colour


# --------------------------------------------------------------------------- attack


def test_attack_result_images_perturbation_levels_and_bars(qtbot, attack):
    rec = attack.record
    view = _shown(qtbot, AttackView(), 620, 820)
    view.set_model_title(rec["model"]["id"])
    view.show_result(rec, attack.clean, attack.adversarial)

    np.testing.assert_array_equal(view.original.image.image, to_display(attack.clean))
    np.testing.assert_array_equal(view.adversarial.image.image, to_display(attack.adversarial))
    expected = (attack.adversarial.astype(np.float32) - attack.clean.astype(np.float32)).mean(axis=0)
    np.testing.assert_allclose(view.perturbation.image.image, expected, rtol=0, atol=1e-7)
    assert np.abs(expected).max() > 0.5 * EPS            # a real, non-trivial perturbation
    lo, hi = view.perturbation.image.getLevels()
    assert (lo, hi) == pytest.approx((-EPS, EPS), rel=1e-9)
    assert view.colour_bar.levels() == pytest.approx((-EPS, EPS), rel=1e-9)
    assert "\u00d764" in view.perturbation.title.full_text()        # 1 / (4/255)
    assert "RGB mean" in view.perturbation.caption.full_text()

    # After the attack: the top-5 of the saved 8-bit image shown beside them.
    for bars, expected in ((view.bars_before, rec["clean"]["top5"]),
                           (view.bars_after, rec["adversarial"]["top5_quantized"])):
        shown = bars.entries()
        assert [e["label"] for e in shown] == [e["label"] for e in expected]
        assert [e["prob"] for e in shown] == pytest.approx([e["prob"] for e in expected])
        for e in shown:
            assert (e["role"] == "reference") == (e["class"] == rec["label"]["class"])
    assert view.bars_before.entries()[0]["role"] == "reference"      # predicted label = clean top-1

    assert view.history.point_count() == len(rec["history"]["loss"]) == rec["iterates"]
    status = view.status_label.text()
    assert "4/255" in status and ("succeeded" in status or "failed" in status)
    assert "8-bit image within \u03b5" in status
    _preview(view, "attack")


def test_attack_status_reports_the_saved_8bit_image(qtbot, attack):
    """When rounding onto the 8-bit grid loses the success, the headline says so (it is the
    image shown and saved), with its norms, and mentions the float result."""
    rec = json.loads(json.dumps(attack.record))
    rec.update(success=True, success_quantized=False)
    rec["perturbation"].update(linf_quantized=3 / 255, l2_quantized=0.25)
    rec["adversarial"]["top5_quantized"] = rec["clean"]["top5"]
    rec["quantization"]["note"] = "no 8-bit image found inside the budget is adversarial"
    view = _shown(qtbot, AttackView(), 620, 820)
    view.show_result(rec, attack.clean, attack.adversarial)
    status = view.status_label.text()
    assert "Attack failed" in status and "float result succeeded" in status
    assert "3/255" in status and "0.25" in status and "no 8-bit image found" in status
    assert view.adversarial.caption.full_text().startswith(rec["clean"]["top5"][0]["label"])


def test_attack_l2_perturbation_spans_its_largest_change(qtbot, attack_l2):
    view = _shown(qtbot, AttackView(), 500, 700)
    view.show_result(attack_l2.record, attack_l2.clean, attack_l2.adversarial)
    delta = (attack_l2.adversarial.astype(np.float32) - attack_l2.clean.astype(np.float32)).mean(axis=0)
    limit = float(np.abs(delta).max())
    assert view.perturbation.image.getLevels() == pytest.approx((-limit, limit))
    assert "max|\u03b4|" in view.perturbation.caption.full_text()


def test_targeted_attack_highlights_target_and_plots_its_probability(qtbot, model, image):
    run = drive(attack_run(model, image, AttackParams(method="pgd", norm="linf", eps=8 / 255, steps=3,
                                                      targeted=True), target="bell cote"))
    rec = attack_record(run)
    view = _shown(qtbot, AttackView(), 620, 820)
    view.show_result(rec, run.result.clean[0].numpy(), run.adversarial_quantized[0].numpy())
    target = rec["target"]["class"]
    roles = {e["class"]: e["role"] for e in view.bars_after.entries()}
    assert target in roles and roles[target] == "target"               # a targeted run puts it in the top-5
    x, y = view.history.target_curve.getData()
    np.testing.assert_allclose(y, rec["history"]["target_prob"])
    assert "P(target)" in view.history.getPlotItem().getAxis("right").labelText
    assert "target: bell cote" in view.legend_label.text()
    _preview(view, "attack_targeted")


def test_attack_image_views_are_linked_within_and_across_columns(qtbot, attack):
    a = _shown(qtbot, AttackView(), 620, 800)
    b = _shown(qtbot, AttackView(), 480, 800)        # a narrower column, as in a real window
    for v in (a, b):
        v.show_result(attack.record, attack.clean, attack.adversarial)
    QtWidgets.QApplication.processEvents()
    # What the main window does for columns with inputs of the same size:
    a.image_views()[0].setXLink(b.image_views()[0])
    a.image_views()[0].setYLink(b.image_views()[0])

    a.image_views()[1].setRange(xRange=(40, 100), yRange=(50, 110), padding=0)
    QtWidgets.QApplication.processEvents()
    ref = a.image_views()[1]
    (x0, x1), (y0, y1) = ref.viewRange()
    ref_px = ref.width()
    for vb in a.image_views() + b.image_views():
        (u0, u1), (v0, v1) = vb.viewRange()
        assert (u0 + u1) / 2 == pytest.approx((x0 + x1) / 2, abs=1e-6)
        assert (v0 + v1) / 2 == pytest.approx((y0 + y1) / 2, abs=1e-6)
        # Same zoom (data units per screen pixel) whatever the view's width.
        assert (u1 - u0) / vb.width() == pytest.approx((x1 - x0) / ref_px, rel=1e-6)
    assert x1 - x0 < 100                             # zoomed in, not reset by the aspect lock
    for vb in a.image_views():
        assert vb.state["aspectLocked"] and vb.yInverted()


def test_attack_progress_updates_existing_items_only(qtbot, attack):
    rec = attack.record
    view = _shown(qtbot, AttackView(), 600, 800)
    view.show_clean(attack.clean, rec["clean"]["top5"], params=rec["parameters"])
    np.testing.assert_array_equal(view.original.image.image, to_display(attack.clean))
    assert view.history.point_count() == 0
    # One throw-away update so lazily created pieces (tick labels, markers) exist before counting.
    view.show_progress(**attack.progress[0])
    view.show_clean(attack.clean, rec["clean"]["top5"], params=rec["parameters"])
    QtWidgets.QApplication.processEvents()
    items = _scene_items(view.images, view.history)
    image_items = [p.image for p in (view.original, view.adversarial, view.perturbation)]
    curves = (view.history.loss_curve, view.history.ref_curve)

    for ev in attack.progress:
        view.show_progress(**ev)
    # Each event draws half the column in turns; the other half of the last one follows soon.
    qtbot.waitUntil(lambda: view.history.point_count() == len(attack.progress), timeout=2000)
    QtWidgets.QApplication.processEvents()

    assert view.history.point_count() == len(attack.progress)
    x, y = view.history.loss_curve.getData()
    np.testing.assert_array_equal(x, [ev["step"] for ev in attack.progress])
    np.testing.assert_allclose(y, [ev["loss"] for ev in attack.progress])
    assert _scene_items(view.images, view.history) == items
    assert [p.image for p in (view.original, view.adversarial, view.perturbation)] == image_items
    assert (view.history.loss_curve, view.history.ref_curve) == curves
    last = attack.progress[-1]
    np.testing.assert_array_equal(view.adversarial.image.image, to_display(last["adversarial"]))
    np.testing.assert_allclose(view.perturbation.image.image,
                               (last["adversarial"] - attack.clean).astype(np.float32).mean(axis=0), atol=1e-7)
    assert view.perturbation.image.getLevels() == pytest.approx((-EPS, EPS))
    assert [e["label"] for e in view.bars_after.entries()] == [e["label"] for e in last["top5"]]
    _preview(view, "attack_live")

    view.clear()
    assert view.history.point_count() == 0 and view.original.image.image is None
    assert view.bars_before.entries() == [] and view.status_label.text() == ""


# --------------------------------------------------------------------------- sweep


def test_sweep_heatmap_slices_orientation_and_markers(qtbot, sweep):
    rec = sweep.record
    s = rec["sweep"]
    grid = np.array(s["grid_true_prob"], dtype=float)
    pred = np.array(s["grid_pred"])
    rot, tx, ty = (np.array(s[k], dtype=float) for k in ("rotations", "translations_x", "translations_y"))
    assert grid.shape == (5, 3, 3)
    view = _shown(qtbot, SweepView(), 560, 760)
    view.show_result(rec, sweep.clean, sweep.worst)
    assert ty[view.current_slice()] == s["worst"]["ty"]          # opens on the worst transform's slice
    assert view.worst_outline.isVisible()

    wrong_total = 0
    for k in range(ty.size):
        view.set_slice(k)
        shown = view.heat_image.image
        np.testing.assert_array_equal(shown, grid[:, :, k])
        # Rotation rows, tx columns: the lowest rotation at the largest tx, by value and by place.
        assert shown[0, 2] == grid[0, 2, k]
        centre = view.heat_image.mapToView(QtCore.QPointF(2.5, 0.5))
        assert (centre.x(), centre.y()) == pytest.approx((tx[2], rot[0]))
        assert str(ty[k]).rstrip("0").rstrip(".").replace("-", "\u2212") in view.slice_label.text()

        wrong = pred[:, :, k] != rec["label"]["class"]
        wrong_total += int(wrong.sum())
        mx, my = view.wrong_markers.getData()
        expected = {(tx[c], rot[r]) for r, c in zip(*np.nonzero(wrong))}
        assert set(zip(np.round(mx, 9), np.round(my, 9))) == expected
        assert view.worst_outline.isVisible() == (ty[k] == s["worst"]["ty"])
    assert wrong_total == round(s["fooled_fraction"] * grid.size) > 0        # markers were really tested

    k = int(np.argmin(np.abs(ty - s["worst"]["ty"])))
    view.set_slice(k)
    r, c = int(np.argmin(np.abs(rot - s["worst"]["angle"]))), int(np.argmin(np.abs(tx - s["worst"]["tx"])))
    box = view.worst_outline.rect()
    assert box.contains(QtCore.QPointF(tx[c], rot[r]))
    assert box.width() <= tx[1] - tx[0] and box.height() <= rot[1] - rot[0]
    assert "fooled" in view.status_label.text().lower()
    _preview(view, "sweep")


def test_sweep_click_on_cell_emits_its_transform_and_shows_it(qtbot, sweep, model):
    s = sweep.record["sweep"]
    rot, tx, ty = (np.array(s[k], dtype=float) for k in ("rotations", "translations_x", "translations_y"))
    view = _shown(qtbot, SweepView(), 560, 760)
    view.show_result(sweep.record, sweep.clean, sweep.worst)
    view.set_slice(2)
    r, c = 3, 0
    scene_pt = view.plot.vb.mapViewToScene(QtCore.QPointF(tx[c], rot[r]))
    widget_pt = view.heat.mapFromScene(scene_pt)
    with qtbot.waitSignal(view.cellClicked, timeout=3000) as blocker:
        qtbot.mouseClick(view.heat.viewport(), Qt.MouseButton.LeftButton, pos=widget_pt)
    assert blocker.args == [rot[r], tx[c], ty[2]]
    assert view.selected_outline.isVisible()

    # The main window's answer: that transform and the model's prediction on it.
    angle, dx, dy = blocker.args
    transformed = _transformed(sweep.run, angle, dx, dy)
    probs = class_probabilities(model, transformed)[0]
    label = model.info.class_names[int(probs.argmax())]
    caption = f"{label} ({float(probs.max()):.2f})"
    view.show_transformed(transformed[0].numpy(), caption)
    np.testing.assert_array_equal(view.selected_panel.image.image, to_display(transformed[0].numpy()))
    assert view.selected_panel.caption.full_text() == caption

    # A click outside the heatmap emits nothing.
    outside = view.heat.mapFromScene(view.plot.getAxis("bottom").sceneBoundingRect().center())
    with qtbot.assertNotEmitted(view.cellClicked):
        qtbot.mouseClick(view.heat.viewport(), Qt.MouseButton.LeftButton, pos=outside)
    _preview(view, "sweep_clicked")


def test_sweep_random_mode_scatter_and_click(qtbot, sweep_random):
    rec = sweep_random.record
    samples = np.array(rec["sweep"]["samples"], dtype=float)
    view = _shown(qtbot, SweepView(), 560, 760)
    view.show_result(rec, sweep_random.clean, sweep_random.worst)
    assert not view.heat_image.isVisible() and not view.slice_slider.isVisible()
    x, y = view.points.getData()
    np.testing.assert_allclose(x, samples[:, 1])
    np.testing.assert_allclose(y, samples[:, 0])
    wrong = np.array(rec["sweep"]["sample_pred"]) != rec["label"]["class"]
    symbols = [p.symbol() for p in view.points.points()]
    assert symbols == ["x" if w else "o" for w in wrong]

    i = 3
    widget_pt = view.heat.mapFromScene(view.plot.vb.mapViewToScene(QtCore.QPointF(samples[i, 1], samples[i, 0])))
    with qtbot.waitSignal(view.cellClicked, timeout=3000) as blocker:
        qtbot.mouseClick(view.heat.viewport(), Qt.MouseButton.LeftButton, pos=widget_pt)
    assert blocker.args == pytest.approx(list(samples[i]))

    view.axis_combo.setCurrentIndex(1)                    # rotation against ty
    x, _ = view.points.getData()
    np.testing.assert_allclose(x, samples[:, 2])
    _preview(view, "sweep_random")


# --------------------------------------------------------------------------- saliency


def test_saliency_shared_scale_overlay_and_links(qtbot, saliency):
    rec = saliency.record
    scale = rec["saliency"]["shared_scale"]
    view = _shown(qtbot, SaliencyView(), 980, 420)
    view.show_result(rec, saliency.image, saliency.maps)

    items = view.map_items()
    assert len(items) == len(saliency.maps) == 2
    for item, m, entry in zip(items, saliency.maps, rec["saliency"]["maps"]):
        np.testing.assert_array_equal(item.image, m.astype(np.float32))      # NaN outside the crop kept
        assert tuple(item.getLevels()) == pytest.approx((-scale, scale))
    assert np.isnan(saliency.maps[0]).any()
    assert view.colour_bar.levels() == pytest.approx((-scale, scale))
    titles = [p.title.full_text() for p in view._panels[1:]]
    assert titles == [f"{e['model']} \u2014 {e['label']}" for e in rec["saliency"]["maps"]]
    plain = _preview(view, "saliency")

    lut_plain = items[0].lut.copy()
    view.overlay_box.setChecked(True)
    overlay = _preview(view, "saliency_overlay")
    assert not np.array_equal(_pixels(plain), _pixels(overlay))
    for item in items:
        assert tuple(item.getLevels()) == pytest.approx((-scale, scale))
        assert item.lut.shape == (256, 4)                       # opacity grows with |saliency|
    view.overlay_box.setChecked(False)
    np.testing.assert_array_equal(items[0].lut, lut_plain)

    views = view.image_views()
    views[2].setRange(xRange=(300, 400), yRange=(150, 250), padding=0)
    QtWidgets.QApplication.processEvents()
    centres = [tuple(np.mean(v.viewRange(), axis=1)) for v in views]
    assert all(c == pytest.approx(centres[2]) for c in centres)

    items_before = list(items)
    view.show_result(rec, saliency.image, saliency.maps, overlay=True)       # same models: items reused
    assert view.map_items() == items_before and view.overlay_box.isChecked()
    view.clear()
    assert all(item.image is None for item in view.map_items())


def test_saliency_absolute_maps_use_zero_to_scale(qtbot, model, image):
    sal = _saliency(model, image, absolute=True, copies=1)
    scale = sal.record["saliency"]["shared_scale"]
    view = _shown(qtbot, SaliencyView(), 900, 400)
    view.show_result(sal.record, sal.image, sal.maps)
    assert len(view.map_items()) == 1
    for item in view.map_items():
        assert tuple(item.getLevels()) == pytest.approx((0.0, scale))
    assert "absolute" in view.note_label.text()


def test_saliency_own_scale_shows_each_map_on_its_model_scale(qtbot):
    # The real standard / robust pair, whose gradients differ several-fold in size.
    from support import digit_sample
    from visualizer.core.models.registry import LoadOptions, load_model

    models = [load_model(name, LoadOptions(device="cpu")) for name in ("digits-standard", "digits-robust")]
    image = load_image(digit_sample())
    from visualizer.core.artifacts import saliency_artifacts, saliency_maps

    comparison = drive(compare_saliency(models, image, SaliencyParams(method="vanilla")))
    art = saliency_artifacts(comparison, models, image)      # as the window shows it
    rec, maps = art.record, saliency_maps(art.record, art.arrays)
    own = [e["own_scale"] for e in rec["saliency"]["maps"]]
    shared = rec["saliency"]["shared_scale"]
    assert max(own) / min(own) > 2, own            # a faint map: what the switch is for

    view = _shown(qtbot, SaliencyView(), 900, 400)
    view.show_result(rec, art.arrays["image"].transpose(1, 2, 0), maps)
    view.overlay_box.setChecked(True)
    overlay_lut = view.map_items()[0].lut.copy()
    view.own_scale_box.setChecked(True)
    for item, m, s in zip(view.map_items(), maps, own):
        np.testing.assert_allclose(item.image, m / s, rtol=1e-6)
        assert tuple(item.getLevels()) == pytest.approx((-1.0, 1.0))
        assert np.nanpercentile(np.abs(item.image), 99.5) == pytest.approx(1.0, rel=0.05)
    np.testing.assert_array_equal(view.map_items()[0].lut, overlay_lut)   # overlay untouched
    assert "own scale" in view.colour_bar.getAxis("left").labelText
    assert "not comparable" in view.header_label.text()
    titles = [p.title.full_text() for p in view._panels[1:]]
    assert all(f"\u00b1{s:.3g}" in t for t, s in zip(titles, own)), titles
    own_png = _preview(view, "saliency_own_scale")

    view.own_scale_box.setChecked(False)
    for item, m in zip(view.map_items(), maps):
        np.testing.assert_array_equal(item.image, m.astype(np.float32))
        assert tuple(item.getLevels()) == pytest.approx((-shared, shared))
    assert "shared scale" in view.colour_bar.getAxis("left").labelText
    assert not np.array_equal(_pixels(own_png), _pixels(_preview(view, "saliency_shared_scale")))


# --------------------------------------------------------------------------- theme, resources


def test_dark_palette_recolours_every_view(qtbot, dark_app, attack, sweep, saliency):
    views = [
        (_shown(qtbot, AttackView(), 600, 800), lambda v: v.show_result(attack.record, attack.clean,
                                                                         attack.adversarial), "attack_dark"),
        (_shown(qtbot, SweepView(), 560, 760), lambda v: v.show_result(sweep.record, sweep.clean, sweep.worst),
         "sweep_dark"),
        (_shown(qtbot, SaliencyView(), 980, 420), lambda v: v.show_result(saliency.record, saliency.image,
                                                                           saliency.maps), "saliency_dark"),
    ]
    window = QtGui.QColor("#2b2b2b")
    for view, fill, name in views:
        fill(view)
        assert plot_colours(view.palette()).dark
        for gv in view.plot_views():
            assert gv.backgroundBrush().color() == window
        _preview(view, name)
    axis = views[0][0].history.getPlotItem().getAxis("left")
    assert axis.textPen().color().lightnessF() > 0.8


def test_palette_change_at_run_time_is_followed(qtbot, qapp, attack):
    view = _shown(qtbot, AttackView(), 600, 800)
    view.show_result(attack.record, attack.clean, attack.adversarial)
    light = view.images.backgroundBrush().color()
    old = qapp.palette()
    try:
        qapp.setPalette(_dark_palette())
        QtWidgets.QApplication.processEvents()
        assert view.images.backgroundBrush().color() == QtGui.QColor("#2b2b2b")
        assert view.history.getPlotItem().getAxis("bottom").textPen().color() == QtGui.QColor("#e8e8e8")
    finally:
        qapp.setPalette(old)
    QtWidgets.QApplication.processEvents()
    assert view.images.backgroundBrush().color() == light


def test_views_start_no_threads_or_timers(qtbot, attack, sweep, saliency):
    threads = {t.ident for t in threading.enumerate()}
    views = [AttackView(), SweepView(), SaliencyView()]
    for v in views:
        _shown(qtbot, v, 600, 700)
    views[0].show_clean(attack.clean, attack.record["clean"]["top5"])
    for ev in attack.progress:
        views[0].show_progress(**ev)
    views[0].show_result(attack.record, attack.clean, attack.adversarial)
    views[1].show_result(sweep.record, sweep.clean, sweep.worst)
    views[2].show_result(saliency.record, saliency.image, saliency.maps)
    QtWidgets.QApplication.processEvents()
    assert {t.ident for t in threading.enumerate()} == threads
    for v in views:
        assert v.findChildren(QtCore.QThread) == []
        assert [t for t in v.findChildren(QtCore.QTimer) if t.isActive()] == []


def test_evaluate_curves_and_legend_follow_a_palette_switch(qtbot, qapp):
    """The Evaluate tab's curve legend kept its light-theme colours after a switch to dark (and
    its curves were never lifted): legend and pens now show the same colour in either theme,
    black (the seventh model's) included."""
    from visualizer.core.evaluation import parse_threats
    from visualizer.core.evaluation.presentation import MODEL_COLOURS
    from visualizer.gui.panels.evaluate_results import CurvesPlot

    threats = parse_threats(["clean", "pgd:linf:0.05,0.1:3"])
    ids = [f"model-{m}" for m in range(len(MODEL_COLOURS))]
    cells = [{"model": i, "threat": t.text, "accuracy": 0.9 - 0.1 * k, "ci95": [0.85 - 0.1 * k, 0.95 - 0.1 * k]}
             for i in ids for k, t in enumerate(threats)]
    curves = CurvesPlot()
    curves.set_layout(threats)
    curves.show_cells(ids, cells)
    _shown(qtbot, curves, 700, 360)

    def drawn() -> list[str]:
        return [item.opts["pen"].color().name() for item in curves.plots[0].listDataItems()]

    def shown_in_legend(colour: str) -> bool:
        return f"color:{colour}" in curves.legend.text()

    assert drawn() == [c.lower() for c in MODEL_COLOURS] and all(shown_in_legend(c) for c in drawn())
    old = qapp.palette()
    try:
        qapp.setPalette(_dark_palette())
        QtWidgets.QApplication.processEvents()
        dark = plot_colours(curves.palette())
        assert dark.dark and drawn() == [dark.accent(c).name() for c in MODEL_COLOURS]
        assert all(shown_in_legend(c) for c in drawn()) and not shown_in_legend(MODEL_COLOURS[0].lower())
        assert drawn()[MODEL_COLOURS.index("#000000")] == "#e8e8e8"     # black would vanish on the dark window
        _preview(curves, "evaluate_curves_dark")
    finally:
        qapp.setPalette(old)
    QtWidgets.QApplication.processEvents()
    assert drawn() == [c.lower() for c in MODEL_COLOURS] and shown_in_legend(MODEL_COLOURS[0].lower())
    _preview(curves, "evaluate_curves_light")


def test_the_view_export_lifts_the_images_out_of_the_recording_and_paints_the_same(qtbot, attack, monkeypatch):
    """Issue 16: a QPicture PNG-compresses each image drawn into it, on the GUI thread (the
    two-image grid was a 23 ms event); the images are now kept aside and drawn over the
    recording by the export's worker. PNG and SVG show the same pixels as recording whole."""
    import io

    from PIL import Image
    from PySide6 import QtSvg

    import visualizer.gui.view_export as view_export
    from visualizer.gui.image_piece import ImagePiece
    from visualizer.gui.view_playback import render_snapshot, snapshot_from_bytes, snapshot_to_bytes

    view = _shown(qtbot, AttackView(), 620, 820)
    view.show_result(attack.record, attack.clean, attack.adversarial)

    def pixels(snapshot, fmt):
        data = render_snapshot(snapshot, fmt, 96)
        if fmt == "svg":
            image = QtGui.QImage(620, 820, QtGui.QImage.Format.Format_RGB32)
            image.fill(QtGui.QColor("white"))
            painter = QtGui.QPainter(image)
            QtSvg.QSvgRenderer(QtCore.QByteArray(data)).render(painter)
            painter.end()
            buf = QtCore.QBuffer()
            buf.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
            image.save(buf, "PNG")
            data = bytes(buf.data())
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=int)

    def both_ways():
        lifted = view_export.snapshot_now(view)
        assert sum(isinstance(p, ImagePiece) for p in lifted.pieces) == 3   # original, adversarial, perturbation
        lifted = snapshot_from_bytes(snapshot_to_bytes(lifted))             # as the SVG/PDF child gets it
        with monkeypatch.context() as m:
            m.setattr(view_export, "liftable_images", lambda unit: [])
            whole = view_export.snapshot_now(view)
        assert not any(isinstance(p, ImagePiece) for p in whole.pieces)
        return lifted, whole

    def share_differing(a, b):
        assert a.shape == b.shape
        return float((np.abs(a - b).max(axis=2) > 8).mean())

    lifted, whole = both_ways()
    for fmt in ("png", "svg"):
        assert share_differing(pixels(lifted, fmt), pixels(whole, fmt)) < (1e-3 if fmt == "png" else 0.02), fmt
    png = pixels(lifted, "png")
    assert png.std() > 20                                    # the images, not a blank page
    # The SVG shows the view at the PNG's scale (its generator's 72 dpi once shrank the
    # recorded graphics views to 75%); text is drawn a little differently.
    assert share_differing(pixels(lifted, "svg"), png) < 0.05
    # The loss plot's curves are in page coordinates: no reader-dependent cosmetic stroke
    # under a scaling transform (svg_cosmetic.py), and the font is named by its face.
    import re

    svg = render_snapshot(lifted, "svg").decode()
    assert 'vector-effect="non-scaling-stroke"' in svg
    assert not re.search(r'transform="matrix\((?!1,0,0,1,)[^)]*\)"[^>]*>\s*<path vector-effect="non-scaling-stroke"', svg)
    assert 'font-family="Sans Serif"' not in svg

    view.original.view.scaleBy((0.5, 0.5))   # zoomed in (the views are linked): each box shows part of its image
    lifted, whole = both_ways()
    png = pixels(lifted, "png")
    assert share_differing(png, pixels(whole, "png")) < 1e-3
    # Lifted, each image is also cropped to what its view box shows, as in the PNG.
    assert share_differing(pixels(lifted, "svg"), png) < 0.05
