"""The comparison views of issue 16: columns that make the difference between models obvious.
One perturbation scale per threat model with real ticks, images larger than the plot, a
headline with the probability and margin that matter, the threat model on every column,
scrubbing through kept iterates on the plot, hover read-outs, linked sweep sliders, and a
loss axis that says what it plots. Real digits models and images, real mouse events."""

import numpy as np
import pytest

from support import digit_sample
from visualizer.core.resources import sample_images
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Qt
from window_support import LONG, choose, open_image, run_and_wait, run_sweep, set_field


def attack_views(w):
    ws = w.workspace("attack")
    return [ws.view(e) for e in w.columns]


def run_attack_on_all(qtbot, w, kind="pgd-linf", eps="0.1", steps="10", target=None):
    choose(w.form, kind)
    set_field(w.form, "eps", eps)
    set_field(w.form, "steps", steps)
    w.form.targeted.setChecked(target is not None)
    if target is not None:
        w.form.target_picker.setText(target)
    run_and_wait(qtbot, w, all_models=True, count=len(w.columns))


def tick_labels(colour_bar) -> list[str]:
    levels = colour_bar.axis._tickLevels       # what setTicks gave the axis (pyqtgraph keeps it there)
    return [label for _value, label in levels[0]] if levels else []


def send_mouse(widget, kind, pos, buttons=Qt.MouseButton.NoButton, button=Qt.MouseButton.NoButton):
    """A real mouse event to ``widget`` (a graphics view's viewport) at ``pos`` (its pixels)."""
    point = QtCore.QPointF(pos)
    event = QtGui.QMouseEvent(kind, point, widget.mapToGlobal(point), button, buttons,
                              Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(widget, event)
    QtWidgets.QApplication.processEvents()


def plot_point(plot, iterate: float) -> QtCore.QPoint:
    vb = plot.getPlotItem().vb
    (_x0, _x1), (y0, y1) = vb.viewRange()
    return plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(iterate, (y0 + y1) / 2)))


def pixel_point(graphics_view, view_box, x: int, y: int) -> QtCore.QPoint:
    return graphics_view.mapFromScene(view_box.mapViewToScene(QtCore.QPointF(x + 0.5, y + 0.5)))


# --------------------------------------------------------------------------- one scale, real ticks


def test_columns_of_one_threat_model_share_one_scale_with_real_ticks(qtbot, digits_window):
    w = digits_window
    run_attack_on_all(qtbot, w, "pgd-l2", eps="2", steps="5")
    views = attack_views(w)
    own = [float(np.abs(v.perturbation.image.image).max()) for v in views]
    assert abs(own[0] - own[1]) > 1e-3                        # each alone would get its own colours
    limit = max(own)
    for v in views:
        assert v.colour_bar.levels() == pytest.approx((-limit, limit), rel=1e-5)
        assert v.perturbation.image.getLevels() == pytest.approx((-limit, limit), rel=1e-5)
        assert "one scale for all L2" in v.perturbation.caption.full_text()
        labels = tick_labels(v.colour_bar)
        assert len(labels) >= 5 and "0" in labels             # not just a "0" tick
        assert v.colour_bar.axis.labelText == "grey levels (/255)"
        assert "L2" in v.threat_label.text()

    # The selected column attacked with L-inf: it draws on its own ±eps, ticked in eps; the
    # L2 column keeps its own scale, and each column names its threat model.
    w.model_list.setCurrentRow(0)
    choose(w.form, "pgd-linf")
    set_field(w.form, "eps", "8/255")
    run_and_wait(qtbot, w)
    linf, l2 = views
    assert linf.colour_bar.levels() == pytest.approx((-8 / 255, 8 / 255))
    assert tick_labels(linf.colour_bar) == ["\u2212\u03b5", "\u2212\u03b5/2", "0", "+\u03b5/2", "+\u03b5"]
    assert linf.colour_bar.axis.labelText == "\u03b5 = 8/255"
    assert l2.colour_bar.levels() == pytest.approx((-own[1], own[1]), rel=1e-5)
    assert "L\u221e" in linf.threat_label.text() and "L2" in l2.threat_label.text()
    assert "one scale" not in l2.perturbation.caption.full_text()


# --------------------------------------------------------------------------- images first


def test_images_dominate_and_the_plot_collapses(qtbot, digits_window):
    w = digits_window
    w.resize(1600, 1000)
    run_attack_on_all(qtbot, w, steps="5")
    view = attack_views(w)[0]
    qtbot.wait(50)
    side = view.original.view.width()
    assert side >= 200 and view.original.view.height() >= 200          # about 160 in one row of three
    assert view.perturbation.view.width() == pytest.approx(side, abs=2)   # linked views: one size
    assert view.history.height() < view.image_area.height() / 2
    view.plot_section.toggle.click()                     # collapse: every column's plot goes
    qtbot.wait(50)
    assert all(not v.history.isVisible() for v in attack_views(w))
    assert view.original.view.width() >= side


