"""The Poison panel of the Train tab on real MNIST (a few hundred images, one epoch, one
thread): ASR rises with the poison rate on a planted trigger, the curves gain one point per
finished rate, the detector's flagged examples are the core's, Export writes the CLI's
files, a poisoned model becomes a model column, Cancel keeps the finished rates and leaves
the window idle, the trigger preview stamps the trigger where the spec says, and a bad
trigger spec gives one message and starts nothing."""

import json

import jsonschema
import numpy as np
import pytest
import torch
from support import shared_data
from window_support import LONG, retype

from visualizer.core.data import load_dataset
from visualizer.core.poisoning import detector, parse_trigger
from visualizer.core.poisoning.badnets import badnets
from visualizer.core.poisoning.trained import load_trained
from visualizer.core.schema import poison_schema
from visualizer.gui.qt import QtGui

QColor = QtGui.QColor

MNIST = shared_data("mnist")


def poison_panel(window, tmp_path, rates="0,0.05", limit=600, detect=False):
    ws = next(w for w in window.workspaces if w.kind == "train")
    window.tabs.setCurrentWidget(ws.page)
    ws.sections.setCurrentWidget(ws.poison.page)
    s = ws.poison.setup
    s.data_kind.setCurrentIndex(s.data_kind.findData("mnist"))
    s.data_path.setText(str(MNIST))
    s.limit.setValue(limit)
    s.eval_limit.setValue(300)
    s.attack.setCurrentIndex(s.attack.findData("badnets"))
    s.trigger.setText("patch:checker:4:br")
    s.target.setText("0")
    s.rates.setText(rates)
    s.arch.setCurrentText("mnist-cnn")
    s.epochs.setValue(1)
    s.batch_size.setValue(32)
    s.lr.setText("0.003")
    s.detect.setChecked(detect)
    s.directions.setValue(10)
    s.runs_folder.setText(str(tmp_path / "runs"))
    return ws.poison


def run_sweep(qtbot, window, panel):
    ended = []
    panel.finished.connect(lambda: ended.append(True))
    assert panel.start()
    qtbot.waitUntil(lambda: bool(ended) and not window.pool.busy(), timeout=4 * LONG)
    assert window.last_error is None, window.last_error


