"""The parameter panel, class picker and dialogs, as real widgets (offscreen)."""

import argparse
import json
from pathlib import Path

import pytest
import torch

from visualizer.core.attacks.params import AttackParams
from visualizer.core.errors import ParameterError, UntrustedCheckpointError
from visualizer.core.labels import imagenet_classes
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.registry import load_model
from visualizer.gui.class_picker import ClassPicker
from visualizer.gui.dialogs import ExportChoice, ExportDialog, ModelDialog, show_error
from visualizer.gui.params_form import ParamsForm
from visualizer.gui.qt import QtCore, QtWidgets

from window_support import retype


def select(combo, key):
    combo.setCurrentIndex(combo.findData(key))


def shown(widget, form):
    return widget.isVisibleTo(form)


# -- ParamsForm ------------------------------------------------------------------------------------
def test_fraction_epsilon_shows_levels(qtbot, form):
    retype(qtbot, form.fields["eps"].edit, "8/255")
    assert "= 8/255" in form.fields["eps"].readout.text()
    assert "0.0314" in form.fields["eps"].readout.text()
    assert form.attack_params().eps == pytest.approx(8 / 255)
    assert form.is_valid()


@pytest.mark.parametrize("text", ["abc", "-1", "0", "2"])
def test_bad_linf_epsilon_is_refused_at_the_field(qtbot, form, text):
    field = form.fields["eps"]
    assert form.is_valid()
    with qtbot.waitSignal(form.validityChanged, timeout=1000) as blocker:
        field.edit.setText(text)   # one change: valid default -> this text
    assert blocker.args == [False]
    retype(qtbot, field.edit, text)   # typed key by key, it ends invalid too
    assert not form.is_valid()
    assert field.edit.property("invalid") is True
    assert shown(field.note, form)
    with pytest.raises(ParameterError) as excinfo:
        form.attack_params()
    assert str(excinfo.value) in field.note.text()
    assert form.errors()["eps"] == str(excinfo.value)


def test_l2_accepts_a_budget_linf_refuses(qtbot, form):
    retype(qtbot, form.fields["eps"].edit, "2")
    assert not form.is_valid()
    with qtbot.waitSignal(form.validityChanged, timeout=1000) as blocker:
        select(form.attack, "pgd-l2")   # each norm keeps its own budget text
    assert blocker.args == [True]
    retype(qtbot, form.fields["eps"].edit, "2")
    assert form.is_valid()
    params = form.attack_params()
    assert (params.norm, params.eps) == ("l2", 2.0)
    assert "/255" not in form.fields["eps"].readout.text()
    select(form.attack, "pgd-linf")   # back: the L-inf text '2' is still there, still refused
    assert form.fields["eps"].text() == "2"
    assert not form.is_valid()


def test_large_step_size_warns_but_stays_valid(qtbot, form):
    retype(qtbot, form.fields["eps"].edit, "4/255")
    retype(qtbot, form.fields["step_size"].edit, "0.1")
    assert form.is_valid()
    assert any("larger than epsilon" in w for w in form.warnings())
    assert shown(form.warning, form) and "larger than epsilon" in form.warning.text()
    assert form.attack_params().step_size == 0.1


def test_zero_steps_invalid_and_step_size_placeholder_follows(qtbot, form):
    retype(qtbot, form.fields["eps"].edit, "8/255")
    retype(qtbot, form.fields["steps"].edit, "20")
    expected = AttackParams(eps=8 / 255, steps=20).resolved().step_size
    assert f"{expected:.3g}" in form.fields["step_size"].edit.placeholderText()
    retype(qtbot, form.fields["steps"].edit, "0")
    assert not form.is_valid()
    assert "at least 1" in form.errors()["steps"]
    retype(qtbot, form.fields["steps"].edit, "2.5")
    assert "whole number" in form.errors()["steps"]


def test_defaults_follow_input_size(form):
    form.set_input_size(224)
    assert form.fields["eps"].text() == "4/255"
    assert "24" in form.fields["max_translation"].edit.placeholderText()
    form.set_input_size(32)
    assert form.fields["eps"].text() == "8/255"
    assert "3" in form.fields["max_translation"].edit.placeholderText()
    assert "24" not in form.fields["max_translation"].edit.placeholderText()
    select(form.attack, "pgd-l2")
    assert form.fields["eps"].text() == "2.0"
    form.set_input_size(224)
    assert form.fields["eps"].text() == "1.0"
    select(form.attack, "spatial-grid")
    assert form.spatial_params().max_translation is None   # the core resolves it per model
    assert form.spatial_params().resolved(224).max_translation == 24


