"""A new tab is one TabWorkspace subclass plus a line in the tab registry: no other tab or the
window changes. This one (each model's top-1 on the image, with its own Run-menu action and
dock control) is registered next to the real tabs, run on the real digit models, saved in a
session, reopened without recomputing, and cleared when its model goes."""

import numpy as np
import pytest

from support import digit_sample
from visualizer.core.artifacts import Artifacts
from visualizer.core.images import preprocess
from visualizer.core.runs import class_probabilities
from visualizer.gui import workspaces
from visualizer.gui.main_window import MainWindow
from visualizer.gui.qt import QtWidgets
from visualizer.gui.worker import call_in_worker
from visualizer.gui.workspaces.base import TabWorkspace
from window_support import LONG, add_model, open_image


class TopOneWorkspace(TabWorkspace):
    kind = "top1"
    title = "Top-1"
    uses_form = False

    def __init__(self, ctx):
        super().__init__(ctx)
        self.page = QtWidgets.QLabel("nothing yet")
        self.button = QtWidgets.QPushButton("Top-1 of every model")
        self.act = ctx.action("Top-&1", lambda: self.run(self.state.ready_models()))
        self.runs = 0
        self.state.result_changed.connect(self._redraw)
        self.state.model_removed.connect(self._redraw)

    def controls(self):
        return [self.button]

    def actions(self):
        return [self.act]

    def run(self, entries):
        image = self.state.image
        for entry in entries:
            model = entry.model

            def job(model=model):
                probs = class_probabilities(model, preprocess(image, model.info.preprocessing)[0])[0]
                return int(probs.argmax()), probs.numpy()

            self.runs += 1
            self.ctx.jobs.start(f"top1:{id(entry)}", call_in_worker(job),
                                on_finished=lambda res, e=entry: self._done(e, *res), label="Top-1")

    def _done(self, entry, top, probs):
        record = {"kind": "top1", "class": top, "label": entry.model.info.class_names[top]}
        self.state.set_result(entry, "top1", Artifacts(record=record, arrays={"probs": probs}))
        self.runFinished.emit(f"top1:{self.state.index_of(entry)}")

    def _redraw(self, *_):
        lines = [f"{e.title}: {e.results['top1'].record['label']}" for e in self.state.models if "top1" in e.results]
        self.page.setText("\n".join(lines) or "nothing yet")


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setattr(workspaces, "TABS", workspaces.TABS + (TopOneWorkspace,))


def test_a_registered_tab_runs_saves_reopens_and_follows_its_models(qtbot, settings, registered, tmp_path):
    w = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w)
    w.show()
    titles = [w.tabs.tabText(i) for i in range(w.tabs.count())]
    assert titles[:3] == ["Attack", "Sweep", "Saliency"] and titles[-1] == "Top-1"   # other tabs may sit between
    tab = w.workspace("top1")
    assert tab.button.parent() is not None and tab.act in next(
        a.menu() for a in w.menuBar().actions() if a.text() == "&Run").actions()
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "digits-standard")
    add_model(qtbot, w, "digits-robust")

    w.tabs.setCurrentWidget(tab.page)
    assert w.run_all_button.isEnabled()
    finished = []
    w.runFinished.connect(finished.append)
    w.run(all_models=True)                      # Run runs the shown tab: it has its own controls
    qtbot.waitUntil(lambda: len(finished) == 2 and not w.pool.busy(), timeout=LONG)
    assert sorted(finished) == ["top1:0", "top1:1"]
    assert tab.page.text().splitlines() == [f"{c.title}: {c.results['top1'].record['label']}" for c in w.columns]

    path = tmp_path / "s.advsession"
    assert w.save_session(path)
    w2 = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w2)
    assert w2.open_session(path)
    qtbot.waitUntil(lambda: all(c.ready for c in w2.columns) and not w2.pool.busy(), timeout=LONG)
    tab2 = w2.workspace("top1")
    assert tab2.runs == 0 and w2.tabs.currentWidget() is tab2.page      # restored, not recomputed
    np.testing.assert_array_equal(w2.columns[1].results["top1"].arrays["probs"],
                                  w.columns[1].results["top1"].arrays["probs"])
    assert tab2.page.text() == tab.page.text()

    w2.model_list.setCurrentRow(0)
    w2.remove_selected_model()
    assert tab2.page.text() == tab.page.text().splitlines()[1]
    w2.close()
    w.close()