def test_sweep_asr_rises_with_rate_and_the_panel_shows_the_cores_results(qtbot, window, tmp_path):
    panel = poison_panel(window, tmp_path, detect=True)
    run_sweep(qtbot, window, panel)
    clean, asr = panel.run.record["rates"]
    # ASR rises with the rate on the planted trigger; the clean model barely answers the trigger
    assert asr["attack_success_rate"] > clean["attack_success_rate"] + 0.5 and asr["clean_accuracy"] > 0.3
    # one plotted point per finished rate, at the measured values
    plotted_clean, plotted_asr = panel.curves.points()
    assert [r for r, _ in plotted_clean] == [r for r, _ in plotted_asr] == [0.0, 0.05]
    assert [v for _, v in plotted_clean] == pytest.approx([100 * e["clean_accuracy"] for e in (clean, asr)])
    assert [v for _, v in plotted_asr] == pytest.approx([100 * e["attack_success_rate"] for e in (clean, asr)])
    # triggered test images: captions are the before -> after predictions of the record
    names = panel.run.record["class_names"]
    captions = panel.views.examples.captions()
    k = len(panel.run.record["examples"]["labels"])
    assert len(captions) == 2 * k
    triggered_after = asr["example_predictions"]["triggered"]
    assert captions[k:] == [f"{names[b]} \u2192 {names[a]}"
                            for b, a in zip(clean["example_predictions"]["triggered"], triggered_after)]

    # the flagged examples shown are the core detector's, recomputed here on the saved model
    train = load_dataset(f"mnist:{MNIST}", "train", limit=600)
    poisoned = badnets(train, parse_trigger("patch:checker:4:br"), 0, 0.05, 0)
    model = load_trained(panel.run.out / "rate-0.05", "mnist-cnn", 10, "cpu")
    acts = detector.penultimate_activations(model, poisoned.data)
    eps = detector.largest_class_fraction(poisoned.data.labels, poisoned.poison_index)
    flagged = detector.flag_per_class(acts, poisoned.data.labels, eps, 10)
    want, _ = detector.most_suspect(acts, poisoned.data.labels, flagged, 10, 16)
    shown = panel.views.suspects.thumbs
    assert len(shown) == len(want) > 0
    pixels, _ = poisoned.data.batch(want)
    poisons = set(poisoned.poison_index.tolist())
    for thumb, index, image in zip(shown, want.tolist(), pixels):
        assert np.array_equal(thumb.pixels, image.numpy())
        assert thumb.caption.text().count("poison" if index in poisons else "clean") == 1
    found = detector.precision_recall(flagged, poisoned.poison_index)
    text = panel.detection.text()
    retrained_asr = asr["detection"]["retrained"]["attack_success_rate"]
    assert f"recall {found['recall']:.1%}" in text and f"ASR {retrained_asr:.1%}" in text

    # Export writes the CLI's files
    out = tmp_path / "export"
    with qtbot.waitSignal(panel.exported, timeout=LONG) as written:
        panel.export_to(out)
    assert written.args[0] is not None
    record = json.loads((out / "poison.json").read_text())
    jsonschema.validate(record, poison_schema())
    assert [e["rate"] for e in record["rates"]] == [0.0, 0.05]
    assert all((out / f"{n}.{ext}").stat().st_size > 1000 for n in ("curves", "examples") for ext in ("png", "svg"))
    assert (out / "rate-0.05" / "model.safetensors").is_file() and (out / "rate-0.05" / "cleaned").is_dir()

    # a poisoned model as a model column
    panel.model_choice.setCurrentIndex(panel.model_choice.findData("rate-0.05/model.safetensors"))
    with qtbot.waitSignal(window.modelLoaded, timeout=LONG):
        panel.add_button.click()
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=LONG)
    entry = window.state.models[-1]
    assert entry.ready and entry.spec == f"ckpt:{panel.run.out / 'rate-0.05' / 'model.safetensors'}"
    x, _ = load_dataset(f"mnist:{MNIST}", "test", limit=300).batch(torch.arange(300))
    with torch.no_grad():
        assert torch.equal(entry.model(x).argmax(1), model(x).argmax(1))


def test_cancel_keeps_finished_rates_and_returns_the_window_to_idle(qtbot, window, tmp_path):
    panel = poison_panel(window, tmp_path, rates="0,0.02,0.05", limit=400)
    ended = []
    panel.finished.connect(lambda: ended.append(True))
    assert panel.start()
    qtbot.waitUntil(lambda: len(panel.entries) >= 1, timeout=4 * LONG)
    panel.cancel_button.click()
    qtbot.waitUntil(lambda: bool(ended) and not window.pool.busy(), timeout=4 * LONG)
    kept = panel.run.record["rates"]
    assert 1 <= len(kept) < 3 and panel.run.record["cancelled"]
    assert len(panel.curves.points()[1]) == len(kept)
    assert "Cancelled" in panel.status.text()
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled() and not window.act_cancel.isEnabled()
    assert panel.export_button.isEnabled() and not window.jobs.busy() and not window.jobs.cancel_button.isEnabled()


def test_trigger_preview_stamps_the_trigger_where_the_spec_says(qtbot, window, tmp_path):
    panel = poison_panel(window, tmp_path)
    setup = panel.setup
    qtbot.waitUntil(lambda: setup.sample is not None and not window.pool.busy(), timeout=LONG)
    sample = setup.sample.copy()
    first = load_dataset(f"mnist:{MNIST}", "test", limit=1).batch([0])[0][0].numpy()
    assert np.array_equal(sample, first)
    retype(qtbot, setup.trigger, "patch:square:3:tl")
    shown = setup.preview.triggered_pixels()
    inside = np.zeros_like(shown, dtype=bool)
    inside[:, 1:4, 1:4] = True
    assert (shown[inside] == 1).all() and np.array_equal(shown[~inside], sample[~inside])
    # on screen too: the scaled-up preview is white where the patch is, as the sample is not
    image = setup.preview.after.image.pixmap().toImage()
    scale = image.width() // 28
    assert QColor(image.pixel(2 * scale + 1, 2 * scale + 1)).lightness() == 255
    retype(qtbot, setup.trigger, "patch:checker:4:br")
    shown = setup.preview.triggered_pixels()
    assert shown[0, 23, 23] == 1 and shown[0, 23, 24] == 0 and shown[0, 26, 26] == 1
    assert np.array_equal(shown[:, :23], sample[:, :23])


