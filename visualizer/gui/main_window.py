"""The main window: it assembles the workspaces (image, models, one per tab), the jobs, export
and sessions around one lab state, builds the menus, toolbar, controls dock and status bar,
and routes Run and Cancel. It owns no state of a tab and runs no computation: the lab
state (core/lab_state.py) holds the image, models and results, and every model load, image
decode and run goes through the core in a worker (jobs.py).

Where things live:
    workspaces/image.py     the image (open, paste, recent, samples) and its preview
    workspaces/models.py    the model list, Add model, Remove, loading
    workspaces/attack.py, sweep.py, saliency.py
                            one controller per tab (registered in workspaces/__init__.py)
    jobs.py, worker.py      progress, Cancel, busy state; generator workers (superqt's, imported on the first job)
    exporting.py, sessions.py, help.py
"""

from __future__ import annotations

import json

from visualizer.core.artifacts import Artifacts
from visualizer.core.errors import VisualizerError
from visualizer.core.lab_state import LabState, ModelEntry
from visualizer.core.resources import sample_images
from visualizer.core.session import SUFFIX as SESSION_SUFFIX
from visualizer.gui import gc_policy
from visualizer.gui import help as help_menu
from visualizer.gui import workspaces as tab_registry
from visualizer.gui.controls_dock import ControlsDock, first_width
from visualizer.gui.dialogs.error_dialog import show_error
from visualizer.gui.exporting import Exporter
from visualizer.gui.jobs import Jobs
from visualizer.gui.params_form import ParamsForm
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from visualizer.gui.sessions import Sessions
from visualizer.gui.view_menu import ViewMenu
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext
from visualizer.gui.workspaces.image import ImageWorkspace
from visualizer.gui.workspaces.lazy import LazySpec, LazyTab
from visualizer.gui.workspaces.models import ModelsWorkspace
from visualizer.gui.workspaces.run_classes import foreign_class_problem


