"""Before anything ran, the window says only what is true (issue 16): no "100%" and "Done",
no invented axes ("rotation (x0.001)" from -400 to 400 on an empty sweep), no colour scale
for a perturbation that does not exist; a hint says what will appear. Real window, real
digits models, offscreen."""

from window_support import LONG, choose, run_and_wait, run_sweep, set_field

AXES = ("left", "bottom", "right")


def shown_axes(plot):
    return [name for name in AXES if plot.getAxis(name).isVisible()]


def test_first_launch_is_idle_without_invented_values(qtbot, digits_window):
    w = digits_window
    assert w.progress.text() == "" and w.progress.value() < w.progress.minimum()      # no "0%", no "100%"
    assert w.progress_label.text() == "Ready"
    attack = w.workspace("attack").view(w.columns[0])
    history = attack.history.getPlotItem()
    assert shown_axes(history) == [] and attack.history.empty_hint.label.isVisible()
    assert attack.colour_bar.opacity() == 0                       # no perturbation, no scale
    sweep = w.workspace("sweep").view(w.columns[0])
    assert shown_axes(sweep.plot) == [] and not sweep.colour_bar.isVisible()
    assert "sweep" in sweep.empty_hint.label.toPlainText()
    assert "Saliency" in w.workspace("saliency").saliency_view.header_label.text()


def test_results_bring_the_axes_back_and_a_new_image_takes_them_away(qtbot, digits_window):
    w = digits_window
    run_sweep(qtbot, w, rotations=3, translations=3)
    sweep = w.workspace("sweep").view(w.columns[0])
    assert shown_axes(sweep.plot) == ["left", "bottom"] and sweep.colour_bar.isVisible()
    assert not sweep.empty_hint.label.isVisible()
    low, high = sweep.plot.vb.viewRange()[1]
    assert -46 < low < high < 46                   # cells of -30, 0, +30 degrees
    label = sweep.plot.getAxis("left").labelString()
    assert "rotation" in label and "x0.0" not in label
    assert " finished in " in w.progress_label.text() and w.progress.value() == w.progress.maximum()

    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "3")
    run_and_wait(qtbot, w)
    attack = w.workspace("attack").view(w.columns[0])
    assert shown_axes(attack.history.getPlotItem()) == list(AXES) and attack.colour_bar.opacity() == 1

    w.remove_selected_model()                       # its panels go; a new image clears what is left
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    other = w.workspace("sweep").view(w.columns[0])
    assert shown_axes(other.plot) == [] and other.empty_hint.label.isVisible()
