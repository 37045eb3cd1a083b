"""Per-model columns in a small window (issue 16): every fixed text of a column (headers,
buttons, captions) elides or shortens, the whole text in its tooltip, so three model
columns fit a 1000 px window and four fit 1280 px, and with two or three models no tab
makes the window's minimum size exceed 1000 x 700. Real window offscreen, real bundled
MNIST / Fashion-MNIST models, real runs of a few steps."""

import glob

import pytest

from visualizer.gui.qt import QtWidgets
from window_support import add_model, choose, open_image, run_and_wait, set_field, shown

MODELS = ("mnist-standard", "mnist-robust-l2", "fashion-standard", "fashion-robust")


@pytest.fixture
def window_with(qtbot, make_window):
    def make(width, height, models):
        w = make_window(width, height)
        open_image(qtbot, w, sorted(glob.glob("resources/samples/mnist/*.png"))[0])
        for spec in models:
            add_model(qtbot, w, spec)
        return w

    return make


def run_every_tab(qtbot, w, count):
    """A 2-step PGD, a 3 x 3 x 3 grid sweep and a vanilla saliency on every model: the columns
    then hold their longest texts (headlines, threat models, captions, sliders)."""
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "2")
    run_and_wait(qtbot, w, all_models=True, count=count)
    choose(w.form, "spatial-grid")
    set_field(w.form, "rotations", "3")
    set_field(w.form, "translations", "3")
    run_and_wait(qtbot, w, all_models=True, count=count)
    choose(w.form, "saliency")
    w.form.method.setCurrentIndex(w.form.method.findData("vanilla"))
    run_and_wait(qtbot, w, all_models=True)


def widest_children(page):
    found = [(c.minimumSizeHint().width(), type(c).__name__, c.text() if hasattr(c, "text") else "")
             for c in page.findChildren(QtWidgets.QWidget) if c.isVisibleTo(page)]
    return sorted(found, key=lambda f: -f[0])[:5]


@pytest.mark.parametrize("n", [2, 3])
def test_no_tab_makes_the_window_wider_than_1000_px(qtbot, window_with, n):
    w = window_with(1000, 700, MODELS[:n])
    run_every_tab(qtbot, w, n)
    for i in range(w.tabs.count()):
        w.tabs.setCurrentIndex(i)
        w.resize(1000, 700)
        qtbot.wait(30)
        hint = w.minimumSizeHint()
        where = f"{w.tabs.tabText(i)}: {widest_children(w.tabs.currentWidget())}"
        assert hint.width() <= 1000 and hint.height() <= 700, where
        assert w.width() <= 1000 and w.height() <= 700, where


def test_four_attack_columns_fit_1280_px(qtbot, window_with):
    w = window_with(1280, 720, MODELS)
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "2")
    run_and_wait(qtbot, w, all_models=True, count=4)
    qtbot.wait(30)
    assert w.minimumSizeHint().width() <= 1280, widest_children(w.tabs.currentWidget())
    assert w.width() <= 1280


def test_a_narrow_attack_column_elides_its_plot_header_keeping_the_whole_title_as_tooltip(qtbot):
    from visualizer.gui.panels.attack_parts import PLOT_TITLE
    from visualizer.gui.panels.attack_view import AttackView

    view = shown(qtbot, AttackView(), 200, 600)
    toggle = view.plot_section.toggle
    assert view.minimumSizeHint().width() <= 200
    assert toggle.width() <= 200 and toggle.text().endswith("\u2026") and toggle.text() != PLOT_TITLE
    assert PLOT_TITLE in toggle.toolTip() and "Show or hide" in toggle.toolTip()
    view.resize(900, 600)
    qtbot.waitUntil(lambda: toggle.text() == PLOT_TITLE)        # room again: the whole title
    assert toggle.toolTip() == "Show or hide the plot (the images get its room)"


def test_live_progress_redraws_half_the_column_per_event_and_catches_up(qtbot):
    """GUI stall (issue 16): a progress event redrew the images, plot and top-5 at once
    (15-25 ms of the GUI thread); now it draws the images or the plot and top-5 in turns,
    and the half left out follows when no event comes after it."""
    import numpy as np

    from visualizer.gui.panels.attack_view import AttackView

    view = shown(qtbot, AttackView(), 700, 700)
    rng = np.random.default_rng(0)
    clean = rng.random((3, 32, 32)).astype(np.float32)
    top5 = lambda c: [{"class": c, "label": f"class {c}", "prob": 0.5}]  # noqa: E731
    view.show_clean(clean, top5(0), params={"norm": "linf", "eps": 8 / 255})
    adv = [np.clip(clean + 0.01 * (i + 1), 0, 1) for i in range(3)]
    # The first event draws the plot and top-5 only: drawn whole with the images, it was the
    # longest GUI event of an attack (40-50 ms of CPU on a quiet machine).
    view.show_progress(0, 10, 0.1, 0.9, None, top5(1), adv[0][None])
    assert view.history.point_count() == 1 and view.bars_after.entries()[0]["class"] == 1
    assert view.adversarial.image.image is None
    view.show_progress(1, 10, 0.2, 0.8, None, top5(2), adv[1][None])        # the images' turn
    assert np.allclose(view.adversarial.image.image, np.moveaxis(adv[1], 0, -1))
    assert view.history.point_count() == 1 and view.bars_after.entries()[0]["class"] == 1
    view.show_progress(2, 10, 0.3, 0.7, None, top5(3), adv[2][None])        # the plot's turn
    assert view.history.point_count() == 3 and view.bars_after.entries()[0]["class"] == 3
    assert np.allclose(view.adversarial.image.image, np.moveaxis(adv[1], 0, -1))
    qtbot.waitUntil(lambda: np.allclose(view.adversarial.image.image, np.moveaxis(adv[2], 0, -1)), timeout=2000)
    view.show_progress(9, 10, 0.4, 0.6, None, top5(4), adv[0][None])        # the last: everything
    assert view.history.point_count() == 4 and view.bars_after.entries()[0]["class"] == 4
    assert np.allclose(view.adversarial.image.image, np.moveaxis(adv[0], 0, -1))


def test_the_sweep_slice_label_is_whole_when_there_is_room_and_elided_when_not(qtbot):
    from visualizer.gui.panels.sweep_view import SweepView

    view = shown(qtbot, SweepView(), 180, 600)
    text = "ty = \u22123 px  (1 of 3)  \u00b7 worst"
    view.slice_label.show()
    view.slice_slider.show()
    view.slice_label.setText(text)                       # set while narrow: elided
    qtbot.wait(20)
    assert view.minimumSizeHint().width() <= 180
    assert text in view.slice_label.toolTip()
    view.resize(500, 600)                                # room again: the whole text, not the elided one
    qtbot.waitUntil(lambda: view.slice_label.width() >= view.slice_label.fontMetrics().horizontalAdvance(text))
    assert view.slice_slider.width() >= 48
