"""Habits of a desktop app (issue 16): several bundled models added at once, a removed model
put back with Undo, tabs on Ctrl+1.., zoom reset by double-click or Ctrl+0, and a light /
dark / system colour scheme that is remembered and that the plots follow. Real window,
real digits models, offscreen."""

import pytest
from PySide6.QtTest import QTest

from support import digit_sample
from visualizer.gui.qt import QtCore, QtWidgets
from window_support import LONG, add_model, choose, open_image, run_and_wait, sample, set_field

Qt = QtCore.Qt


def close_modal_dialogs():
    """A guard: a dialog run with exec() (a bug here) must not hang the test run."""
    for widget in QtWidgets.QApplication.topLevelWidgets():
        if isinstance(widget, QtWidgets.QDialog) and widget.isVisible():
            widget.reject()


def click_item(qtbot, listing, name, modifier=Qt.KeyboardModifier.NoModifier):
    row = next(r for r in range(listing.count()) if listing.item(r).data(Qt.ItemDataRole.UserRole) == name)
    pos = listing.visualItemRect(listing.item(row)).center()
    qtbot.mouseClick(listing.viewport(), Qt.MouseButton.LeftButton, modifier, pos)


def test_several_bundled_models_are_added_at_once(qtbot, window):
    w = window
    open_image(qtbot, w, digit_sample())
    QtCore.QTimer.singleShot(60_000, close_modal_dialogs)
    dialog = w.models_workspace.ask_model()
    assert dialog is not None and dialog.isVisible()
    click_item(qtbot, dialog.bundled, "digits-standard")
    click_item(qtbot, dialog.bundled, "digits-robust", Qt.KeyboardModifier.ControlModifier)
    assert dialog.load_button.text() == "Load 2 models"
    loaded = []
    w.modelLoaded.connect(loaded.append)
    qtbot.mouseClick(dialog.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(loaded) == 2 and not w.pool.busy(), timeout=LONG)
    assert [c.spec for c in w.columns] == ["digits-standard", "digits-robust"] and all(c.ready for c in w.columns)
    again = w.models_workspace.ask_model()              # the choice is remembered
    assert again.load_button.text() == "Load 2 models"
    again.reject()


def test_a_model_already_loaded_is_selected_not_added_again(qtbot, window):
    w = window
    open_image(qtbot, w, digit_sample())
    loaded = []
    w.modelLoaded.connect(loaded.append)
    w.load_model("digits-standard", {"device": "cpu"})  # the dialog below says auto: the same device here
    qtbot.waitUntil(lambda: len(loaded) == 1 and not w.pool.busy(), timeout=LONG)
    QtCore.QTimer.singleShot(60_000, close_modal_dialogs)
    dialog = w.models_workspace.ask_model()
    click_item(qtbot, dialog.bundled, "digits-standard")
    click_item(qtbot, dialog.bundled, "digits-robust", Qt.KeyboardModifier.ControlModifier)
    w.model_list.setCurrentRow(-1)
    shown = []
    w.statusBar().messageChanged.connect(shown.append)
    qtbot.mouseClick(dialog.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(loaded) == 2 and not w.pool.busy(), timeout=LONG)
    assert [c.spec for c in w.columns] == ["digits-standard", "digits-robust"]      # no second column
    assert any("'digits-standard' is already loaded" in m for m in shown), shown
    # ... and still after digits-robust's load note came (it once replaced the message).
    assert "'digits-standard' is already loaded" in w.statusBar().currentMessage()
    assert w.columns[1].model.info.notes and w.columns[1].model.info.notes[0] in w.statusBar().currentMessage()


def test_a_removed_model_comes_back_with_its_results(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-l2")
    set_field(w.form, "steps", "3")
    run_and_wait(qtbot, w, all_models=True, count=2)
    choose(w.form, "saliency")
    run_and_wait(qtbot, w, all_models=True)
    standard = w.columns[0]
    attack, saliency = standard.results["attack"], w.saliency_result
    assert not w.undo_button.isVisible()

    w.model_list.setCurrentRow(0)
    w.remove_selected_model()
    assert [c.spec for c in w.columns] == ["digits-robust"]
    assert len(w.saliency_result.record["saliency"]["maps"]) == 1
    assert w.undo_button.isVisible() and "digits-standard" in w.act_undo.text()

    qtbot.mouseClick(w.undo_button, Qt.MouseButton.LeftButton)
    assert w.columns[0] is standard and [c.spec for c in w.columns] == ["digits-standard", "digits-robust"]
    assert standard.results["attack"] is attack and w.saliency_result is saliency
    tab = w.workspace("attack")
    assert tab.split.widget(0) is tab.view(standard)                # back in its place, showing its result
    assert tab.view(standard).adversarial.image.image is not None
    assert w.model_list.currentRow() == 0 and w.model_list.item(0).text().startswith("digits-standard")
    assert not w.undo_button.isVisible()

    w.act_redo.trigger()
    assert [c.spec for c in w.columns] == ["digits-robust"]
    open_image(qtbot, w, sample("flower.jpg"))                      # its results belonged to the old image
    assert not w.act_undo.isEnabled() and not w.undo_button.isVisible()


def test_tabs_have_shortcuts_and_view_menu_entries(qtbot, window):
    w = window
    w.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is w, timeout=5000)
    for key, index in ((Qt.Key.Key_2, 1), (Qt.Key.Key_3, 2), (Qt.Key.Key_1, 0)):
        qtbot.keyClick(w, key, Qt.KeyboardModifier.ControlModifier)
        assert w.tabs.currentIndex() == index
        assert w.view.tab_actions[index].isChecked()
    titles = [a.text() for a in w.view_menu.actions()]
    assert titles[titles.index("Attack"):titles.index("Attack") + 3] == ["Attack", "Sweep", "Saliency"]
    w.view.tab_actions[2].trigger()
    assert w.tabs.currentIndex() == 2