def test_a_translation_beyond_the_models_input_is_marked_on_its_field(qtbot, form):
    """Checked against the selected model's side as typed, and again when another model is chosen."""
    select(form.attack, "spatial-grid")
    form.set_input_size(224)
    retype(qtbot, form.fields["max_translation"].edit, "100")
    assert form.is_valid()                                  # 100 px of 224 is a real shift
    form.set_input_size(28)
    error = form.errors()["max_translation"]
    assert not form.is_valid() and "100 px shifts the whole image out of the model's input (28 x 28 px)" in error
    assert form.fields["max_translation"].note.text() == error
    retype(qtbot, form.fields["max_translation"].edit, "27")
    assert form.is_valid() and form.spatial_params().max_translation == 27


def test_edited_budget_survives_model_change(qtbot, form):
    retype(qtbot, form.fields["eps"].edit, "16/255")
    form.set_input_size(32)
    assert form.fields["eps"].text() == "16/255"


def test_fields_shown_per_choice(qtbot, form):
    select(form.attack, "fgsm")
    assert shown(form.fields["eps"], form) and not shown(form.fields["steps"], form)
    assert form.current_kind() == "attack" and form.attack_params().method == "fgsm"
    select(form.attack, "spatial-random")
    assert form.current_kind() == "sweep"
    assert shown(form.fields["k"], form) and not shown(form.fields["rotations"], form)
    assert not shown(form.fields["eps"], form)
    assert form.spatial_params().mode == "random"
    select(form.attack, "saliency")
    assert form.current_kind() == "saliency" and shown(form.method, form)
    select(form.method, "ig")
    assert shown(form.fields["ig_steps"], form) and not shown(form.fields["sg_samples"], form)
    retype(qtbot, form.fields["ig_steps"].edit, "0")
    assert not form.is_valid()
    retype(qtbot, form.fields["ig_steps"].edit, "16")
    assert form.saliency_params().method == "ig" and form.saliency_params().ig_steps == 16


def test_every_field_has_a_tooltip(form):
    widgets = list(form.fields.values()) + [form.attack, form.method, form.random_start, form.early_stop,
                                            form.absolute, form.seed, form.targeted, form.target_picker,
                                            form.label_picker]
    assert all(w.toolTip() for w in widgets)


def test_targeted_needs_a_target(qtbot, form):
    form.set_class_names(imagenet_classes())
    form.targeted.setChecked(True)
    assert not form.is_valid() and "target" in form.errors()
    retype(qtbot, form.target_picker.edit, "goldfish")
    assert form.is_valid()
    assert form.target() == 1 and form.attack_params().targeted
    assert form.label() is None
    form.targeted.setChecked(False)
    assert form.target() is None


def test_state_round_trip(qtbot, form):
    form.set_class_names(imagenet_classes())
    retype(qtbot, form.fields["eps"].edit, "6/255")
    retype(qtbot, form.fields["steps"].edit, "25")
    form.random_start.setChecked(True)
    form.seed.setValue(7)
    form.targeted.setChecked(True)
    form.target_picker.set_index(207)
    form.label_picker.set_index(1)
    select(form.attack, "pgd-l2")
    retype(qtbot, form.fields["eps"].edit, "0.5")
    select(form.attack, "spatial-random")
    retype(qtbot, form.fields["k"].edit, "33")
    state = json.loads(json.dumps(form.state()))

    other = ParamsForm()
    qtbot.addWidget(other)
    other.set_class_names(imagenet_classes())
    other.restore_state(state)
    assert other.state() == state
    assert other.current_kind() == "sweep"
    assert other.spatial_params() == form.spatial_params()
    assert other.attack_params() == form.attack_params()
    assert other.attack_params().eps == 0.5 and other.attack_params().norm == "l2"
    assert (other.target(), other.label()) == (207, 1)
    select(other.attack, "pgd-linf")
    assert other.attack_params().eps == pytest.approx(6 / 255)


def test_restore_state_ignores_junk(form):
    form.restore_state({"run": "nope", "fields": {"steps": 5, "bogus": "1"}, "eps": "x", "target": "a"})
    form.restore_state("not a dict")
    assert form.is_valid() and form.current_kind() == "attack"


# -- ClassPicker ----------------------------------------------------------------------------------------
@pytest.fixture
def picker(qtbot):
    p = ClassPicker()
    qtbot.addWidget(p)
    p.set_class_names(imagenet_classes())
    return p


def test_picker_resolves_names_and_indices(qtbot, picker):
    with qtbot.waitSignal(picker.indexChanged, timeout=1000):
        retype(qtbot, picker.edit, "goldfish")
    assert picker.selected_index() == 1 and picker.is_valid()
    retype(qtbot, picker.edit, "207")
    assert picker.selected_index() == 207
    retype(qtbot, picker.edit, "1")
    assert picker.selected_index() == 1
    picker.edit.editingFinished.emit()   # the user leaves the field: text shows what it resolved to
    assert picker.text() == "1: goldfish"
    picker.set_index(11)
    assert picker.text() == "11: goldfinch" and picker.selected_index() == 11


