"""Every tab's run button is disabled while its settings are invalid, with the message under
the settings, and enabled again once they are fixed: the Attack, Sweep and Saliency form,
Evaluate, Black box's query attack and steal, Train and Poison (Poison's Run sweep stayed
enabled and refused only after a click; a target class the data does not have failed only
in the worker). Class and top-k fields are checked against the loaded model's, or the
data's, classes as they are typed. Real window offscreen, real bundled MNIST model, real
MNIST folder."""

from pathlib import Path

import pytest
from PIL import Image
from support import shared_data
from window_support import LONG, add_model, choose, open_image, set_field

ROOT = Path(__file__).resolve().parents[2]
DIGIT = ROOT / "resources" / "samples" / "mnist" / "7_idx0.png"
MNIST = shared_data("mnist")


@pytest.fixture
def mnist_window(qtbot, window, tmp_path):
    open_image(qtbot, window, DIGIT)
    add_model(qtbot, window, "mnist-standard")
    window.model_list.setCurrentRow(0)
    return window


def blocked(setup, button, words: str) -> bool:
    """The button is disabled and the settings' problem says ``words``."""
    return not button.isEnabled() and setup.problem() is not None and words in setup.problem()


@pytest.mark.parametrize("key, field, bad, good, method", [
    ("pgd-linf", "eps", "abc", "0.1", None),
    ("spatial-grid", "rotations", "0.5", "31", None),
    ("saliency", "sg_samples", "-3", "50", "smoothgrad"),
])
def test_the_form_tabs_run_follows_the_form(qtbot, mnist_window, key, field, bad, good, method):
    w = mnist_window
    choose(w.form, key)
    if method:
        w.form.method.setCurrentIndex(w.form.method.findData(method))
    assert w.run_button.isEnabled()
    set_field(w.form, field, bad)
    assert not w.run_button.isEnabled() and field in w.form.errors()
    set_field(w.form, field, good)
    assert w.run_button.isEnabled()


def test_attack_target_and_reference_outside_the_models_classes_disable_run(qtbot, mnist_window):
    w = mnist_window
    choose(w.form, "pgd-linf")
    w.form.targeted.setChecked(True)
    w.form.target_picker.setText("12")
    assert not w.run_button.isEnabled() and "out of range" in w.form.errors()["target"]
    w.form.target_picker.setText("3")
    assert w.run_button.isEnabled()
    w.form.label_picker.setText("10")
    assert not w.run_button.isEnabled() and "out of range" in w.form.errors()["label"]


def test_train_is_disabled_while_its_settings_are_invalid(qtbot, window, tmp_path):
    ws = window.workspace("train")
    window.tabs.setCurrentWidget(ws.page)
    f = ws.form
    f.data_path.setText(str(MNIST))
    f.runs_folder.setText(str(tmp_path / "runs"))
    assert f.problem() is None and ws.train_button.isEnabled() and ws.can_run()
    for edit, bad, good, words in ((f.eps, "abc", "0.2", "Epsilon"), (f.lr, "-1", "0.003", "learning rate"),
                                   (f.runs_folder, "", str(tmp_path / "runs"), "runs folder"),
                                   (f.data_path, str(tmp_path / "nowhere"), str(MNIST), "nowhere")):
        edit.setText(bad)
        assert blocked(f, ws.train_button, words) and not ws.can_run(), (bad, f.problem())
        assert not f.message.isHidden() and f.message.text() == f.problem()
        edit.setText(good)
        assert f.problem() is None and ws.train_button.isEnabled()
    f.arch.setCurrentText("no-such-net")
    assert blocked(f, ws.train_button, "no-such-net")
    f.arch.setCurrentText("mnist-cnn")
    assert ws.train_button.isEnabled()
    assert not (tmp_path / "runs").exists()          # checking as you type makes no folder


def poison(window, tmp_path):
    ws = window.workspace("train")
    window.tabs.setCurrentWidget(ws.page)
    ws.sections.setCurrentWidget(ws.poison.page)
    panel = ws.poison
    s = panel.setup
    s.data_kind.setCurrentIndex(s.data_kind.findData("mnist"))
    s.data_path.setText(str(MNIST))
    s.runs_folder.setText(str(tmp_path / "runs"))
    s.target.setText("0")
    assert s.problem() is None and panel.run_button.isEnabled()
    return ws, panel