class MainWindow(QtWidgets.QMainWindow):
    imageLoaded = Signal()
    modelLoaded = Signal(int)          # model index
    runFinished = Signal(str)          # slot, e.g. "attack:0"
    errorShown = Signal(str)
    busyChanged = Signal(bool)
    exportFinished = Signal(object)    # what an export wrote (its record), or None

    def __init__(self, settings: QtCore.QSettings | None = None, load_defaults: bool = True):
        super().__init__()
        gc_policy.collect_on_gui_thread()     # never on a worker: Qt objects must die on their thread
        self.setWindowTitle("Adversarial Visualizer")
        self.setAcceptDrops(True)
        self.settings = settings or QtCore.QSettings("adversarial-visualizer", "visualizer")
        self.last_error: str | None = None
        self.state = LabState()
        self.jobs = Jobs(self._error, self)
        self.form = ParamsForm()
        self.tabs = QtWidgets.QTabWidget()
        ctx = WorkspaceContext(state=self.state, jobs=self.jobs, form=self.form, window=self, settings=self.settings,
                               report_error=self._error, show_page=self._show_page,
                               refresh=self._update_enabled)
        self.ctx = ctx
        self.image_workspace = ImageWorkspace(ctx)
        self.models_workspace = ModelsWorkspace(ctx, lambda: self.workspaces)
        self.workspaces: list[TabWorkspace] = [LazyTab(tab, ctx) if isinstance(tab, LazySpec) else tab(ctx)
                                               for tab in tab_registry.TABS]
        for ws in self.workspaces:
            self.tabs.addTab(ws.page, ws.title)
            ws.runFinished.connect(self.runFinished)
        self.tabs.currentChanged.connect(self._build_shown_tab)     # before anything asks the tab shown
        self.setCentralWidget(self.tabs)
        self.exporter = Exporter(ctx, self.current_workspace)
        self.exporter.exportFinished.connect(self.exportFinished)
        self.sessions = Sessions(ctx, self.image_workspace, self.models_workspace, self.tabs, lambda: self.workspaces)
        self._size_dock_on_show = False
        self._build_dock()
        self._build_actions()
        self._connect()
        self._restore_settings()
        self._update_enabled()
        if load_defaults:
            # Something real to attack on the first click: the bundled ImageNet model and photo.
            QtCore.QTimer.singleShot(0, self.load_defaults)

    # ------------------------------------------------------------------ assembly
    def _build_dock(self) -> None:
        self.dock = ControlsDock(self, self.image_workspace, self.models_workspace, self.form, self.workspaces,
                                 self.jobs, self.settings)
        self.run_button, self.run_all_button = self.dock.run_button, self.dock.run_all_button
        self.addDockWidget(Qt.LeftDockWidgetArea, self.dock)
        self.statusBar().showMessage("Ready")

    def _build_actions(self) -> None:
        act = self.ctx.action
        self.act_quit = act("&Quit", self.close, QtGui.QKeySequence.Quit)
        self.act_run = act("&Run", lambda: self.run(all_models=False), "Ctrl+R", "Run on the selected model")
        self.act_run_all = act("Run on &all models", lambda: self.run(all_models=True), "Ctrl+Shift+R")
        self.act_cancel = act("&Cancel", self.cancel, "Esc", "Stop running jobs, keeping partial results")
        image, sessions = self.image_workspace, self.sessions

        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addAction(image.act_open)
        m.addMenu(image.recent_menu)
        m.addMenu(image.samples_menu)
        m.addAction(image.act_paste)
        m.addSeparator()
        m.addAction(sessions.act_open_session)
        m.addAction(sessions.act_save_session)
        m.addAction(self.exporter.act_export)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = bar.addMenu("&Edit")
        undo = self.models_workspace.undo_stack
        self.act_undo = undo.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QtGui.QKeySequence.Undo)
        self.act_redo = undo.createRedoAction(self, "&Redo")
        self.act_redo.setShortcut(QtGui.QKeySequence.Redo)
        m.addActions([self.act_undo, self.act_redo])
        m = bar.addMenu("&Models")
        m.addAction(self.models_workspace.act_add_model)
        m = bar.addMenu("&Run")
        m.addActions([self.act_run, self.act_run_all, *[a for ws in self.workspaces for a in ws.actions()],
                      self.act_cancel])
        self.view_menu = bar.addMenu("&View")
        self.view = ViewMenu(self, self.view_menu, self.tabs, self.settings)

        m = bar.addMenu("&Help")
        self.act_tutorial = act("&Tutorial", self.show_tutorial, tip="The classic results, step by step, with the bundled models")
        m.addAction(self.act_tutorial)
        m.addAction(act("Keyboard &shortcuts", self.show_shortcuts, "F1"))
        m.addAction(act("&About Adversarial Visualizer", self.show_about))

        tb = self.addToolBar("Main")
        tb.setObjectName("main-toolbar")
        for a in (image.act_open, self.models_workspace.act_add_model, self.act_run, self.act_run_all,
                  self.act_cancel, self.exporter.act_export):
            tb.addAction(a)
        # Undo in sight after a removal (Edit > Undo and Ctrl+Z do the same).
        self.undo_button = QtWidgets.QToolButton()
        self.undo_button.setDefaultAction(self.act_undo)
        self.undo_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.undo_button.setVisible(undo.canUndo())
        undo.canUndoChanged.connect(self.undo_button.setVisible)
        self.statusBar().addPermanentWidget(self.undo_button)

    def _connect(self) -> None:
        self.run_button.clicked.connect(lambda: self.run(all_models=False))
        self.run_all_button.clicked.connect(lambda: self.run(all_models=True))
        self.jobs.cancel_button.clicked.connect(self.cancel)
        self.tabs.currentChanged.connect(self._update_enabled)
        self.image_workspace.imageLoaded.connect(self.imageLoaded)
        self.models_workspace.modelLoaded.connect(self.modelLoaded)
        self.jobs.busyChanged.connect(self.busyChanged)
        self.jobs.busyChanged.connect(self._update_enabled)
        self.jobs.jobEnded.connect(self._update_enabled)
        self.form.validityChanged.connect(self._update_enabled)
        self.form.paramsChanged.connect(self._params_changed)
        self.form.classCleared.connect(lambda why: self.statusBar().showMessage(why, 15000))
        state = self.state
        for signal in (state.image_changed, state.model_added, state.model_removed, state.result_changed):
            signal.connect(self._update_enabled)
        state.model_changed.connect(self._model_changed)
        state.selection_changed.connect(self._selection_changed)

    def workspace(self, kind: str) -> TabWorkspace:
        return next(ws for ws in self.workspaces if ws.kind == kind)

    def current_workspace(self) -> TabWorkspace:
        return self.workspaces[self.tabs.currentIndex()]

    def _build_shown_tab(self, index: int) -> None:
        ws = self.workspaces[index] if 0 <= index < len(self.workspaces) else None
        if isinstance(ws, LazyTab):
            ws.built()

    def _show_page(self, page: QtWidgets.QWidget) -> None:
        """Bring the tab holding ``page`` to the front (a tab built late sits inside its LazyTab's page)."""
        for i in range(self.tabs.count()):
            tab = self.tabs.widget(i)
            if tab is page or tab.isAncestorOf(page):
                self.tabs.setCurrentIndex(i)
                return

    # ------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        else:
            self._size_dock_on_show = True     # to the window's size when it is first shown
        form_state = self.settings.value("form/state")
        if isinstance(form_state, str):
            try:
                self.form.restore_state(json.loads(form_state))
            except (ValueError, TypeError, KeyError, VisualizerError):
                pass   # settings from another version: keep the defaults

    def _save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("form/state", json.dumps(self.form.state()))
        self.settings.sync()

    # ------------------------------------------------------------------ opening things
    def load_defaults(self) -> None:
        china = next((p for p in sample_images() if p.name == "china.jpg"), None)
        if china is not None and self.image is None:
            self.open_image(china)
        if not self.columns:
            self.load_model("lite0-imagenet", {})

    def open_path(self, path) -> None:
        """An image or a session file, whichever ``path`` is (command line, drops)."""
        if str(path).endswith(SESSION_SUFFIX):
            self.open_session(path)
        else:
            self.open_image(path)
            if not self.columns:
                self.load_model("lite0-imagenet", {})

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_path(urls[0])
            event.acceptProposedAction()

    # ------------------------------------------------------------------ run and cancel
    def run_workspace(self) -> TabWorkspace:
        """The tab Run runs: the one the form's choice names, or the tab shown if it has its own controls."""
        current = self.current_workspace()
        return current if not current.uses_form else self.workspace(self.form.current_kind())

    def run(self, all_models: bool = False) -> None:
        ws = self.run_workspace()
        if ws.needs_image and self.image is None:
            self._error("No image", "Open an image first (File > Open, drag and drop, or paste).")
            return
        if ws.uses_form and not self.form.is_valid():
            self._error("Invalid parameters", "Fix the highlighted fields first.")
            return
        targets = self.state.ready_models() if all_models else [self.state.selected]
        targets = [e for e in targets if e is not None and e.ready]
        if not targets and ws.needs_model:
            self._error("No model", "Load a model first (Models > Add model…), and wait until it has loaded.")
            return
        if ws.uses_form and len(targets) > 1:
            problem = foreign_class_problem(self.form.label(), self.form.target(), self.state.selected, targets)
            if problem:
                self._error("Cannot run", problem)
                return
        try:
            ws.run(targets)
        except VisualizerError as exc:
            self._error("Cannot run", str(exc))
            return
        self._show_page(ws.page)

    def cancel(self) -> None:
        self.models_workspace.cancel_loading()
        self.jobs.cancel()
        self.statusBar().showMessage("Cancelling… partial results will be shown.", 3000)

    # ------------------------------------------------------------------ following the state
    def _model_changed(self, entry: ModelEntry) -> None:
        if entry is self.state.selected:
            self._selection_changed(entry)
        self._update_enabled()

    def _selection_changed(self, entry: ModelEntry | None) -> None:
        self._update_enabled()
        if entry is not None and entry.ready:     # the form's class names and budgets follow the model
            info = entry.model.info
            self.form.set_input_size(info.preprocessing.input_size)
            self.form.set_class_names(info.class_names)

    def _params_changed(self) -> None:
        self.state.set_parameters(self.form.state())
        self._update_enabled()

    def _update_enabled(self, *_) -> None:
        ws = self.run_workspace()
        has_model = bool(self.state.ready_models()) or not ws.needs_model
        can_run = (has_model and (self.image is not None or not ws.needs_image)
                   and (self.form.is_valid() or not ws.uses_form) and ws.can_run())
        selected = self.state.selected
        selected_ready = (selected is not None and selected.ready) or not ws.needs_model
        for w in (self.run_button, self.act_run):
            w.setEnabled(can_run and selected_ready)
        for w in (self.run_all_button, self.act_run_all):
            w.setEnabled(can_run)
        busy = self.jobs.busy()
        self.jobs.cancel_button.setEnabled(busy)
        self.act_cancel.setEnabled(busy)
        self.models_workspace.update_enabled()
        for ws in self.workspaces:
            ws.update_enabled()

    def _error(self, title: str, message: str, details: str | None = None) -> None:
        self.last_error = message
        self.statusBar().showMessage(f"{title}: {message}", 10000)
        show_error(self, title, message, details)
        self.errorShown.emit(message)

    # ------------------------------------------------------------------ help
    def shortcut_table(self) -> list[tuple[str, str]]:
        return help_menu.shortcut_table(self)

    def show_tutorial(self) -> QtWidgets.QDialog:
        return help_menu.show_tutorial(self)

    def show_shortcuts(self) -> QtWidgets.QMessageBox:
        return help_menu.show_shortcuts(self)

    def about_text(self) -> str:
        return help_menu.about_text()

    def show_about(self) -> QtWidgets.QMessageBox:
        return help_menu.show_about(self)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._size_dock_on_show:
            self._size_dock_on_show = False
            self.resizeDocks([self.dock], [first_width(self.width())], Qt.Horizontal)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:  # noqa: N802
        self._save_settings()
        # Cancel running jobs and wait for their threads: nothing may outlive the window.
        self.jobs.shutdown()
        self.models_workspace.forget_removed()
        super().closeEvent(event)

    # ------------------------------------------------------------------ short paths
    # The window's parts by their old names (tests, scripts, benchmarks drive the window).
    columns = property(lambda self: self.state.models)
    image = property(lambda self: self.state.image)
    image_bytes = property(lambda self: self.state.image_bytes)
    saliency_result = property(lambda self: self.state.result(None, "saliency"))
    pool = property(lambda self: self.jobs.pool)
    progress = property(lambda self: self.jobs.progress)
    progress_label = property(lambda self: self.jobs.progress_label)
    cancel_button = property(lambda self: self.jobs.cancel_button)
    model_list = property(lambda self: self.models_workspace.model_list)
    act_add_model = property(lambda self: self.models_workspace.act_add_model)
    act_open = property(lambda self: self.image_workspace.act_open)
    act_paste = property(lambda self: self.image_workspace.act_paste)
    recent_menu = property(lambda self: self.image_workspace.recent_menu)
    samples_menu = property(lambda self: self.image_workspace.samples_menu)
    act_export = property(lambda self: self.exporter.act_export)
    transfer_table = property(lambda self: self.workspace("attack").transfer_table)
    transfer_button = property(lambda self: self.workspace("attack").transfer_button)
    act_transfer = property(lambda self: self.workspace("attack").act_transfer)

    def _recent(self) -> list[str]:
        return self.image_workspace.recent()

    def open_image(self, path) -> None:
        self.image_workspace.open_image(path)

    def paste_image(self) -> None:
        self.image_workspace.paste_image()

    def load_model(self, spec: str, options: dict) -> int:
        return self.models_workspace.load_model(spec, options)

    def remove_selected_model(self) -> None:
        self.models_workspace.remove_selected_model()

    def run_transfer(self) -> None:
        self.workspace("attack").run_transfer()

    def attack_results(self) -> list[Artifacts]:
        """Every model's attack result, in model order (for the comparison export)."""
        return self.state.results_of_kind("attack")

    def current_artifacts(self) -> Artifacts | None:
        return self.exporter.current_artifacts()

    def export_to(self, choice, artifacts: Artifacts | None = None) -> bool:
        """Start an export (see Exporter.export_to); ``exportFinished`` brings what was written."""
        return self.exporter.export_to(choice, artifacts)

    def session(self):
        return self.sessions.session()

    def save_session(self, path) -> bool:
        return self.sessions.save_session(path)

    def open_session(self, path) -> bool:
        return self.sessions.open_session(path)
