"""Hostile inputs and runtime failures in the real window: an image deleted between choosing
and loading, a model too big for the GPU, running out of memory during a run, an export
that cannot be written, broken session files. Each time the user is told in plain words,
keeps what they had, and can go on working. Real widgets, bundled models, real files; the
only simulated failure is out-of-memory (no CI machine has a GPU to fill)."""

import json
import shutil
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from support import digit_sample
from visualizer.gui.dialogs.export_dialog import ExportChoice
from visualizer.gui.qt import QtCore, QtGui, QtWidgets
from window_support import (LONG, add_model, choose, export_and_wait, open_image, run_and_wait, run_sweep, sample,
                            set_field)


def quick_attack(qtbot, w):
    choose(w.form, "pgd-l2")
    set_field(w.form, "steps", "3")
    run_and_wait(qtbot, w)
    return w.columns[0].results["attack"]


def fails_with_message(qtbot, w, action):
    with qtbot.waitSignal(w.errorShown, timeout=LONG):
        action()
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    return w.last_error


def still_usable(qtbot, w):
    open_image(qtbot, w, sample("flower.jpg"))
    assert w.image.name == "flower.jpg" and w.run_button.isEnabled()


# -- an image deleted between choosing it and loading it ------------------------------------------

def test_file_open_of_an_image_deleted_after_choosing_it(qtbot, digits_window, tmp_path):
    w = digits_window
    before = quick_attack(qtbot, w)
    path = tmp_path / "à supprimer.png"
    shutil.copy(digit_sample(), path)

    def choose_then_delete():
        # The real File > Open dialog (Qt's own, offscreen): the file is typed in and
        # accepted while it exists, then removed before the window gets to read it.
        dialog = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(dialog, QtWidgets.QFileDialog):
            return                           # the wait below times out and the test fails
        dialog.findChild(QtWidgets.QLineEdit, "fileNameEdit").setText(str(path))
        dialog.accept()
        if dialog.isVisible():               # refused (never leave a modal dialog blocking the test)
            dialog.reject()
        path.unlink()

    QtCore.QTimer.singleShot(200, choose_then_delete)
    message = fails_with_message(qtbot, w, w.act_open.trigger)
    assert message == f"Image file not found: {path}"
    assert w.image.name == digit_sample().name and w.columns[0].results["attack"] is before
    still_usable(qtbot, w)


def test_recent_and_dropped_images_that_no_longer_exist(qtbot, digits_window, tmp_path):
    w = digits_window
    recent = tmp_path / "recent.png"
    shutil.copy(digit_sample(), recent)
    open_image(qtbot, w, recent)
    open_image(qtbot, w, digit_sample())
    before = quick_attack(qtbot, w)
    recent.unlink()
    (action,) = [a for a in w.recent_menu.actions() if a.text() == str(recent)]
    assert str(recent) in fails_with_message(qtbot, w, action.trigger)
    assert w.image.name == digit_sample().name and w.columns[0].results["attack"] is before

    # The next time the menu opens, the missing file is greyed out; the list can be cleared.
    w.recent_menu.aboutToShow.emit()
    entries = {a.text(): a.isEnabled() for a in w.recent_menu.actions() if a.text()}
    assert entries[f"{recent}  (not found)"] is False and entries[str(digit_sample())] is True
    next(a for a in w.recent_menu.actions() if a.text() == "Clear list").trigger()
    assert not w.recent_menu.isEnabled() and w._recent() == []

    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(tmp_path / "dropped then gone.png"))])
    drop = QtGui.QDropEvent(QtCore.QPointF(10, 10), QtCore.Qt.CopyAction, mime, QtCore.Qt.LeftButton,
                            QtCore.Qt.NoModifier)
    assert "dropped then gone.png" in fails_with_message(qtbot, w, lambda: w.dropEvent(drop))
    assert w.image.name == digit_sample().name and w.columns[0].results["attack"] is before
    still_usable(qtbot, w)


# -- a model too big for the GPU; running out of memory during a run --------------------------------

def test_a_model_too_big_for_the_gpu_loads_on_the_cpu_and_says_so(qtbot, window, full_gpu):
    add_model(qtbot, window, "digits-standard", {})            # device chosen automatically
    col = window.columns[0]
    assert full_gpu == ["cuda", "cpu"] and col.model.device.type == "cpu"
    assert window.model_list.item(0).text().endswith(", cpu)")
    assert "did not fit in the memory of cuda" in window.model_list.item(0).toolTip()
    boxes = [b for b in window.findChildren(QtWidgets.QMessageBox) if "did not fit in the memory of cuda" in b.text()]
    assert len(boxes) == 1 and "loaded with a warning" in boxes[0].windowTitle() and boxes[0].isVisible()
    open_image(qtbot, window, digit_sample())
    quick_attack(qtbot, window)


