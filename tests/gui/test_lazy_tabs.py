"""The Saliency, Evaluate, Train and Black box tabs are built the first time they are shown
or used (start-up, issue 5): until then the window has not imported their modules, nor
pyqtgraph or superqt; built late, a tab takes in the models already loaded and behaves as
one built at the start. Real window offscreen, real bundled models."""

import json
import subprocess
import sys

from support import ROOT, digit_sample
from window_support import LONG, add_model, open_image

from visualizer.gui import workspaces
from visualizer.gui.workspaces.base import TabWorkspace
from visualizer.gui.workspaces.lazy import LazySpec, LazyTab

LAZY = [spec for spec in workspaces.TABS if isinstance(spec, LazySpec)]


def test_each_lazy_spec_says_what_its_class_says():
    """The window reads these before the class is imported: they must not drift from it."""
    assert [s.kind for s in LAZY] == ["saliency", "evaluate", "train", "blackbox"]
    for spec in LAZY:
        cls = spec.load()
        assert issubclass(cls, TabWorkspace)
        for field in ("kind", "title", "needs_image", "needs_model", "uses_form"):
            assert getattr(spec, field) == getattr(cls, field), (spec.name, field)
        assert cls.controls is TabWorkspace.controls and cls.actions is TabWorkspace.actions, spec.name


def test_the_window_starts_without_the_lazy_tabs_modules(tmp_path):
    code = ("import json, sys\nfrom visualizer.gui.qt import QtCore, QtWidgets\napp = QtWidgets.QApplication([])\n"
            "from visualizer.gui.main_window import MainWindow\n"
            "w = MainWindow(settings=QtCore.QSettings(sys.argv[1], QtCore.QSettings.Format.IniFormat), "
            "load_defaults=False)\nw.show(); app.processEvents()\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('visualizer.gui.workspaces.', "
            "'visualizer.core.stealing', 'visualizer.core.poisoning', 'visualizer.core.training', 'superqt', "
            "'pyqtgraph')))))\n")
    env = {"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "settings.ini")], capture_output=True,
                         text=True, env=env, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    for spec in LAZY:
        assert spec.module not in loaded, loaded
    assert not [m for m in loaded if m.startswith(("visualizer.core.stealing", "visualizer.core.poisoning",
                                                   "visualizer.core.training", "superqt", "pyqtgraph"))], loaded


def test_a_tab_built_late_takes_in_the_models_already_loaded(qtbot, window):
    w = window
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "digits-standard")
    tabs = {ws.kind: ws for ws in w.workspaces if isinstance(ws, LazyTab)}
    assert set(tabs) == {"saliency", "evaluate", "train", "blackbox"} and not any(t.is_built() for t in tabs.values())
    w.tabs.setCurrentWidget(tabs["evaluate"].page)              # shown: built, with the loaded model ticked
    assert tabs["evaluate"].is_built() and not tabs["blackbox"].is_built()
    assert tabs["evaluate"].setup.message.isVisible() or tabs["evaluate"].setup.isVisible()   # shown at once
    assert [e.spec for e in tabs["evaluate"].setup.checked_models()] == ["digits-standard"]
    box = tabs["blackbox"]
    assert box.steal.setup is not None and box.is_built()        # asked for: built
    box.setup.oracle.setText("topk:11")                          # checked against the selected model's classes
    assert "digits-standard has only 10 classes" in box.setup.problem()
    finished = []
    tabs["train"].runFinished.connect(finished.append)            # the LazyTab's signal repeats the tab's
    tabs["train"].built().runFinished.emit("train")
    assert finished == ["train"]
    w.tabs.setCurrentIndex(0)
    box.ctx.show_page(box.built().page)                           # a tab's own page is found inside its LazyTab's
    assert w.tabs.currentWidget() is box.page


def test_removing_a_model_or_saving_a_session_builds_no_tab(qtbot, window, tmp_path):
    """Undo and sessions ask every tab what it keeps: a tab never built keeps nothing, and a
    session that holds a tab's settings builds it when reopened."""
    w = window
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "digits-standard")
    w.remove_selected_model()
    w.act_undo.trigger()
    assert len(w.state.models) == 1
    lazy = {ws.kind: ws for ws in w.workspaces if isinstance(ws, LazyTab)}
    assert not any(t.is_built() for t in lazy.values())
    assert w.save_session(tmp_path / "a.session") and not any(t.is_built() for t in lazy.values())
    lazy["train"].poison.setup.epochs.setValue(7)                  # built, and kept by the next session
    assert w.save_session(tmp_path / "b.session")
    lazy["train"].poison.setup.epochs.setValue(2)
    assert w.open_session(tmp_path / "b.session")
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert lazy["train"].poison.setup.epochs.value() == 7
