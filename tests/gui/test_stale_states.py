"""Views that kept showing what no longer holds (issue 16, "Wrong states seen"): a removed
model's saliency map setting the others' scale, the previous image's class on the sweep
axis, a blank Original while a reopened session's model is attacked again, and a remembered
target class that meant another class on another model. Real models, images and files."""

import numpy as np
import pytest

from visualizer.core.saliency import shared_scale
from visualizer.gui.main_window import MainWindow
from window_support import LONG, add_model, choose, open_image, run_and_wait, run_sweep, sample, set_field


def reopened(qtbot, w, tmp_path, settings):
    """``w``'s session saved and reopened in a second window, its models loaded."""
    path = tmp_path / "s.advsession"
    assert w.save_session(path)
    w2 = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w2)
    w2.show()
    assert w2.open_session(path)
    qtbot.waitUntil(lambda: all(c.ready for c in w2.columns) and not w2.pool.busy(), timeout=LONG)
    return w2


def test_removing_a_model_removes_its_saliency_map_and_its_part_in_the_scale(qtbot, digits_window, tmp_path):
    w = digits_window
    choose(w.form, "saliency")
    run_and_wait(qtbot, w, all_models=True)
    both = w.saliency_result
    robust_map = both.arrays["saliency_1"]
    w.model_list.setCurrentRow(0)
    w.remove_selected_model()                                       # digits-standard goes
    rec = w.saliency_result.record["saliency"]
    assert [m["model"] for m in rec["maps"]] == ["digits-robust"]
    assert rec["shared_scale"] == pytest.approx(shared_scale([robust_map]))
    assert rec["shared_scale"] != pytest.approx(both.record["saliency"]["shared_scale"])
    view = w.workspace("saliency").saliency_view
    assert len(view.map_items()) == 1
    assert view.colour_bar.levels() == pytest.approx((-rec["shared_scale"], rec["shared_scale"]))
    # The export writes what is shown.
    from visualizer.gui.dialogs.export_dialog import ExportChoice

    w.tabs.setCurrentIndex(2)
    record = w.export_to(ExportChoice(folder=str(tmp_path / "out"), png=True, current_view=False, raw=True))
    np.testing.assert_array_equal(np.load(tmp_path / "out" / record["saliency"]["maps"][0]["file"]), robust_map)
    w.model_list.setCurrentRow(0)
    w.remove_selected_model()
    assert w.saliency_result is None and view.map_items()[0].image is None


def test_a_new_image_takes_the_old_class_off_the_sweep_axis(qtbot, digits_window):
    w = digits_window
    record = run_sweep(qtbot, w, rotations=3, translations=3)
    axis = w.workspace("sweep").view(w.columns[0]).colour_bar.getAxis("left")
    assert record["label"]["label"] in axis.labelText
    open_image(qtbot, w, sample("flower.jpg"))
    assert axis.labelText == "P(true class)"


def test_a_reopened_attack_run_again_keeps_its_original_image(qtbot, digits_window, tmp_path, settings):
    w = digits_window
    choose(w.form, "pgd-l2")
    set_field(w.form, "steps", "3")
    run_and_wait(qtbot, w)
    w2 = reopened(qtbot, w, tmp_path, settings)
    set_field(w2.form, "steps", "100000")
    w2.model_list.setCurrentRow(0)
    w2.run()
    view = w2.workspace("attack").view(w2.columns[0])
    qtbot.waitUntil(lambda: view.history.point_count() >= 2, timeout=LONG)
    assert view.original.image.image is not None                    # not blank during the run
    assert [e["class"] for e in view.bars_before.entries()] == \
        [e["class"] for e in w.columns[0].results["attack"].record["clean"]["top5"]]
    w2.cancel()
    qtbot.waitUntil(lambda: not w2.pool.busy(), timeout=LONG)
    w2.close()


def test_a_remembered_target_is_cleared_for_a_model_with_other_classes(qtbot, settings):
    w = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w)
    add_model(qtbot, w, "digits-standard")
    choose(w.form, "pgd-l2")
    w.form.targeted.setChecked(True)
    w.form.target_picker.setText("8")
    assert w.form.target() == 8 and w.form.is_valid()
    w.close()

    # Relaunched with a model of the same classes: the target means the same digit.
    w2 = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w2)
    add_model(qtbot, w2, "digits-robust")
    assert w2.form.target() == 8 and w2.form.is_valid()
    w2.close()

    # Relaunched with an ImageNet model: class 8 there is "hen", not the digit. Cleared, and said.
    w3 = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w3)
    said = []
    w3.statusBar().messageChanged.connect(said.append)
    add_model(qtbot, w3, "lite0-imagenet")
    assert w3.form.target() is None and not w3.form.is_valid() and not w3.run_button.isEnabled()
    assert any("target class 8" in m for m in said), said
    assert "Choose the class" in w3.form.errors()["target"]
    w3.close()


def test_a_reopened_session_keeps_its_transfer_table_and_can_transfer_again(qtbot, digits_window, tmp_path,
                                                                           settings):
    w = digits_window
    choose(w.form, "pgd-l2")
    set_field(w.form, "eps", "2")
    set_field(w.form, "steps", "5")
    run_and_wait(qtbot, w)
    w.run_transfer()
    qtbot.waitUntil(lambda: bool(w.transfer_table.rows) and not w.pool.busy(), timeout=LONG)
    rows = w.transfer_table.rows
    w2 = reopened(qtbot, w, tmp_path, settings)
    assert w2.transfer_table.rows == rows and w2.transfer_table.isVisible()
    w2.model_list.setCurrentRow(0)
    assert w2.transfer_button.isEnabled()
    w2.transfer_table.clear_rows()
    w2.run_transfer()                       # from the stored result: the same rows as the live run gave
    qtbot.waitUntil(lambda: bool(w2.transfer_table.rows) and not w2.pool.busy(), timeout=LONG)
    assert w2.transfer_table.rows == rows
    w2.close()


def test_the_comparison_export_unticks_what_it_does_not_write(qtbot, tmp_path):
    from visualizer.gui.dialogs.export_dialog import ExportChoice, ExportDialog

    dialog = ExportDialog(choice=ExportChoice(folder=str(tmp_path), current_view=True, figure=True), comparable=2)
    qtbot.addWidget(dialog)
    dialog.comparison.setChecked(True)
    boxes = (dialog.current_view, dialog.figure, dialog.raw)
    assert not any(b.isChecked() or b.isEnabled() for b in boxes)
    choice = dialog.choice()
    assert choice.comparison and not (choice.current_view or choice.figure or choice.raw)
    assert dialog.state()["current_view"] and dialog.state()["figure"]       # remembered for a single run
    dialog.comparison.setChecked(False)
    assert [b.isChecked() for b in boxes] == [True, True, False] and all(b.isEnabled() for b in boxes)
    assert "Publication figure" in dialog.figure.text()          # the tutorial's name for it
