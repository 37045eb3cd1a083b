"""The real window, offscreen, driven like a user would: real bundled models, real images,
real files. Every test must leave no worker thread running (see conftest.py)."""

import json
import xml.etree.ElementTree as ET

import jsonschema
import numpy as np
import pytest
import torch
from PIL import Image

from visualizer.core.schema import result_schema
from visualizer.gui.dialogs.export_dialog import ExportChoice, ExportDialog
from visualizer.gui.main_window import MainWindow
from visualizer.gui.qt import QtCore, QtWidgets
from window_support import LONG, choose, export_and_wait, run_and_wait, run_sweep, sample, set_field


def test_launch_opens_with_the_bundled_model_and_photo(qtbot, settings):
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    # The window is up before the model has loaded: loading happens on a worker.
    assert w.isVisible()
    qtbot.waitUntil(lambda: bool(w.columns) and w.columns[0].ready and w.image is not None, timeout=LONG)
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert w.columns[0].model.info.model_id == "lite0-imagenet"
    assert w.workspace("sweep").view(w.columns[0]).title_label.text() == "lite0-imagenet"
    assert w.image.name == "china.jpg"
    assert w.run_button.isEnabled()
    assert "lite0-imagenet" in w.model_list.item(0).text()
    w.close()


def test_pgd_attack_shows_the_result(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-l2")
    set_field(w.form, "eps", "1.5")
    set_field(w.form, "steps", "20")
    assert w.form.is_valid()
    run_and_wait(qtbot, w)
    art = w.columns[0].results["attack"]
    rec = art.record
    assert rec["parameters"]["norm"] == "l2" and rec["parameters"]["steps"] == 20
    assert rec["perturbation"]["l2"] <= 1.5 + 1e-4
    assert len(rec["history"]["loss"]) == 21
    # The views show exactly that result: the perturbation panel holds its channel mean.
    view = w.workspace("attack").view(w.columns[0])
    delta = (art.arrays["adversarial"] - art.arrays["clean"]).mean(axis=0)
    np.testing.assert_allclose(view.perturbation.image.image, delta, atol=1e-6)
    assert "attack" not in w.columns[1].results        # only the selected model was attacked


def test_cancel_mid_run_keeps_the_partial_result(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "100000")
    steps_seen = []
    w.run()
    worker = w.pool._active[f"attack:{id(w.columns[0])}"]
    worker.progress.connect(lambda e: steps_seen.append(e.done))
    qtbot.waitUntil(lambda: len(steps_seen) >= 2, timeout=LONG)
    w.cancel()
    qtbot.waitUntil(lambda: "attack" in w.columns[0].results and not w.pool.busy(), timeout=LONG)
    rec = w.columns[0].results["attack"].record
    assert rec["cancelled"] is True
    assert 2 <= rec["iterates"] < 100001


def test_a_new_run_supersedes_the_old_one(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "100000")
    w.run()
    first = w.pool._active[f"attack:{id(w.columns[0])}"]
    set_field(w.form, "steps", "5")
    finished = []
    w.runFinished.connect(finished.append)
    w.run()
    qtbot.waitUntil(lambda: bool(finished) and not w.pool.busy(), timeout=LONG)
    assert not first.is_running()
    rec = w.columns[0].results["attack"].record
    assert rec["parameters"]["steps"] == 5 and not rec["cancelled"] and len(finished) == 1


def test_sweep_and_clicking_a_cell(qtbot, digits_window):
    w = digits_window
    rec = run_sweep(qtbot, w)
    assert np.array(rec["sweep"]["grid_true_prob"]).shape == (7, 3, 3)
    assert w.tabs.currentIndex() == 1
    captions = []
    view = w.workspace("sweep").view(w.columns[0])
    original = view.show_transformed
    view.show_transformed = lambda image, caption: (captions.append((image, caption)), original(image, caption))
    view.cellClicked.emit(30.0, 3.0, 0.0)
    image, caption = captions[-1]
    assert "rotate +30.0°" in caption and "shift (+3.0, +0.0)" in caption
    assert image.shape == tuple(np.asarray(w.columns[0].results["sweep"].arrays["clean"]).shape)


def test_saliency_of_both_models_on_one_scale(qtbot, digits_window):
    w = digits_window
    choose(w.form, "saliency")
    run_and_wait(qtbot, w, all_models=True)
    rec = w.saliency_result.record
    assert [m["model"] for m in rec["saliency"]["maps"]] == ["digits-standard", "digits-robust"]
    assert rec["saliency"]["shared_scale"] > 0
    assert w.tabs.currentIndex() == 2


def test_compare_all_models_and_transfer(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-l2")
    set_field(w.form, "eps", "2")
    set_field(w.form, "steps", "10")
    run_and_wait(qtbot, w, all_models=True, count=2)
    assert all("attack" in c.results for c in w.columns)
    w.model_list.setCurrentRow(0)
    assert w.transfer_button.isEnabled()
    w.run_transfer()
    qtbot.waitUntil(lambda: bool(w.transfer_table.rows) and not w.pool.busy(), timeout=LONG)
    (row,) = w.transfer_table.rows
    assert row["source"] == "digits-standard" and row["model"] == "digits-robust"
    assert w.transfer_table.isVisible() and w.transfer_table.rowCount() == 1


def test_export_png_svg_pdf(qtbot, digits_window, tmp_path):
    w = digits_window
    choose(w.form, "pgd-l2")
    run_and_wait(qtbot, w)
    out = tmp_path / "export"
    choice = ExportChoice(folder=str(out), png=True, dpi=150, svg=True, pdf=True, current_view=True, figure=True,
                          raw=True)
    rec = export_and_wait(qtbot, w, choice)
    assert rec is not None
    jsonschema.validate(json.loads((out / "result.json").read_text()), result_schema())
    for name in ("view.png", "view.svg", "view.pdf", "figure.png", "figure.svg", "figure.pdf", "adversarial.png"):
        assert (out / name).stat().st_size > 0, name
    view = Image.open(out / "view.png")
    assert view.size[0] >= w.tabs.currentWidget().width() * 1.4        # 150 dpi vs 96 on screen
    colours = np.unique(np.asarray(view.convert("RGB")).reshape(-1, 3), axis=0)
    assert len(colours) > 50                                           # real content, not a blank page
    ET.parse(out / "view.svg")
    ET.parse(out / "figure.svg")
    assert (out / "view.pdf").read_bytes()[:4] == b"%PDF" and (out / "figure.pdf").read_bytes()[:4] == b"%PDF"
    # The saved adversarial image is exactly the one the window shows and the record scores:
    # 8-bit, inside the L2 budget read back from the files.
    adv = w.columns[0].results["attack"].arrays["adversarial"]
    png = np.asarray(Image.open(out / "adversarial.png"), dtype=np.float32) / np.float32(255)
    np.testing.assert_array_equal(png.reshape(adv.shape), adv)
    attack_view = w.workspace("attack").view(w.columns[0])
    np.testing.assert_array_equal(attack_view.adversarial.image.image.squeeze(),
                                  np.asarray(Image.open(out / "adversarial.png")) / np.float32(255))
    moved = np.asarray(Image.open(out / "adversarial.png"), dtype=np.int64) - np.asarray(Image.open(out / "clean.png"))
    assert np.sqrt((moved ** 2).sum()) / 255 <= rec["parameters"]["eps"] and rec["quantization"]["within_budget"]
    assert "8-bit image within" in attack_view.status_label.text()
    # Never overwrites without asking: a second export into the same folder is refused.
    assert export_and_wait(qtbot, w, ExportChoice(folder=str(out), png=True)) is None
    assert "already holds files" in w.last_error


def test_save_and_reopen_a_session(qtbot, digits_window, tmp_path, settings):
    w = digits_window
    choose(w.form, "pgd-l2")
    set_field(w.form, "steps", "7")
    run_and_wait(qtbot, w)
    choose(w.form, "saliency")
    run_and_wait(qtbot, w, all_models=True)
    path = tmp_path / "s.advsession"
    assert w.save_session(path)
    before = w.columns[0].results["attack"]

    w2 = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w2)
    started = []
    original_start = w2.pool.start
    w2.pool.start = lambda slot, *a, **k: (started.append(slot), original_start(slot, *a, **k))[1]
    assert w2.open_session(path)
    qtbot.waitUntil(lambda: all(c.ready for c in w2.columns) and not w2.pool.busy(), timeout=LONG)
    # Nothing was recomputed: models were loaded (and the clean preview made where no result
    # was stored), but no attack, sweep or saliency ran.
    assert not [s for s in started if str(s).split(":")[0] in ("attack", "sweep", "saliency")], started
    after = w2.columns[0].results["attack"]
    assert after.record["history"] == before.record["history"]
    np.testing.assert_array_equal(after.arrays["adversarial"], before.arrays["adversarial"])
    assert w2.saliency_result.record["saliency"]["shared_scale"] == w.saliency_result.record["saliency"]["shared_scale"]
    assert w2.image.sha256 == w.image.sha256
    assert w2.form.attack_params().steps == 7
    w2.close()


def test_corrupt_image_is_rejected_in_the_window(qtbot, digits_window, tmp_path):
    w = digits_window
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    previous = w.image
    with qtbot.waitSignal(w.errorShown, timeout=LONG):
        w.open_image(bad)
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert "broken.png" in w.last_error
    assert w.image is previous                  # nothing the user had is lost
    assert w.run_button.isEnabled()


def test_a_bad_model_spec_is_explained(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.errorShown, timeout=LONG):
        window.load_model(f"ckpt:{tmp_path / 'missing.pt'}", {"arch": "preact-resnet18"})
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=LONG)
    assert "missing.pt" in window.last_error
    assert "failed to load" in window.model_list.item(0).text()