def test_picker_ambiguous_and_unknown(qtbot, picker):
    retype(qtbot, picker.edit, "cardigan")
    assert picker.selected_index() is None and not picker.is_valid()
    assert "ambiguous" in picker.error() and "264" in picker.error() and "474" in picker.error()
    assert shown(picker.message, picker) and picker.message.text() == picker.error()
    retype(qtbot, picker.edit, "gold")
    assert "goldfish" in picker.error()   # the core's "Similar: ..." hint
    retype(qtbot, picker.edit, "5000")
    assert "out of range" in picker.error()


def test_picker_completer_offers_contains_matches(picker):
    completer = picker.completer
    completer.setCompletionPrefix("GOLD")
    model = completer.completionModel()
    offered = [model.index(i, 0).data() for i in range(model.rowCount())]
    assert {"1: goldfish", "11: goldfinch", "207: golden retriever"} <= set(offered)
    assert "72: black and gold garden spider" in offered   # contains, not only starts-with


# -- ModelDialog ----------------------------------------------------------------------------------------
@pytest.fixture
def model_dialog(qtbot):
    d = ModelDialog()
    qtbot.addWidget(d)
    return d


def checkpoint_page(dialog, path, arch=""):
    select(dialog.source, "checkpoint")
    page = dialog.files["checkpoint"]
    page.path.setText(str(path))
    page.arch.setText(arch)
    return page


@pytest.fixture
def weights_file(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"w": torch.zeros(2)}, path)
    return path


def test_checkpoint_without_arch_is_refused(model_dialog, weights_file):
    checkpoint_page(model_dialog, weights_file)
    model_dialog.accept()
    assert model_dialog.result() != QtWidgets.QDialog.DialogCode.Accepted
    assert shown(model_dialog.message, model_dialog)
    assert "architecture" in model_dialog.message.text()


def test_checkpoint_spec(model_dialog, weights_file):
    page = checkpoint_page(model_dialog, weights_file, "preact-resnet18")
    assert not page.trust.isChecked()
    assert model_dialog.result_spec() == (f"ckpt:{weights_file}", LoadOptions(arch="preact-resnet18", trust=False))
    model_dialog.accept()
    assert model_dialog.result() == QtWidgets.QDialog.DialogCode.Accepted


def test_checkpoint_options_are_checked(model_dialog, weights_file, tmp_path):
    page = checkpoint_page(model_dialog, weights_file, "wrn-28-10")
    page.mean.setText("0.5,0.5")
    model_dialog.accept()
    assert model_dialog.result() != QtWidgets.QDialog.DialogCode.Accepted
    assert "1 or 3" in model_dialog.message.text()
    page.mean.setText("0.5")
    page.std.setText("0")
    with pytest.raises(ParameterError, match="positive"):
        model_dialog.result_spec()
    page.std.setText("0.25")
    page.num_classes.setText("10")
    page.trust.setChecked(True)
    spec, options = model_dialog.result_spec()
    assert (options.mean, options.std, options.num_classes, options.trust) == ((0.5,), (0.25,), 10, True)
    page.path.setText(str(tmp_path / "missing.pt"))   # another file: trust is per file
    assert not page.trust.isChecked()
    with pytest.raises(Exception, match="does not exist"):
        model_dialog.result_spec()
    page.path.setText(str(weights_file))
    page.arch.setText("not-a-network")
    with pytest.raises(ParameterError, match="Unknown architecture"):
        model_dialog.result_spec()


def test_bundled_and_torchvision_specs(model_dialog):
    assert model_dialog.result_spec() == ("lite0-imagenet", LoadOptions())
    select(model_dialog.source, "torchvision")
    model_dialog.hub_names["torchvision"].setText("ResNet18")
    assert model_dialog.result_spec()[0] == "torchvision:resnet18"
    model_dialog.hub_names["torchvision"].setText("resnet")
    with pytest.raises(ParameterError, match="Did you mean"):
        model_dialog.result_spec()


def test_model_dialog_state_round_trip(qtbot, model_dialog, weights_file):
    page = checkpoint_page(model_dialog, weights_file, "wrn-28-10")
    page.input_size.setText("32")
    page.trust.setChecked(True)
    state = json.loads(json.dumps(model_dialog.state()))
    other = ModelDialog()
    qtbot.addWidget(other)
    other.restore_state(state)
    assert other.current_source() == "checkpoint"
    spec, options = other.result_spec()
    assert spec == f"ckpt:{weights_file}" and options.input_size == 32 and options.arch == "wrn-28-10"
    assert options.trust is False   # trust is never remembered


