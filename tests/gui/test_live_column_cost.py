"""GUI stall (issue 16): while an attack runs, the loss plot's y axis was auto-ranged to every
new point, so each redraw re-ticked and re-laid out the axis (a third of the GUI thread's work
per progress event). It now only grows, with room to spare; the finished history is
auto-ranged as before."""

import numpy as np
from window_support import shown


def test_the_live_loss_axis_is_re_ranged_a_few_times_and_always_shows_every_point(qtbot):
    from visualizer.gui.panels.history_plot import HistoryPlot

    plot = shown(qtbot, HistoryPlot(), 500, 250)
    vb = plot.getPlotItem().vb
    plot.reset(200)
    changes = []
    vb.sigYRangeChanged.connect(lambda *_: changes.append(1))
    loss = 0.05 * np.log1p(np.arange(200)) + 0.002 * np.arange(200)     # a PGD loss: fast, then slow growth
    for i, value in enumerate(loss):
        plot.append(i, float(value), 0.9, None, 200)
        qtbot.wait(1)                              # the paint that auto-ranging happened in
        low, high = vb.viewRange()[1]
        assert low <= loss[: i + 1].min() and loss[: i + 1].max() <= high
    assert len(changes) <= 12, f"the y range changed {len(changes)} times in 200 redraws"


def test_a_finished_history_is_auto_ranged_on_its_data(qtbot):
    from visualizer.gui.panels.history_plot import HistoryPlot

    plot = shown(qtbot, HistoryPlot(), 500, 250)
    vb = plot.getPlotItem().vb
    plot.reset(50)
    for i in range(50):
        plot.append(i, 0.1 * i, 0.5, None, 50)
    plot.set_history([0.1 * i for i in range(50)], [0.5] * 50)
    assert vb.autoRangeEnabled()[1]
    qtbot.waitUntil(lambda: abs(vb.viewRange()[1][1] - 4.9) < 0.5)       # fitted to the data, not the headroom


def test_the_running_status_line_changes_a_few_times_a_second_and_ends_on_the_last_iterate(qtbot):
    """Its word-wrapped label re-laid out the column at every progress event (about 1 ms of
    the GUI thread's 5 per event)."""
    from visualizer.gui.panels.attack_view import AttackView

    view = shown(qtbot, AttackView(), 700, 700)
    rng = np.random.default_rng(0)
    clean = rng.random((3, 32, 32)).astype(np.float32)
    top5 = [{"class": 0, "label": "class 0", "prob": 0.5}]
    view.show_clean(clean, top5, params={"norm": "linf", "eps": 8 / 255})
    texts = []
    for step in range(10):          # ten events well within a quarter of a second
        view.show_progress(step, 100, 0.1 * step, 0.9, None, top5, clean[None])
        texts.append(view.status_label.text())
    assert texts[0].startswith("Running: iterate 0 of 99") and len(set(texts)) <= 2
    qtbot.waitUntil(lambda: view.status_label.text().startswith("Running: iterate 9 of 99"), timeout=2000)