def test_invalid_parameters_disable_run(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-linf")
    set_field(w.form, "eps", "abc")
    assert not w.form.is_valid() and not w.run_button.isEnabled() and not w.run_all_button.isEnabled()
    set_field(w.form, "eps", "8/255")
    assert w.run_button.isEnabled()


def test_drop_an_image_file(qtbot, digits_window):
    w = digits_window
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(sample("flower.jpg")))])
    from visualizer.gui.qt import QtGui

    drop = QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                            QtCore.Qt.NoModifier)
    with qtbot.waitSignal(w.imageLoaded, timeout=LONG):
        w.dropEvent(drop)
    assert w.image.name == "flower.jpg"


def test_closing_during_an_attack_stops_the_worker(qtbot, digits_window):
    w = digits_window
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "100000")
    w.run()
    qtbot.waitUntil(lambda: w.pool.busy(), timeout=LONG)
    w.close()
    assert not w.pool.busy()     # the conftest also checks no worker thread survives


def test_settings_remember_parameters(qtbot, settings):
    w = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w)
    choose(w.form, "pgd-l2")
    set_field(w.form, "steps", "33")
    w.close()
    w2 = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w2)
    assert w2.form.attack_params().steps == 33 and w2.form.attack_params().norm == "l2"
    w2.close()