def test_poison_run_is_disabled_while_its_settings_are_invalid(qtbot, window, tmp_path):
    ws, panel = poison(window, tmp_path)
    s = panel.setup
    # a target class the data does not have: refused as it is typed, the field marked
    for bad, words in (("12", "Target class: Class index 12 is out of range: the data has 10 classes (0-9)."),
                       ("10", "the data has 10 classes"), ("sevn", "No class named 'sevn' in the data's 10 classes"),
                       ("", "choose the class the trigger should produce")):
        s.target.setText(bad)
        assert blocked(s, panel.run_button, words) and not ws.can_run(), s.problem()
        assert s.target.property("invalid") and s.message.text() == s.problem() and not s.message.isHidden()
    s.target.setText("9")
    assert panel.run_button.isEnabled() and not s.target.property("invalid") and s.message.isHidden()
    s.data_kind.setCurrentIndex(s.data_kind.findData("fashion-mnist"))
    s.data_path.setText(str(MNIST.parent / "fashion-mnist"))
    s.target.setText("sneaker")       # a class name of the data is a target too
    assert panel.run_button.isEnabled(), s.problem()
    s.target.setText("7")
    # rates and trigger keep their message beside the field, not a second copy under the form
    s.rates.setText("0,2")
    assert blocked(s, panel.run_button, "[0, 1)") and not s.rates_error.isHidden() and s.message.isHidden()
    s.rates.setText("0,0.05")
    s.trigger.setText("patch:stripes:4")
    assert blocked(s, panel.run_button, "stripes") and not s.trigger_error.isHidden() and s.message.isHidden()
    s.trigger.setText("patch:checker:4:br")
    for edit, bad, good, words in ((s.lr, "0", "0.001", "learning rate"), (s.runs_folder, "", str(tmp_path), "runs"),
                                   (s.data_path, str(tmp_path / "nowhere"), str(MNIST), "nowhere")):
        edit.setText(bad)
        assert blocked(s, panel.run_button, words), s.problem()
        edit.setText(good)
        assert panel.run_button.isEnabled(), s.problem()
    # started all the same (as Ctrl+R would, were it not disabled too): refused, nothing runs
    s.target.setText("12")
    assert not panel.start() and not panel.running() and "out of range" in window.last_error


def test_poison_target_follows_a_folders_own_classes(qtbot, window, tmp_path):
    ws, panel = poison(window, tmp_path)
    s = panel.setup
    data = tmp_path / "data"
    for name in ("cat", "dog", "fox"):
        (data / name).mkdir(parents=True)
        Image.new("L", (28, 28), 0).save(data / name / "0.png")
    s.data_kind.setCurrentIndex(s.data_kind.findData("folder"))
    s.data_path.setText(str(data))
    s.data_path.editingFinished.emit()
    s.target.setText("3")
    assert blocked(s, panel.run_button, "the data has 3 classes (0-2)")
    s.target.setText("fox")
    assert panel.run_button.isEnabled(), s.problem()


def test_black_box_oracle_topk_follows_the_selected_models_classes(qtbot, mnist_window, tmp_path):
    w = mnist_window
    ws = w.workspace("blackbox")
    w.tabs.setCurrentWidget(ws.page)
    ws.setup.oracle.setText("topk:11")
    assert blocked(ws.setup, ws.attack_button, "Oracle topk:11: mnist-standard has only 10 classes")
    assert not ws.setup.message.isHidden()
    ws.setup.oracle.setText("topk:10")
    assert ws.attack_button.isEnabled()

    steal = ws.steal
    steal.setup.oracle.setText("topk:11")
    assert blocked(steal.setup, steal.steal_button, "Oracle topk:11: mnist-standard has only 10 classes")
    steal.setup.oracle.setText("topk:3")
    steal.setup.folder.setText(str(tmp_path))
    assert steal.setup.problem() is None and steal.steal_button.isEnabled(), steal.setup.problem()


def test_evaluate_apgd_t_targets_follow_the_ticked_models_classes(qtbot, mnist_window):
    w = mnist_window
    tab = w.workspace("evaluate")
    w.tabs.setCurrentWidget(tab.page)
    tab.setup.data_edit.setText(f"mnist:{MNIST}")
    tab.setup.threats_edit.setText("clean apgd-t:linf:0.3:5:10")
    assert blocked(tab.setup, tab.evaluate_button, "10 target classes, but mnist-standard has 10 classes")
    assert not tab.setup.message.isHidden()
    tab.setup.threats_edit.setText("clean apgd-t:linf:0.3:5:9")
    assert tab.setup.problem() is None and tab.evaluate_button.isEnabled()


def test_black_box_run_on_all_checks_every_models_classes_before_any_query(qtbot, mnist_window):
    w = mnist_window
    add_model(qtbot, w, "lite0-imagenet")           # 1000 classes beside mnist-standard's 10
    w.model_list.setCurrentRow(1)
    ws = w.workspace("blackbox")
    w.tabs.setCurrentWidget(ws.page)
    ws.setup.oracle.setText("topk:11")
    assert ws.setup.problem() is None and ws.attack_button.isEnabled()     # the selected model has 11 classes
    w.last_error = None
    w.run(all_models=True)
    assert "Oracle topk:11: mnist-standard has only 10 classes" in w.last_error
    assert not ws.running() and not w.pool.busy() and not ws.live.curves    # refused before any query


def test_train_and_poison_pages_run_without_any_model(qtbot, window, tmp_path):
    """Both pages train their own models: Run and Run on all are offered with no model loaded
    (they were disabled until some model had loaded), and Run reaches the page shown."""
    assert not window.columns
    assert not window.run_button.isEnabled()             # the Attack tab needs a model (and an image)
    ws, panel = poison(window, tmp_path)
    assert window.run_button.isEnabled() and window.run_all_button.isEnabled() and window.act_run.isEnabled()
    panel.setup.target.setText("12")
    window.last_error = None
    window.run()                                         # as Ctrl+R would: the page's own refusal, not "No model"
    assert "out of range" in window.last_error and not panel.running()
    ws.sections.setCurrentIndex(0)                       # the Adversarial training page
    ws.form.data_path.setText(str(MNIST))
    ws.form.runs_folder.setText(str(tmp_path / "runs"))
    assert window.run_button.isEnabled(), ws.form.problem()
    window.last_error = None
    window.run()
    assert window.last_error is None and ws.training()
    window.cancel()
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=LONG)
    window.tabs.setCurrentIndex(0)
    assert not window.run_button.isEnabled()