def test_a_narrow_tall_column_stacks_its_images():
    from visualizer.gui.panels.attack_layout import choose_arrangement

    # Three models at 1600 x 1000: columns about 400 x 600 for the images and charts.
    a = choose_arrangement(400, 600, 1.0, text_h=26, bar_w=85, bars_side_by_side_h=150, bars_stacked_h=290)
    row = choose_arrangement(400, 600, 1.0, 26, 85, 150, 290, bars_min_w=10_000)    # a grid cannot fit
    assert row.mode == "row" and a.mode == "grid" and a.cell >= 1.2 * row.cell
    assert a.upper_h + a.lower_h <= 600
    wide = choose_arrangement(1200, 600, 1.0, 26, 85, 150, 290)
    assert wide.mode == "row" and 3 * wide.cell + 85 <= 1200


# --------------------------------------------------------------------------- headline


def test_the_headline_shows_the_target_probability_and_margin(qtbot, digits_window):
    w = digits_window
    run_attack_on_all(qtbot, w, "pgd-l2", eps="4", steps="30", target="8")
    for entry, view in zip(w.columns, attack_views(w)):
        rec = entry.results["attack"].record
        text = view.headline_label.text()
        assert "P(target 8)" in text and "margin" in text
        margin = f"{rec['adversarial']['target_margin']:+.1f}".replace("-", "\u2212")
        assert margin in text
        assert ("Target 8 reached" in text) == rec["success"]
    standard, robust = (v.headline_label.text() for v in attack_views(w))
    assert standard != robust
    # What the loss axis plots is said, for a targeted run minus the target's cross-entropy.
    view = attack_views(w)[0]
    assert view.history.getPlotItem().getAxis("left").labelText == "\u2212CE(target)"
    assert "minus the target's cross-entropy" in view.plot_section.hint.text()


# --------------------------------------------------------------------------- scrubbing