def test_help_lists_shortcuts_and_versions(qtbot, window):
    table = dict((what, keys) for keys, what in window.shortcut_table())
    assert table["Run"] == "Ctrl+R" and table["Cancel"] == "Esc" and "Open image…" in table
    about = window.about_text()
    assert torch.__version__ in about and QtCore.qVersion() in about and "cpu" in about
    box = window.show_shortcuts()
    assert "Ctrl+R" in box.text()
    box.close()


def test_paste_an_image_from_the_clipboard(qtbot, window):
    from visualizer.gui.qt import QtGui

    clip = QtWidgets.QApplication.clipboard()
    qimage = QtGui.QImage(str(sample("flower.jpg")))
    clip.setImage(qimage)
    if clip.image().isNull():
        pytest.skip("this Qt platform plugin has no clipboard")
    with qtbot.waitSignal(window.imageLoaded, timeout=LONG):
        window.paste_image()
    assert (window.image.width, window.image.height) == (qimage.width(), qimage.height())
    assert window.image.name == "clipboard.png"


def test_export_comparison_of_every_models_attack(qtbot, digits_window, tmp_path):
    w = digits_window
    choose(w.form, "pgd-l2")
    run_and_wait(qtbot, w, all_models=True, count=2)
    assert len(w.attack_results()) == 2
    dialog = ExportDialog(w, comparable=len(w.attack_results()))
    assert dialog.comparison.isEnabled() and "All 2 models" in dialog.comparison.text()
    assert not ExportDialog(w, comparable=1).comparison.isEnabled()

    out = tmp_path / "compare"
    summary = export_and_wait(qtbot, w, ExportChoice(folder=str(out), png=True, dpi=100, pdf=True, comparison=True))
    assert [r["model"] for r in summary["runs"]] == ["digits-standard", "digits-robust"]
    for entry, art in zip(summary["runs"], w.attack_results()):
        record = json.loads((out / entry["folder"] / "result.json").read_text())
        jsonschema.validate(record, result_schema())
        saved = np.load(out / entry["folder"] / "adversarial.npy")
        np.testing.assert_array_equal(saved, art.arrays["adversarial"])   # the runs shown, not recomputed
    assert Image.open(out / "comparison.png").size[0] > 500
    assert (out / "comparison.pdf").read_bytes()[:4] == b"%PDF"
    # never overwrites silently
    assert export_and_wait(qtbot, w, ExportChoice(folder=str(out), png=True, comparison=True)) is None
    assert "already holds files" in w.last_error
