"""The window's side of trustworthy saliency: the IG steps field defaults to the adaptive rule,
and the saliency view shows a NaN gradient as "no gradient (NaN)" (never as a map), a zero
gradient as such, IG's completeness gap in the titles and the run's warnings. Real models:
a TorchScript module whose input gradient is NaN, and the bundled digits model."""

import numpy as np
import pytest
import torch
from torch import nn

from support import digit_sample
from visualizer.core.artifacts import saliency_artifacts, saliency_maps
from visualizer.core.attacks import drive
from visualizer.core.images import load_image
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.saliency import SaliencyParams, compare_saliency
from visualizer.gui.panels import SaliencyView
from visualizer.gui.params_form import ParamsForm
from visualizer.gui.qt import QtWidgets


class NanGradient(nn.Module):
    """Finite outputs, NaN input gradient below mid-grey (torch.where over sqrt(x - 0.5))."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        safe = torch.where(x > 0.5, torch.sqrt(x - 0.5), torch.zeros_like(x))
        return self.fc(safe.mean(dim=(2, 3)))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "nan.pt"
    torch.manual_seed(0)
    torch.jit.script(NanGradient()).save(str(path))
    return [load_model(f"torchscript:{path}", LoadOptions(input_size=32, device="cpu")),
            load_model("digits-standard", LoadOptions(device="cpu"))]


def run(models, params):
    """(record, image H x W x 3, maps) as the window shows them after a run."""
    image = load_image(digit_sample())
    art = saliency_artifacts(drive(compare_saliency(models, image, params)), models, image)
    return art.record, art.arrays["image"].transpose(1, 2, 0), saliency_maps(art.record, art.arrays)


def shown_view(qtbot):
    view = SaliencyView()
    qtbot.addWidget(view)
    view.resize(900, 400)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_ig_steps_field_is_adaptive_unless_a_number_is_typed(qtbot):
    form = ParamsForm()
    qtbot.addWidget(form)
    form.attack.setCurrentIndex(form.attack.findData("saliency"))
    form.method.setCurrentIndex(form.method.findData("ig"))
    field = form.fields["ig_steps"]
    assert field.text() == "" and field.edit.placeholderText() == "adaptive"
    assert form.is_valid() and form.saliency_params().ig_steps is None
    assert "completeness" in field.toolTip()
    qtbot.keyClicks(field.edit, "128")
    assert form.saliency_params().ig_steps == 128
    # A window that remembered the old fixed default (64) now gets the adaptive rule;
    # another remembered number stays.
    state = form.state()
    other = ParamsForm()
    qtbot.addWidget(other)
    other.restore_state({**state, "fields": {**state["fields"], "ig_steps": "64"}})
    assert other.saliency_params().ig_steps is None
    other.restore_state({**state, "fields": {**state["fields"], "ig_steps": "200"}})
    assert other.saliency_params().ig_steps == 200


def test_view_never_draws_a_nan_gradient_and_lists_the_warning(qtbot, models):
    record, image, maps = run(models, SaliencyParams(method="vanilla"))
    broken, good = record["saliency"]["maps"]
    assert broken["gradient"] == "nan" and good["gradient"] == "ok"
    assert np.isfinite(maps[0]).any() and np.isnan(maps[0]).any()       # partly NaN: bright pixels are finite
    view = shown_view(qtbot)
    view.show_result(record, image, maps)
    QtWidgets.QApplication.processEvents()

    nan_item, good_item = view.map_items()
    assert np.isnan(nan_item.image).all()                               # not even its finite part is drawn
    np.testing.assert_array_equal(good_item.image, maps[1].astype(np.float32))
    nan_state, good_state = view._states
    assert nan_state.isVisible() and nan_state.textItem.toPlainText().startswith("no gradient (NaN)")
    assert not good_state.isVisible()
    note = view.note_label.text()
    (warning,) = record["warnings"]
    assert "NaN or infinite" in warning and "\u26a0 " + warning in note
    assert "outside that model's input crop" not in note                # the grey is the NaN panel's
    view.own_scale_box.setChecked(True)                                 # redrawn on its own scale: still not drawn
    assert np.isnan(view.map_items()[0].image).all() and nan_state.isVisible()

    view.clear()
    assert not any(s.isVisible() for s in view._states)


def test_view_titles_carry_the_completeness_gap(qtbot, models):
    record, image, maps = run(models, SaliencyParams(method="ig", ig_steps=4))
    good = record["saliency"]["maps"][1]
    c = good["completeness"]
    view = shown_view(qtbot)
    view.show_result(record, image, maps)
    titles = [p.title.full_text() for p in view._panels[1:]]
    assert titles[1] == f"{good['model']} \u2014 {good['label']} \u00b7 gap {100 * c['gap']:.1f}% ({c['steps']} steps)"
    assert "gap" not in titles[0]                                       # a NaN map has no gap to speak of
    assert "completeness" in view.note_label.text()
