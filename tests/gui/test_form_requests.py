"""The window's fields take the CLI's number grammar, their read-outs parse back, and
contradictory requests disable Run with the reason shown (real widgets, offscreen; the
window tests use the bundled digits models, which classify the bundled scan of a 3 as 3)."""

import pytest

from visualizer.core.numbers import parse_number
from visualizer.gui.dialogs import ModelDialog

from window_support import choose, retype, set_field


def parts(text: str, prefix: str = "") -> list[float]:
    """Every '='-separated part of a read-out, parsed by the fields' own grammar."""
    text = text.removeprefix(prefix)
    return [parse_number(p) for p in text.split("=") if p.strip()]


@pytest.mark.parametrize("typed,value", [("0.5/255", 0.5 / 255), ("8 / 255", 8 / 255), ("1e-3/2", 5e-4),
                                         (" 0.03 ", 0.03)])
def test_epsilon_typed_as_papers_write_it(qtbot, form, typed, value):
    retype(qtbot, form.fields["eps"].edit, typed)
    assert form.is_valid(), form.errors()
    assert form.attack_params().eps == pytest.approx(value, rel=1e-12)
    shown = parts(form.fields["eps"].readout.text())
    assert len(shown) == 2 and all(v == pytest.approx(value, rel=5e-3) for v in shown)


@pytest.mark.parametrize("typed", ["0.5/255", "1e-5", "8/255", "0.3", "1"])
def test_the_read_out_types_back_in(qtbot, form, typed):
    retype(qtbot, form.fields["eps"].edit, typed)
    readout = form.fields["eps"].readout.text()
    for part in readout.split("=")[1:]:          # paste what the read-out shows: the same budget
        retype(qtbot, form.fields["eps"].edit, part)
        assert form.is_valid(), (readout, form.errors())
        assert form.attack_params().eps == pytest.approx(parse_number(typed), rel=5e-3)
    hint = form.fields["step_size"].edit.placeholderText()
    assert len(parts(hint, "default")) == 2


def test_other_fields_share_the_grammar(qtbot, form):
    retype(qtbot, form.fields["step_size"].edit, "0.5 / 255")
    retype(qtbot, form.fields["steps"].edit, "1e2")
    assert form.is_valid(), form.errors()
    assert (form.attack_params().step_size, form.attack_params().steps) == (0.5 / 255, 100)
    choose(form, "spatial-grid")
    retype(qtbot, form.fields["max_rotation"].edit, "45 / 2")
    retype(qtbot, form.fields["max_translation"].edit, "3/2")
    assert form.is_valid(), form.errors()
    assert (form.spatial_params().max_rotation, form.spatial_params().max_translation) == (22.5, 1.5)
    choose(form, "saliency")
    form.method.setCurrentIndex(form.method.findData("smoothgrad"))
    retype(qtbot, form.fields["sg_sigma"].edit, "38/255")
    assert form.saliency_params().smoothgrad_sigma == 38 / 255
    retype(qtbot, form.fields["sg_sigma"].edit, "8//255")
    assert not form.is_valid() and "must be a number such as" in form.errors()["sg_sigma"]


def test_model_dialog_takes_fractions_for_mean_and_std(qtbot, tmp_path):
    import torch

    weights = tmp_path / "w.pt"
    torch.save({"w": torch.zeros(2)}, weights)
    dialog = ModelDialog()
    qtbot.addWidget(dialog)
    dialog.source.setCurrentIndex(dialog.source.findData("checkpoint"))
    page = dialog.files["checkpoint"]
    page.path.setText(str(weights))
    page.arch.setText("wrn-28-10")
    page.mean.setText("124/255, 116/255, 104/255")
    page.std.setText("0.25; 1/4 ;2.5e-1")
    page.input_size.setText("64/2")
    _, options = dialog.result_spec()
    assert options.mean == (124 / 255, 116 / 255, 104 / 255) and options.std == (0.25,) * 3
    assert options.input_size == 32


def test_restarts_need_a_random_start(qtbot, form):
    retype(qtbot, form.fields["restarts"].edit, "3")
    assert not form.is_valid()
    assert "without a random start" in form.problem.text() and form.problem.isVisibleTo(form)
    assert form.fields["restarts"].note.text() == ""       # the field itself is fine: the pair is not
    form.random_start.setChecked(True)
    assert form.is_valid() and form.attack_params().restarts == 3


def test_a_sweep_of_nothing_is_refused(qtbot, form):
    choose(form, "spatial-grid")
    retype(qtbot, form.fields["max_rotation"].edit, "0")
    assert not form.is_valid() and "all 31 rotations" in form.problem.text()
    retype(qtbot, form.fields["rotations"].edit, "1")
    assert form.is_valid()


def test_target_equal_to_the_reference_or_the_prediction(qtbot, form):
    form.set_class_names([str(i) for i in range(10)])
    form.targeted.setChecked(True)
    form.target_picker.setText("5")
    assert form.is_valid()
    form.label_picker.setText("5")
    assert not form.is_valid() and "reference class you chose" in form.problem.text()
    form.label_picker.setText("")
    form.set_prediction(5)
    assert not form.is_valid() and "clean prediction" in form.problem.text()
    assert form.target_picker.edit.property("invalid") is True          # the red border on the picker
    form.target_picker.setText("8")
    assert form.is_valid() and not form.problem.isVisibleTo(form)
    assert not form.target_picker.edit.property("invalid")
    form.targeted.setChecked(False)
    form.label_picker.setText("3")                 # untargeted, already misclassified: a warning only
    assert form.is_valid() and "already misclassifies" in form.warning.text()


def test_window_disables_run_for_a_target_the_model_already_predicts(qtbot, digits_window):
    w = digits_window
    qtbot.waitUntil(lambda: w.form.prediction() is not None, timeout=60_000)   # the clean preview ran
    predicted = w.form.prediction()          # 0: the fixture's scan is a 0, and the model says so
    choose(w.form, "pgd-linf")
    w.form.targeted.setChecked(True)
    w.form.target_picker.setText(str(predicted))
    assert not w.run_button.isEnabled() and not w.run_all_button.isEnabled()
    assert f"The target {predicted} is the model's clean prediction" in w.form.problem.text()
    assert w.form.problem.isVisibleTo(w)
    w.form.target_picker.setText(str((predicted + 1) % 10))
    assert w.run_button.isEnabled()
    set_field(w.form, "eps", "0.5/255")            # the budget, typed as the paper writes it
    assert w.run_button.isEnabled() and "0.5/255" in w.form.fields["eps"].readout.text()
