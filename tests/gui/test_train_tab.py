"""The Train tab on real MNIST (256 images, one thread): a standard run plots its epochs and
becomes a model column; an adversarial run's plotted robust accuracy is the project's PGD on
the saved weights; Cancel keeps the last finished epoch as a model and leaves the window
idle; bad settings give one message and start nothing."""

import json
from pathlib import Path

import pytest
import torch
from support import shared_data
from window_support import LONG

from visualizer.core.attacks import run_attack
from visualizer.core.data import load_dataset
from safetensors.torch import load_file

MNIST = shared_data("mnist")
HELD_OUT = 40


def train_tab(window, tmp_path, epochs=1, recipe="none", eps="0.1"):
    ws = next(w for w in window.workspaces if w.kind == "train")
    window.tabs.setCurrentWidget(ws.page)
    f = ws.form
    f.data_kind.setCurrentIndex(f.data_kind.findData("mnist"))
    f.data_path.setText(str(MNIST))
    f.limit.setValue(256)
    f.arch.setCurrentText("mnist-cnn")
    f.recipe.setCurrentIndex(f.recipe.findData(recipe))
    f.norm.setCurrentIndex(f.norm.findData("linf"))
    f.eps.setText(eps)
    f.steps.setValue(2)
    f.epochs.setValue(epochs)
    f.batch_size.setValue(32)
    f.held_out.setValue(HELD_OUT)
    f.runs_folder.setText(str(tmp_path / "runs"))
    return ws


def train_and_wait(qtbot, window, ws):
    finished = []
    ws.runFinished.connect(finished.append)
    with qtbot.waitSignal(window.modelLoaded, timeout=LONG):
        ws.train_button.click()
    qtbot.waitUntil(lambda: bool(finished) and not window.pool.busy(), timeout=LONG)
    assert window.last_error is None, window.last_error


def run_folder(window):
    return Path(window.state.models[-1].spec.removeprefix("ckpt:")).parent


def saved(window):
    entry = window.state.models[-1]
    assert entry.ready and entry.spec.startswith("ckpt:") and entry.spec.endswith("model.safetensors")
    return entry.model


def test_standard_run_plots_each_epoch_and_becomes_a_model_column(qtbot, window, tmp_path):
    ws = train_tab(window, tmp_path, epochs=2)
    train_and_wait(qtbot, window, ws)
    clean, robust = ws.plot.points(0)
    history = ws.plot.runs[0].history
    assert [e for e, _ in clean] == [1, 2] and [e for e, _ in robust] == [1, 2]
    assert [a for _, a in clean] == pytest.approx([r["test_clean_accuracy"] for r in history])
    assert all(r["test_images"] == HELD_OUT and r["test_robust_images"] == HELD_OUT for r in history)
    assert "standard" in ws.plot.runs[0].name and len(window.columns) == 1
    model = saved(window)
    assert model.info.class_names == [str(d) for d in range(10)] and model.input_shape == (1, 28, 28)
    assert ws.train_button.isEnabled() and not ws.cancel_button.isEnabled()


def test_adversarial_runs_robust_accuracy_is_pgd_on_the_saved_weights(qtbot, window, tmp_path):
    ws = train_tab(window, tmp_path, recipe="pgd", eps="0.15")
    train_and_wait(qtbot, window, ws)
    (_, plotted), = ws.plot.points(0)[1]
    record = ws.plot.runs[0].history[0]
    assert record["robust_attack"]["eps"] == pytest.approx(0.15) and record["robust_attack"]["steps"] == 10
    x, y = load_dataset(f"mnist:{MNIST}", split="test", limit=HELD_OUT).batch(torch.arange(HELD_OUT))
    model = saved(window)
    direct = run_attack(model, x, y, ws.form.request().watch.attack)
    assert plotted == pytest.approx(1 - float(direct.success.float().mean()))
    card = json.loads((run_folder(window) / "model.json").read_text())
    assert card["recipe"]["adversarial"] == "pgd:linf:0.15:2"