def test_explain_untrusted_checkpoint(tmp_path):
    path = tmp_path / "namespace.pt"
    torch.save({"args": argparse.Namespace(lr=0.1), "state_dict": {}}, path)
    with pytest.raises(UntrustedCheckpointError) as excinfo:
        load_model(f"ckpt:{path}", LoadOptions(arch="preact-resnet18", device="cpu"))
    text = ModelDialog.explain_error(excinfo.value)
    assert "Trust this file" in text
    assert str(excinfo.value) in text   # the full message follows the short one


# -- ExportDialog -------------------------------------------------------------------------------------------
def test_export_choice_round_trip(qtbot, tmp_path):
    choice = ExportChoice(folder=str(tmp_path / "out"), png=True, dpi=600, svg=True, pdf=False,
                          current_view=False, figure=True, raw=True)
    dialog = ExportDialog(choice=choice)
    qtbot.addWidget(dialog)
    assert dialog.choice() == choice
    assert ExportChoice.from_dict(json.loads(json.dumps(choice.to_dict()))) == choice
    assert ExportChoice.from_dict({"dpi": "high", "junk": 1}) == ExportChoice()
    dialog.dpi.setValue(5000)
    assert dialog.choice().dpi == 1200
    dialog.accept()   # the folder does not exist yet: nothing to ask
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
    assert dialog.choice().overwrite is False


def test_export_refuses_nothing_to_export(qtbot, tmp_path):
    dialog = ExportDialog(choice=ExportChoice(folder=str(tmp_path), png=False))
    qtbot.addWidget(dialog)
    dialog.accept()
    assert dialog.result() != QtWidgets.QDialog.DialogCode.Accepted
    assert "format" in dialog.message.text()


def test_export_asks_before_overwriting(qtbot, tmp_path):
    (tmp_path / "figure.png").write_bytes(b"x")                     # an earlier export: its record lists it
    (tmp_path / "result.json").write_text(json.dumps({"files": {"figure_png": "figure.png"}}))
    asked = []
    dialog = ExportDialog(choice=ExportChoice(folder=str(tmp_path)),
                          confirm_overwrite=lambda folder, names: asked.append(names) or False)
    qtbot.addWidget(dialog)
    dialog.accept()
    assert asked == [["figure.png", "result.json"]]
    assert dialog.result() != QtWidgets.QDialog.DialogCode.Accepted

    dialog._confirm = lambda folder, names: True
    dialog.accept()
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted
    assert dialog.choice().overwrite is True


def test_export_never_offers_to_replace_a_folder_of_other_files(qtbot, tmp_path):
    """Answering Yes used to replace the whole folder: the user's own files in it were deleted."""
    (tmp_path / "thesis.tex").write_text("mine")
    asked = []
    dialog = ExportDialog(choice=ExportChoice(folder=str(tmp_path)), confirm_overwrite=lambda f, n: asked.append(n))
    qtbot.addWidget(dialog)
    dialog.accept()
    assert asked == [] and dialog.result() != QtWidgets.QDialog.DialogCode.Accepted
    assert "thesis.tex, which no earlier run of this tool wrote" in dialog.message.text()
    assert (tmp_path / "thesis.tex").read_text() == "mine"


def test_export_overwrite_prompt_is_a_real_question(qtbot, tmp_path):
    (tmp_path / "result.json").write_text("{}")
    dialog = ExportDialog(choice=ExportChoice(folder=str(tmp_path)))
    qtbot.addWidget(dialog)
    seen = []

    def answer_no():
        box = dialog.findChild(QtWidgets.QMessageBox, "overwrite_prompt")
        if box is None or not box.isVisible():
            QtCore.QTimer.singleShot(20, answer_no)
            return
        seen.append(box.text())
        box.button(QtWidgets.QMessageBox.StandardButton.No).click()

    QtCore.QTimer.singleShot(0, answer_no)
    dialog.accept()   # blocks in the question box until answer_no clicks No
    assert seen and "result.json" in seen[0] and str(tmp_path) in seen[0] and "replaced as a whole" in seen[0]
    assert dialog.result() != QtWidgets.QDialog.DialogCode.Accepted


# -- ErrorDialog ----------------------------------------------------------------------------------------------
def test_show_error_is_non_blocking_with_details(qtbot):
    parent = QtWidgets.QWidget()
    qtbot.addWidget(parent)
    box = show_error(parent, "Attack failed", "Epsilon must be positive.", "Traceback (most recent call last):\n...")
    assert box.isVisible()   # open(), not exec(): we got here
    assert box.windowTitle() == "Attack failed"
    assert box.text() == "Epsilon must be positive."
    assert "Traceback" in box.detailedText()
    box.close()


def test_previews_render(qtbot, form, model_dialog, tmp_path):
    for widget, name in ((form, "params.png"), (model_dialog, "model.png")):
        widget.show()
        assert widget.grab().save(str(tmp_path / name))
        assert Path(tmp_path / name).stat().st_size > 1000
