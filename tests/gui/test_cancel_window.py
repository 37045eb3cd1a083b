"""Cancel (button, Esc or Run > Cancel) during every long job the window runs: a sweep, an
attack on all models, saliency, a model still loading. The job stops, what it had is kept
and marked cancelled, no worker thread is left (conftest.py) and the window goes on
working. Real bundled models on a real image."""

from visualizer.gui.qt import QtCore
from window_support import LONG, add_model, choose, run_and_wait, run_sweep, set_field


def start_and_wait_for_progress(qtbot, w, slots, all_models=False, events=2):
    """Start a run; return once each of ``slots`` has reported ``events`` progress events."""
    seen = {slot: [] for slot in slots}
    w.run(all_models=all_models)
    for slot in slots:
        w.pool._active[slot].progress.connect(seen[slot].append)
    qtbot.waitUntil(lambda: all(len(v) >= events for v in seen.values()), timeout=LONG)
    return seen


def stopped(qtbot, w, result_in=lambda: True):
    """Wait until the threads have ended and ``result_in()`` holds (a result is delivered to
    the window after its thread may have ended)."""
    qtbot.waitUntil(lambda: not w.pool.busy() and result_in(), timeout=LONG)
    qtbot.waitUntil(lambda: not w.cancel_button.isEnabled(), timeout=LONG)
    assert w.run_button.isEnabled()


def test_escape_stops_a_sweep_and_keeps_the_cells_done(qtbot, digits_window):
    w = digits_window
    choose(w.form, "spatial-grid")
    set_field(w.form, "rotations", "181")
    set_field(w.form, "translations", "15")                   # 40,725 transforms: many seconds
    start_and_wait_for_progress(qtbot, w, [f"sweep:{id(w.columns[0])}"])
    assert w.cancel_button.isEnabled()
    w.activateWindow()
    qtbot.keyClick(w, QtCore.Qt.Key_Escape)
    stopped(qtbot, w, lambda: "sweep" in w.columns[0].results)
    record = w.columns[0].results["sweep"].record
    assert record["cancelled"] is True and 0 < record["sweep"]["evaluated"] < 40725
    assert "cancelled, partial result shown" in w.statusBar().currentMessage()
    assert run_sweep(qtbot, w, rotations=5)["cancelled"] is False


def test_cancel_button_stops_an_attack_on_all_models(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-l2")
    set_field(w.form, "steps", "100000")
    start_and_wait_for_progress(qtbot, w, [f"attack:{id(c)}" for c in w.columns], all_models=True)
    w.cancel_button.click()
    stopped(qtbot, w, lambda: all("attack" in c.results for c in w.columns))
    for col in w.columns:
        record = col.results["attack"].record
        assert record["cancelled"] is True and 2 <= record["iterates"] < 100001
        assert record["perturbation"]["l2"] <= float(record["parameters"]["eps"]) + 1e-4
    set_field(w.form, "steps", "3")
    run_and_wait(qtbot, w, all_models=True, count=2)
    assert not any(c.results["attack"].record["cancelled"] for c in w.columns)


def smoothgrad(w, samples):
    choose(w.form, "saliency")
    w.form.method.setCurrentIndex(w.form.method.findData("smoothgrad"))
    set_field(w.form, "sg_samples", str(samples))


def test_saliency_cancelled_in_the_second_model_keeps_the_first(qtbot, digits_window):
    w = digits_window
    smoothgrad(w, 4000)
    done = []
    w.runFinished.connect(done.append)
    w.run(all_models=True)
    progress = []
    w.pool._active["saliency"].progress.connect(lambda e: progress.append(e.done))
    qtbot.waitUntil(lambda: bool(progress) and progress[-1] > 1000, timeout=LONG)   # into the second model
    w.act_cancel.trigger()
    stopped(qtbot, w, lambda: bool(done))
    record = w.saliency_result.record
    assert done == ["saliency"] and record["cancelled"] is True
    assert [m["model"] for m in record["saliency"]["maps"]] == ["digits-standard"]
    assert "1 of 2 models" in w.statusBar().currentMessage()


def test_saliency_cancelled_before_any_model_finished_leaves_nothing_stale(qtbot, digits_window):
    w = digits_window
    choose(w.form, "saliency")
    run_and_wait(qtbot, w, all_models=True)                   # an earlier, complete result
    assert w.saliency_result is not None
    smoothgrad(w, 100000)
    start_and_wait_for_progress(qtbot, w, ["saliency"], all_models=True, events=1)
    w.cancel()
    stopped(qtbot, w, lambda: "before any model finished" in w.statusBar().currentMessage())
    # The view was cleared when the run started; the old result must not stay exportable
    # behind an empty view.
    assert w.saliency_result is None and w.current_artifacts() is None
    smoothgrad(w, 16)
    run_and_wait(qtbot, w, all_models=True)
    assert len(w.saliency_result.record["saliency"]["maps"]) == 2


def test_cancel_while_a_model_loads_drops_it_and_says_so(qtbot, window):
    loaded = []
    window.modelLoaded.connect(loaded.append)
    window.load_model("digits-standard", {"device": "cpu"})
    assert window.cancel_button.isEnabled()
    window.cancel_button.click()            # loading cannot stop part-way: its late result is dropped
    qtbot.waitUntil(lambda: not window.pool.busy() and "cancelled" in window.model_list.item(0).text(),
                    timeout=LONG)
    assert loaded == [] and window.columns[0].model is None
    assert window.model_list.item(0).text() == "digits-standard — loading cancelled"
    assert not window.run_button.isEnabled()
    window.remove_selected_model()
    add_model(qtbot, window, "digits-standard")
    assert window.columns[0].ready and loaded == [0]
