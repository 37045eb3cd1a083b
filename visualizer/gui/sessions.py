"""File > Save session / Open session: the lab state (image, models, parameters, results)
and the window's own state (the current tab, what each tab keeps) in one ``.advsession``
file (core/session.py). Reopening reloads the models by their specs and puts the stored
results back into the state, which redraws the views; nothing is recomputed."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from visualizer.core.errors import VisualizerError
from visualizer.core.images import load_image_bytes
from visualizer.core.session import SUFFIX, Session, load_session, save_session
from visualizer.gui.qt import QtCore, QtGui, QtWidgets
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext


class Sessions(QtCore.QObject):
    def __init__(self, ctx: WorkspaceContext, image, models, tabs: QtWidgets.QTabWidget,
                 workspaces: Callable[[], list[TabWorkspace]]):
        super().__init__(ctx.window)
        self.ctx, self.image, self.models, self.tabs, self.workspaces = ctx, image, models, tabs, workspaces
        self.act_open_session = ctx.action("Open &session…", self.ask_open_session, "Ctrl+Shift+O",
                                           "Reopen a saved session")
        self.act_save_session = ctx.action("&Save session…", self.ask_save_session, QtGui.QKeySequence.Save,
                                           "Save image, models, parameters and results in one file")

    def session(self) -> Session:
        self.ctx.state.set_parameters(self.ctx.form.state())
        ui = {"tab": self.tabs.currentIndex()}
        extra = {ws.kind: data for ws in self.workspaces() if (data := ws.session_data())}
        if extra:
            ui["tabs"] = extra
        return self.ctx.state.to_session(ui)

    def ask_save_session(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.ctx.window, "Save session", "", f"Sessions (*{SUFFIX})")
        if path:
            if not path.endswith(SUFFIX):
                path += SUFFIX
            self.save_session(path)

    def save_session(self, path) -> bool:
        try:
            save_session(self.session(), path)
        except VisualizerError as exc:
            self.ctx.report_error("Could not save the session", str(exc))
            return False
        self.ctx.status(f"Session saved to {path}", 8000)
        return True

    def ask_open_session(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.ctx.window, "Open session", "", f"Sessions (*{SUFFIX})")
        if path:
            self.open_session(path)

    def open_session(self, path) -> bool:
        try:
            session = load_session(path)
            data, name = session.image_bytes, session.image_name or "image"
            image = load_image_bytes(data, name) if data else None
        except VisualizerError as exc:
            self.ctx.report_error("Could not open the session", str(exc))
            return False
        self.ctx.jobs.shutdown()
        self.models.remove_all()
        if image is not None:
            self.image.set_image(image, session.image_bytes)
        try:
            self.ctx.form.restore_state(session.parameters)
        except (VisualizerError, KeyError, TypeError, ValueError):
            pass
        for ref in session.models:
            self.models.load_model(ref.spec, ref.options)
        self.ctx.state.restore_runs(session.runs)
        tab_data = session.ui.get("tabs") if isinstance(session.ui.get("tabs"), dict) else {}
        for ws in self.workspaces():
            if isinstance(tab_data.get(ws.kind), dict):
                ws.restore_session_data(tab_data[ws.kind])
        self.tabs.setCurrentIndex(int(session.ui.get("tab", 0)) % self.tabs.count())
        self.ctx.status(f"Session {Path(path).name} reopened", 8000)
        return True