def test_cancel_after_an_epoch_keeps_it_as_a_loadable_model(qtbot, window, tmp_path):
    ws = train_tab(window, tmp_path, epochs=6)
    with qtbot.waitSignal(window.modelLoaded, timeout=LONG):
        ws.train_button.click()
        qtbot.waitUntil(lambda: bool(ws.plot.runs[0].history), timeout=LONG)    # epoch 1 is on the plot
        assert "batches  ·  ETA" in ws.status.text() and "epoch" in ws.status.text()
        ws.cancel_button.click()
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=LONG)
    history = ws.plot.runs[0].history
    assert 1 <= len(history) < 6
    out = run_folder(window)
    card = json.loads((out / "model.json").read_text())
    assert card["stopped_after_epoch"] == len(history)
    weights = load_file(str(out / "model.safetensors"))
    epoch_state = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    assert weights.keys() == epoch_state.keys() and all(torch.equal(weights[k], epoch_state[k]) for k in weights)
    saved(window)
    assert ws.train_button.isEnabled() and not ws.cancel_button.isEnabled() and not window.act_cancel.isEnabled()
    assert "kept" in ws.status.text()


@pytest.mark.parametrize("field,text,message", [
    ("data_path", "/no/such/mnist", "does not exist"),
    ("eps", "abc", "Epsilon"),
    ("eps", "2", "exceeds"),
    ("arch", "mnist-cnn-huge", "Unknown architecture"),
])
def test_bad_settings_give_one_message_and_start_nothing(qtbot, window, tmp_path, field, text, message):
    ws = train_tab(window, tmp_path, recipe="pgd")
    widget = getattr(ws.form, field)
    (widget.setCurrentText if field == "arch" else widget.setText)(text)
    assert not ws.start()
    assert message in window.last_error and not window.pool.busy() and not ws.plot.runs
    assert not (tmp_path / "runs").exists()


def test_a_session_keeps_the_plotted_runs(window):
    ws = next(w for w in window.workspaces if w.kind == "train")
    runs = {"runs": [{"name": "01 standard", "attack": "PGD-10 L∞ 0.3",
                      "history": [{"epoch": 1, "test_clean_accuracy": 0.9, "test_robust_accuracy": 0.1}]},
                     {"name": "02 PGD-7 L∞ 0.3", "attack": "PGD-10 L∞ 0.3",
                      "history": [{"epoch": 1, "test_clean_accuracy": 0.8, "test_robust_accuracy": 0.5},
                                  {"epoch": 2, "test_clean_accuracy": 0.85, "test_robust_accuracy": 0.6}]}]}
    ws.restore_session_data(runs)
    assert ws.session_data()["runs"] == runs["runs"]      # beside them, the Poison page's own ("poison")
    assert ws.plot.points(1) == ([(1, 0.8), (2, 0.85)], [(1, 0.5), (2, 0.6)])
    assert "dashed: robust accuracy under PGD-10 L∞ 0.3" in ws.plot.legend.text()
    ws.restore_session_data({})
    assert not ws.plot.runs and ws.session_data()["runs"] == []


def test_unreadable_data_and_an_early_cancel_leave_no_model_and_an_idle_window(qtbot, window, tmp_path):
    ws = train_tab(window, tmp_path)
    ws.form.data_path.setText(str(tmp_path))          # exists, holds no MNIST files
    with qtbot.waitSignal(window.errorShown, timeout=LONG) as shown:
        assert ws.start()
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=LONG)
    assert str(tmp_path) in shown.args[0]          # the reader names the folder it looked in
    assert not window.state.models and not (tmp_path / "runs").exists()   # no empty run folder left, nor the
                                                                           # runs folder the run made for it
    assert not ws.plot.runs and not ws.plot.legend.entries()                            # nor an empty legend row

    window.last_error = None
    ws.form.data_path.setText(str(MNIST))
    finished = []
    ws.runFinished.connect(finished.append)
    assert ws.start()
    ws.cancel_button.click()                          # stops after the first batch: no epoch to keep
    qtbot.waitUntil(lambda: bool(finished) and not window.pool.busy(), timeout=LONG)
    assert not window.state.models and window.last_error is None
    assert "no finished epoch" in ws.status.text() and ws.train_button.isEnabled() and not ws.plot.runs


def test_the_last_runs_settings_are_remembered(qtbot, window, tmp_path, settings):
    ws = train_tab(window, tmp_path, recipe="fgsm-rs", eps="8/255")
    ws.form.seed.setValue(7)
    ws.form.data_path.setText("/no/such/mnist")
    assert not ws.start()                                  # refused: nothing remembered
    assert settings.value("train/form") is None
    ws.form.data_path.setText(str(MNIST))
    assert ws.start()
    ws.cancel_button.click()
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=LONG)
    from visualizer.gui.main_window import MainWindow

    again = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(again)
    form = next(w for w in again.workspaces if w.kind == "train").form
    assert form.state() == ws.form.state()
    assert (form.recipe.currentData(), form.eps.text(), form.seed.value(), form.limit.value()) == \
        ("fgsm-rs", "8/255", 7, 256)
