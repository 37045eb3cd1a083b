"""The model dialog's architecture fields as real widgets: py:FILE.py:NAME (never run by the
dialog, refused without trust), constructor arguments as JSON, the channel count; and a
model that is not deterministic opening the window's model-warning dialog."""

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from visualizer.core.errors import ModelLoadError, ParameterError, UntrustedCodeError
from visualizer.core.models.options import LoadOptions
from visualizer.core.models.registry import load_model
from visualizer.gui.dialogs import ModelDialog
from visualizer.gui.dialogs.arch_fields import set_py_file
from visualizer.gui.qt import QtWidgets
from window_support import add_model


@pytest.fixture
def dialog(qtbot):
    d = ModelDialog()
    qtbot.addWidget(d)
    return d


@pytest.fixture
def files(tmp_path):
    weights = tmp_path / "weights.pt"
    torch.save({"w": torch.zeros(2)}, weights)
    source = tmp_path / "net.py"
    source.write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\nfrom torch import nn\nNet = nn.Linear\n")
    return weights, source


def page_for(dialog, weights, arch):
    dialog.source.setCurrentIndex(dialog.source.findData("checkpoint"))
    page = dialog.files["checkpoint"]
    page.path.setText(str(weights))
    page.arch.setText(arch)
    return page


def test_py_architecture_needs_trust_and_is_not_run_by_the_dialog(dialog, files, tmp_path):
    weights, source = files
    page = page_for(dialog, weights, f"py:{source}:Net")
    dialog.accept()
    assert dialog.result() != QtWidgets.QDialog.DialogCode.Accepted
    assert "was NOT run" in dialog.message.text() and "Trust this file" in dialog.message.text()
    page.trust.setChecked(True)
    page.arch_kwargs.setText('{"in_features": 4, "out_features": 3}')
    spec, options = dialog.result_spec()
    assert spec == f"ckpt:{weights}"
    assert (options.arch, options.arch_kwargs, options.trust) == (f"py:{source}:Net",
                                                                  {"in_features": 4, "out_features": 3}, True)
    assert not (tmp_path / "ran").exists()       # the file runs when the model loads, in the worker
    other = tmp_path / "other.py"
    other.write_text("Net = None\n")
    set_py_file(page.arch, str(other))           # the "Python file…" button: NAME kept, trust is per file
    assert page.arch.text() == f"py:{other}:Net" and not page.trust.isChecked()


def test_bad_arch_fields_are_refused_with_the_reason(dialog, files, tmp_path):
    weights, source = files
    page = page_for(dialog, weights, f"py:{tmp_path / 'missing.py'}:Net")
    page.trust.setChecked(True)
    with pytest.raises(ModelLoadError, match="does not exist"):
        dialog.result_spec()
    page.arch.setText(f"py:{source}")
    with pytest.raises(ParameterError, match="py:PATH.py:NAME"):
        dialog.result_spec()
    page.arch.setText("wrn-28-10")
    page.arch_kwargs.setText("{depth: 28}")
    with pytest.raises(ParameterError, match="not valid JSON"):
        dialog.result_spec()
    page.arch_kwargs.setText('{"depth": 28}')
    with pytest.raises(ParameterError, match="does not apply to wrn-28-10"):
        dialog.result_spec()


def test_channels_and_one_mean_value(dialog, files):
    weights, _ = files
    page = page_for(dialog, weights, "wrn-28-10")
    assert page.channels.currentData() is None          # automatic
    page.mean.setText("0.5")
    page.std.setText("0.25")
    assert dialog.result_spec()[1] == LoadOptions(arch="wrn-28-10", mean=(0.5,), std=(0.25,))
    page.channels.setCurrentIndex(page.channels.findData(1))
    page.mean.setText("0.5,0.4,0.3")
    with pytest.raises(ParameterError, match="Mean has 3 values, but the model takes 1-channel images"):
        dialog.result_spec()
    page.mean.setText("0.5")
    assert dialog.result_spec()[1].channels == 1


def test_new_fields_survive_the_remembered_state(qtbot, dialog, files):
    weights, source = files
    page = page_for(dialog, weights, f"py:{source}:Net")
    page.arch_kwargs.setText('{"in_features": 4}')
    page.channels.setCurrentIndex(page.channels.findData(1))
    page.trust.setChecked(True)
    other = ModelDialog()
    qtbot.addWidget(other)
    other.restore_state(json.loads(json.dumps(dialog.state())))
    restored = other.files["checkpoint"]
    assert restored.arch.text() == f"py:{source}:Net" and restored.arch_kwargs.text() == '{"in_features": 4}'
    assert restored.channels.currentData() == 1 and not restored.trust.isChecked()


def test_explain_untrusted_code(files):
    weights, source = files
    with pytest.raises(UntrustedCodeError) as excinfo:
        load_model(f"ckpt:{weights}", LoadOptions(arch=f"py:{source}:Net", device="cpu"))
    text = ModelDialog.explain_error(excinfo.value)
    assert text.startswith("The architecture is defined in a Python file") and str(excinfo.value) in text


class Dropout(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(F.dropout(self.conv(x).mean(dim=(2, 3)), 0.5, True))


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
def test_a_model_that_is_not_deterministic_opens_the_warning_dialog(qtbot, window, tmp_path):
    path = tmp_path / "dropout.pt"
    torch.jit.script(Dropout()).save(str(path))
    add_model(qtbot, window, f"torchscript:{path}", {"device": "cpu", "input_size": 16})
    boxes = [b for b in window.findChildren(QtWidgets.QMessageBox) if "not a deterministic function" in b.text()]
    assert len(boxes) == 1 and "loaded with a warning" in boxes[0].windowTitle() and boxes[0].isVisible()
    assert "model.eval()" in boxes[0].text()
    assert "not a deterministic function" in window.model_list.item(0).toolTip()