def test_click_and_drag_on_the_plot_show_kept_iterates_in_every_column(qtbot, digits_window):
    from visualizer.core.attacks.iterates import DEFAULT_MAX_BYTES

    w = digits_window
    run_attack_on_all(qtbot, w, steps="10")
    views = attack_views(w)
    arts = [e.results["attack"] for e in w.columns]
    assert all(a.iterates is not None and a.iterates.indices() == list(range(11)) for a in arts)
    assert all(a.iterates.nbytes <= DEFAULT_MAX_BYTES for a in arts)
    view, plot = views[0], views[0].history
    qtbot.wait(50)

    send_mouse(plot.viewport(), QtCore.QEvent.Type.MouseButtonPress, plot_point(plot, 3),
               Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
    for v, art in zip(views, arts):                     # the other column follows
        it = art.iterates.nearest(3)
        np.testing.assert_allclose(v.adversarial.image.image, np.clip(art.iterates.adversarial(it)[0], 0, 1),
                                   atol=1e-6)
        assert v.bars_after.title() == "Top-5 at iterate 3/10"
        assert [e["class"] for e in v.bars_after.entries()] == it.topk_class[0].tolist()
        assert v.history.cursor_index() == 3 and v.plot_section.result_button.isVisible()

    send_mouse(plot.viewport(), QtCore.QEvent.Type.MouseMove, plot_point(plot, 7), Qt.MouseButton.LeftButton)
    send_mouse(plot.viewport(), QtCore.QEvent.Type.MouseButtonRelease, plot_point(plot, 7),
               Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
    assert view.bars_after.title() == "Top-5 at iterate 7/10"
    delta = arts[0].iterates.adversarial(arts[0].iterates.nearest(7))[0] - arts[0].arrays["clean"][0]
    np.testing.assert_allclose(view.perturbation.image.image, delta, atol=1e-6)

    view.plot_section.result_button.click()              # back to the result, everywhere
    for v, art in zip(views, arts):
        np.testing.assert_array_equal(v.adversarial.image.image, art.arrays["adversarial"][0])
        assert v.bars_after.title() == "Top-5 adversarial" and v.history.cursor_index() is None


def test_live_iterates_are_numbered_as_the_axis(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "4")
    view = attack_views(w)[0]
    titles = []
    w.run()
    w.pool._active[f"attack:{id(w.columns[0])}"].progress.connect(lambda e: titles.append(view.bars_after.title()))
    qtbot.waitUntil(lambda: "attack" in w.columns[0].results and not w.pool.busy(), timeout=LONG)
    assert titles and titles[-1] == "Top-5 at iterate 4/4"          # 0 (start) ... 4 on the axis
    x, _ = view.history.loss_curve.getData()
    assert x[-1] == 4


# --------------------------------------------------------------------------- a run keeps its clean image


def test_the_original_and_clean_top5_stay_during_a_run_started_at_once(qtbot, digits_window):
    w = digits_window
    digit = next(p for p in sample_images() if p.name.startswith("digit-") and p != digit_sample())
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "30")
    view = attack_views(w)[0]
    seen = []

    def check(_event):
        seen.append((view.original.image.image is not None, bool(view.bars_before.entries()),
                     view.history.point_count()))

    def run_now():                   # Run pressed as the image arrives: the previews are still out
        w.run()
        w.pool._active[f"attack:{id(w.columns[0])}"].progress.connect(check)

    w.imageLoaded.connect(run_now)
    open_image(qtbot, w, digit)
    w.imageLoaded.disconnect(run_now)
    qtbot.waitUntil(lambda: "attack" in w.columns[0].results and not w.pool.busy(), timeout=LONG)
    assert seen and all(original and top5 for original, top5, _n in seen)
    counts = [n for *_, n in seen]
    assert counts == sorted(counts)                       # the live curve was never wiped by the preview
    np.testing.assert_array_equal(view.original.image.image, w.columns[0].results["attack"].arrays["clean"][0])


# --------------------------------------------------------------------------- hover read-outs


def test_hovering_an_image_reads_the_pixel_and_the_perturbation_in_eps(qtbot, digits_window):
    w = digits_window
    run_attack_on_all(qtbot, w, eps="8/255", steps="5")
    view = attack_views(w)[0]
    art = w.columns[0].results["attack"]
    qtbot.wait(50)
    x, y = 12, 9
    send_mouse(view.images.viewport(), QtCore.QEvent.Type.MouseMove,
               pixel_point(view.images, view.original.view, x, y))
    text = view.readout_label.text()
    clean, adv = art.arrays["clean"][0, y, x], art.arrays["adversarial"][0, y, x]
    assert f"x {x}, y {y}" in text and f"{clean:.3f}" in text and f"{adv:.3f}" in text
    in_eps = f"{(adv - clean) / (8 / 255):+.2f} \u03b5".replace("-", "\u2212")
    assert in_eps in text
    send_mouse(view.perturbation_images.viewport(), QtCore.QEvent.Type.MouseMove,
               pixel_point(view.perturbation_images, view.perturbation.view, 3, 4))
    assert "x 3, y 4" in view.readout_label.text()


# --------------------------------------------------------------------------- sweep


def test_sweep_sliders_are_linked_and_the_cells_read_out(qtbot, digits_window):
    w = digits_window
    choose(w.form, "spatial-grid")
    set_field(w.form, "rotations", "5")
    set_field(w.form, "translations", "5")
    run_and_wait(qtbot, w, all_models=True, count=2)
    ws = w.workspace("sweep")
    first, second = (ws.view(e) for e in w.columns)
    assert first.current_ty() == second.current_ty()                 # opened on the same slice
    target = 0 if first.current_slice() != 0 else 4
    first.slice_slider.setValue(target)                              # the user moves one slider
    assert second.current_slice() == target and second.current_ty() == first.current_ty()
    record = w.columns[1].results["sweep"].record
    assert "Fooled on x%: the share of the 125 transforms evaluated" in second.status_label.text()

    w.tabs.setCurrentIndex(1)
    qtbot.wait(50)
    grid = np.array(record["sweep"]["grid_true_prob"], dtype=float)
    ri, xi = 1, 3
    rot, tx = record["sweep"]["rotations"][ri], record["sweep"]["translations_x"][xi]
    vb = second.plot.vb
    pos = second.heat.mapFromScene(vb.mapViewToScene(QtCore.QPointF(tx, rot)))
    send_mouse(second.heat.viewport(), QtCore.QEvent.Type.MouseMove, pos)
    text = second.readout_label.text()
    assert f"{grid[ri, xi, target]:.2f}" in text and "predicted" in text
    pred = record["sweep"]["grid_pred"][ri][xi][target]
    assert f"predicted {pred}" in text                                 # digits: the class name is the digit


# --------------------------------------------------------------------------- saliency


def test_saliency_maps_fill_the_tab(qtbot, digits_window):
    w = digits_window
    w.resize(1600, 1000)
    choose(w.form, "saliency")
    run_and_wait(qtbot, w, all_models=True)
    w.tabs.setCurrentIndex(2)
    qtbot.wait(50)
    view = w.workspace("saliency").saliency_view
    assert view.maps.height() >= 0.7 * view.height()                   # not a strip at the top
    assert min(p.view.width() for p in view._panels) >= 300