class OutOfMemoryAbove(nn.Module):
    """The injected fault: a real network that runs out of memory on batches over ``limit``."""

    def __init__(self, net: nn.Module, limit: int):
        super().__init__()
        self.net, self.limit, self.failures = net, limit, 0

    def forward(self, x):
        if x.shape[0] > self.limit:
            self.failures += 1
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {x.shape[0]} images")
        return self.net(x)


def test_out_of_memory_mid_sweep_shrinks_the_batches_and_gives_the_same_result(qtbot, digits_window):
    w = digits_window
    reference = run_sweep(qtbot, w)["sweep"]
    limited = OutOfMemoryAbove(w.columns[0].model.net, limit=2)
    w.columns[0].model.net = limited
    result = run_sweep(qtbot, w)["sweep"]                     # asserts no error was shown
    assert limited.failures > 0 and result["evaluated"] == reference["evaluated"] == 63
    np.testing.assert_allclose(result["grid_true_prob"], reference["grid_true_prob"], atol=1e-5)


def test_out_of_memory_at_any_size_is_explained_not_reported_as_a_bug(qtbot, digits_window):
    w = digits_window
    before = quick_attack(qtbot, w)
    net = w.columns[0].model.net
    w.columns[0].model.net = OutOfMemoryAbove(net, limit=0)
    message = fails_with_message(qtbot, w, w.run)
    assert message.startswith("Ran out of memory (CUDA out of memory.") and "bug" not in w.statusBar().currentMessage()
    assert w.columns[0].results["attack"] is before
    w.columns[0].model.net = net
    quick_attack(qtbot, w)


# -- exports that cannot be written ---------------------------------------------------------------

def test_export_into_a_path_that_cannot_be_a_folder(qtbot, digits_window, tmp_path):
    w = digits_window
    quick_attack(qtbot, w)
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    message = fails_with_message(qtbot, w, lambda: export_and_wait(qtbot, w, ExportChoice(folder=str(blocker / "run"),
                                                                                           png=True)))
    assert str(tmp_path) in message and blocker.read_text() == "not a folder"
    assert export_and_wait(qtbot, w, ExportChoice(folder=str(tmp_path / "elsewhere"), png=True)) is not None


@pytest.fixture
def file_size_limit():
    """Writes past ``limit`` bytes fail, as on a full disk: a real OS limit on this process
    (RLIMIT_FSIZE; Python ignores the SIGXFSZ signal, so the write returns EFBIG)."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)

    def apply(limit=None):
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft if limit is None else limit, hard))

    yield apply
    apply()


def test_export_failing_part_way_keeps_the_previous_export(qtbot, digits_window, tmp_path, file_size_limit):
    w = digits_window
    quick_attack(qtbot, w)
    out = tmp_path / "export"
    assert export_and_wait(qtbot, w, ExportChoice(folder=str(out), png=True, figure=True, raw=True)) is not None
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert max(len(b) for b in before.values()) > 20_000          # the figure cannot be written under the limit
    quick_attack(qtbot, w)                                         # a newer result to export over the old one
    file_size_limit(20_000)
    try:
        result = export_and_wait(qtbot, w, ExportChoice(folder=str(out), png=True, figure=True, raw=True,
                                                        overwrite=True))
    finally:
        file_size_limit()                                          # lifted again
    assert result is None
    assert "File too large" in w.last_error and "Nothing was changed" in w.last_error
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "settings.ini"]   # no staging folder left


# -- broken session files -------------------------------------------------------------------------

def future_session(path):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("session.json", json.dumps({"format": "adversarial-visualizer-session", "format_version": 99}))
    return path


@pytest.mark.parametrize("make,needle", [
    (lambda p: p.write_bytes(b"PK\x03\x04 truncated zip") and p, "not a session file"),
    (future_session, "newer version"),
], ids=["corrupt", "future-version"])
def test_a_broken_session_is_refused_and_the_current_one_kept(qtbot, digits_window, tmp_path, make, needle):
    w = digits_window
    before = quick_attack(qtbot, w)
    path = tmp_path / "bad.advsession"
    make(path)
    with qtbot.waitSignal(w.errorShown, timeout=LONG):
        assert w.open_session(path) is False
    assert needle in w.last_error
    assert [c.spec for c in w.columns] == ["digits-standard", "digits-robust"] and all(c.ready for c in w.columns)
    assert w.image.name == digit_sample().name and w.columns[0].results["attack"] is before
    quick_attack(qtbot, w)