def test_bad_trigger_spec_gives_a_message_and_starts_nothing(qtbot, window, tmp_path):
    panel = poison_panel(window, tmp_path)
    setup = panel.setup
    retype(qtbot, setup.trigger, "patch:checker:0")
    assert setup.trigger_error.isVisible() and "whole number" in setup.trigger_error.text()
    assert setup.trigger.property("invalid")
    assert not panel.start()
    assert "whole number" in window.last_error and not panel.running() and not panel.entries
    window.last_error = None
    retype(qtbot, setup.trigger, "patch:square:40:br")       # legal grammar, but larger than 28x28 MNIST
    qtbot.waitUntil(lambda: setup.sample is not None, timeout=LONG)
    assert "does not fit" in setup.trigger_error.text() and not panel.start()
    retype(qtbot, setup.trigger, "patch:square:3:tl")
    assert not setup.trigger_error.isVisible() and not setup.trigger.property("invalid")
    retype(qtbot, setup.rates, "0,2")
    assert "fractions of the training set" in setup.rates_error.text() and not panel.start()
    retype(qtbot, setup.rates, "")
    assert "such as 0,0.01,0.05" in setup.rates_error.text() and not panel.start()
    retype(qtbot, setup.rates, "0,0.1")
    # A learning rate of 0 is refused before the sweep starts, in the window's words (it used
    # to start and fail in the worker with the command line's "--lr must be positive").
    window.last_error = None
    retype(qtbot, setup.lr, "0")
    assert not panel.start() and not panel.running()
    assert window.last_error.startswith("The learning rate must be positive") and "--lr" not in window.last_error
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=LONG)


def test_a_session_keeps_the_panels_setup(qtbot, window, tmp_path):
    panel = poison_panel(window, tmp_path, rates="0,0.01")
    panel.setup.detect.setChecked(True)
    panel.setup.directions.setValue(4)
    retype(qtbot, panel.setup.trigger, "blend:noise:0.2")
    path = tmp_path / "s.advsession"
    assert window.save_session(path)
    panel.setup.rates.setText("0.5")
    panel.setup.detect.setChecked(False)
    panel.setup.trigger.setText("patch:square:2")
    assert window.open_session(path)
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=LONG)
    s = panel.setup
    assert (s.rates.text(), s.detect.isChecked(), s.directions.value(), s.trigger.text()) == \
        ("0,0.01", True, 4, "blend:noise:0.2")



def test_clean_label_with_a_bundled_robust_model_keeps_the_labels(qtbot, window, tmp_path):
    panel = poison_panel(window, tmp_path, rates="0.02", limit=400)
    s = panel.setup
    s.attack.setCurrentIndex(s.attack.findData("clean-label"))
    assert s.robust.isEnabled()
    s.robust.setCurrentIndex(s.robust.findText("bundled: mnist-robust-l2"))
    run_sweep(qtbot, window, panel)
    record = panel.run.record
    entry, = record["rates"]
    assert record["attack"] == "clean-label" and record["clean_label"]["robust_model"] == "mnist-robust-l2"
    train = load_dataset(f"mnist:{MNIST}", "train", limit=400)
    assert entry["poisons"] == round(0.02 * 400) <= int((train.labels == 0).sum())
    card = json.loads((panel.run.out / "rate-0.02" / "model.json").read_text())
    assert card["poisoning"]["attack"] == "clean-label" and "--robust-model mnist-robust-l2" in card["command"]
