"""Every live plot's legend stays out of its data: in a 1000 x 700 window, the legend of each
curve plot (Black box margins and steal curve, Train's robustness curves, Poison's rate
curves, Evaluate's accuracy curves) lies wholly outside the plot's data area and covers no
drawn point. The Black box legend sat inside the plot and covered the margin curve there."""

import numpy as np
import pytest

from visualizer.gui.qt import QtCore

WIDTH, HEIGHT = 1000, 700


def _window_rect(window, widget) -> QtCore.QRect:
    return QtCore.QRect(widget.mapTo(window, QtCore.QPoint(0, 0)), widget.size())


def _data_rect(window, view, plot) -> QtCore.QRect:
    """The plot's data area (its ViewBox) in window pixels."""
    scene = plot.vb.sceneBoundingRect()
    top_left = view.mapTo(window, view.mapFromScene(scene.topLeft()))
    bottom_right = view.mapTo(window, view.mapFromScene(scene.bottomRight()))
    return QtCore.QRect(top_left, bottom_right)


def _drawn_points(window, view, plot) -> list[QtCore.QPoint]:
    """Every data point of the plot's curves, where it is drawn, in window pixels."""
    points = []
    for item in plot.listDataItems():
        xs, ys = item.getData()
        for x, y in zip(xs if xs is not None else [], ys if ys is not None else []):
            if np.isfinite(x) and np.isfinite(y):
                scene = plot.vb.mapViewToScene(QtCore.QPointF(float(x), float(y)))
                points.append(view.mapTo(window, view.mapFromScene(scene)))
    return points


def assert_legend_clear(qtbot, window, legend, view, plots, names):
    qtbot.wait(50)                                  # the layout settles
    assert legend.isVisible()
    for name in names:                              # the legend says which curve is which
        assert name.replace(" ", "\u00a0") in legend.text().replace("&nbsp;", "\u00a0")
    box = _window_rect(window, legend)
    assert box.width() > 0 and box.height() > 0
    drawn = 0
    for plot in plots:
        area = _data_rect(window, view, plot)
        assert area.width() > 50 and area.height() > 50, area
        assert not box.intersects(area), (box, area)       # not over the data area at all
        for point in _drawn_points(window, view, plot):
            assert not box.contains(point), (box, point)
            drawn += 1
    assert drawn >= 4                                      # the check looked at real points


@pytest.fixture
def small(make_window):
    return make_window(WIDTH, HEIGHT)


def test_black_box_margin_and_steal_legends_leave_the_curves_clear(qtbot, small):
    ws = small.workspace("blackbox")
    small.tabs.setCurrentWidget(ws.page)
    q = np.arange(1, 1001, 10.0)                    # margins rising to the top right, as Square's do
    ws.live.set_curve("mnist-standard", list(q), list(-3 + 4 * (1 - np.exp(-q / 300))))
    ws.live.set_curve("mnist-robust", list(q), list(-4 + 3.5 * (1 - np.exp(-q / 500))))
    live = ws.live
    assert_legend_clear(qtbot, small, live.legend, live.plot_view, [live.plot], ["mnist-standard", "mnist-robust"])

    steal = ws.steal.curve
    points = [{"queries": n, "agreement": a, "test_accuracy": a - 0.05}
              for n, a in ((500, 0.6), (1000, 0.8), (5000, 0.97))]
    steal.set_runs([{"defence": "none", "points": points},
                    {"defence": "round:1", "points": [dict(p, agreement=p["agreement"] - 0.1) for p in points]}])
    assert_legend_clear(qtbot, small, steal.legend, steal.view, [steal.plot], ["no defence", "round:1"])
    assert "solid \u25cf: agreement, dashed \u25bc: test accuracy" in steal.legend.text()
    steal.clear()
    assert not steal.legend.isVisible() and not steal.legend.entries()      # no stray empty legend


def test_train_and_poison_legends_leave_the_curves_clear(qtbot, small):
    ws = small.workspace("train")
    small.tabs.setCurrentWidget(ws.page)
    plot = ws.plot
    for name, clean, robust in (("01 standard", 0.97, 0.02), ("02 PGD-7 L∞ 0.3", 0.95, 0.88)):
        run = plot.add_run(name, "PGD-10 L∞ 0.3")
        plot.set_history(run, [{"epoch": e, "test_clean_accuracy": clean - 0.1 / e,
                                "test_robust_accuracy": robust * e / 3} for e in (1, 2, 3)])
    assert_legend_clear(qtbot, small, plot.legend, plot.view, [plot.plot_item],
                        ["01 standard: clean", "02 PGD-7 L∞ 0.3: clean", "robust"])
    assert "dashed: robust accuracy under PGD-10 L∞ 0.3" in plot.legend.text()      # not cut off as a title

    ws.sections.setCurrentWidget(ws.poison.page)
    curves = ws.poison.curves
    entries = [{"rate": r, "poisons": int(2000 * r), "clean_accuracy": 0.97 - r, "attack_success_rate": a}
               for r, a in ((0.0, 0.01), (0.01, 0.6), (0.05, 0.99))]
    entries[2]["detection"] = {"retrained": {"clean_accuracy": 0.96, "attack_success_rate": 0.05}}
    curves.show_entries(entries)
    assert_legend_clear(qtbot, small, curves.legend, curves.view, [curves.plot_item],
                        ["clean test accuracy", "attack success rate"])
    assert "after retraining" in curves.legend.text()


def test_evaluate_legend_leaves_every_panel_clear(qtbot, small):
    from visualizer.core.evaluation import parse_threats

    tab = small.workspace("evaluate")
    small.tabs.setCurrentWidget(tab.page)
    threats = parse_threats(["clean", "pgd:linf:0.05,0.1,0.2:3", "pgd:l2:1,2:3"])
    curves = tab.curves
    curves.set_layout(threats)
    cells = []
    for m, model in enumerate(("mnist-standard", "mnist-robust")):
        for t in threats:
            eps = 0 if t.is_clean else t.to_dict()["eps"]
            accuracy = max(0.0, 0.99 - (3 - 2 * m) * eps / 2)
            cells.append({"model": model, "threat": t.text, "accuracy": accuracy,
                          "ci95": [max(0.0, accuracy - 0.02), min(1.0, accuracy + 0.02)]})
    curves.show_cells(["mnist-standard", "mnist-robust"], cells)
    assert len(curves.plots) == 2
    assert_legend_clear(qtbot, small, curves.legend, curves.canvas, curves.plots, ["mnist-standard", "mnist-robust"])