def zoom_in(view):
    view.scaleBy((0.4, 0.4))
    return view.viewRange()


def test_double_click_or_ctrl_0_shows_the_whole_image_again(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-l2")
    set_field(w.form, "steps", "3")
    run_and_wait(qtbot, w)
    panel = w.workspace("attack").view(w.columns[0])
    original, adversarial = panel.original.view, panel.adversarial.view
    whole = original.viewRange()
    zoomed = zoom_in(original)
    assert zoomed[0][1] - zoomed[0][0] < 0.6 * (whole[0][1] - whole[0][0])
    assert adversarial.viewRange()[0][1] - adversarial.viewRange()[0][0] < 0.6 * (whole[0][1] - whole[0][0])

    graphics = panel.images
    pos = graphics.viewport().mapTo(w, graphics.mapFromScene(original.sceneBoundingRect().center()))
    # Through the window, as a real mouse: pyqtgraph builds its click events from the scene's.
    QTest.mouseDClick(w.windowHandle(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    for view in (original, adversarial):                           # linked views follow
        assert view.viewRange()[0] == pytest.approx(whole[0], abs=0.05)
        assert view.viewRange()[1] == pytest.approx(whole[1], abs=0.05)

    zoom_in(adversarial)
    w.view.act_reset_zoom.trigger()
    assert original.viewRange()[0] == pytest.approx(whole[0], abs=0.05)


@pytest.fixture
def scheme_restored():
    yield
    from visualizer.gui.color_scheme import apply_scheme

    apply_scheme("system")          # the application palette is global: later tests get the default


def test_colour_scheme_is_remembered_and_plots_follow(qtbot, window, settings, scheme_restored):
    from visualizer.gui.color_scheme import is_dark
    from visualizer.gui.main_window import MainWindow

    w = window
    system = QtWidgets.QApplication.palette().color(QtWidgets.QApplication.palette().ColorRole.Window)
    plot = w.workspace("saliency").saliency_view.maps
    assert not is_dark()
    w.view.scheme_actions["dark"].trigger()
    qtbot.wait(20)
    assert is_dark() and settings.value("view/color_scheme") == "dark"
    assert plot.backgroundBrush().color().lightnessF() < 0.3        # the plots follow the palette
    edit = w.form.fields["steps"].edit                                # styled fields too (style sheets)
    assert edit.palette().color(edit.palette().ColorRole.Base).lightnessF() < 0.3

    again = MainWindow(settings=settings, load_defaults=False)       # remembered
    qtbot.addWidget(again)
    assert again.view.scheme_actions["dark"].isChecked() and is_dark()
    again.view.scheme_actions["light"].trigger()
    qtbot.wait(20)
    assert not is_dark() and plot.backgroundBrush().color().lightnessF() > 0.7
    again.view.scheme_actions["system"].trigger()
    palette = QtWidgets.QApplication.palette()
    assert palette.color(palette.ColorRole.Window) == system and settings.value("view/color_scheme") == "system"


def two_models(qtbot, w, first, second):
    """A digit scan and two bundled models, the first selected."""
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, first)
    add_model(qtbot, w, second)
    w.model_list.setCurrentRow(0)
    return w


def run_all_refused(w):
    """Run on all models; the busy changes it caused (none when refused)."""
    w.last_error = None
    started = []
    w.pool.busyChanged.connect(started.append)
    w.run(all_models=True)
    return started


def test_a_sweep_on_all_models_checks_the_shift_against_every_models_input(qtbot, window):
    """The form checks the max translation against the selected model's input (digits: 32 px);
    a run on all models once started and failed on the smaller one (mnist: 28 px). It now
    refuses the run, before any job starts, with one message naming that model."""
    w = two_models(qtbot, window, "digits-standard", "mnist-standard")
    choose(w.form, "spatial-grid")
    set_field(w.form, "max_translation", "30")
    assert w.form.is_valid()                              # 30 < 32: fine for the selected model
    started = run_all_refused(w)
    assert w.last_error is not None and "mnist-standard" in w.last_error and "28 x 28" in w.last_error
    assert not started and not w.pool.busy()
    assert all("sweep" not in c.results for c in w.columns)


def test_a_run_on_all_models_refuses_a_class_chosen_among_the_selected_models_classes(qtbot, window):
    """The reference and target classes are chosen by name among the selected model's classes
    and passed on as indices: with Fashion-MNIST beside MNIST, the digit '3' would have been
    Fashion's class 3 ('Dress'). One message, nothing started; without a class, both run."""
    w = two_models(qtbot, window, "mnist-standard", "fashion-standard")
    choose(w.form, "fgsm")
    w.form.label_picker.setText("3")
    assert w.form.label() == 3 and w.form.is_valid()
    started = run_all_refused(w)
    assert w.last_error and "'3' is one of mnist-standard's classes" in w.last_error
    assert "fashion-standard has other classes" in w.last_error and not started
    w.form.label_picker.setText("")
    run_and_wait(qtbot, w, all_models=True, count=2)          # each model's own prediction
    assert all("attack" in c.results for c in w.columns)


def test_the_status_bar_names_every_model_of_a_run_on_all_models(qtbot, digits_window):
    """It named only the model that finished last ('Attack on digits-robust: done')."""
    w = digits_window
    choose(w.form, "fgsm")
    run_and_wait(qtbot, w, all_models=True, count=2)
    message = w.statusBar().currentMessage()
    assert "digits-standard: done" in message and "digits-robust: done" in message, message
    assert "still running" not in message
