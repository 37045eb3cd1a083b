"""The main window: menus, toolbar, the controls dock, one column per model in the Attack
and Sweep tabs, the shared Saliency tab, status and progress. It owns no computation:
every model load, image decode and run goes through the core in a worker thread."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from visualizer.core.artifacts import Artifacts, attack_artifacts, saliency_artifacts, sweep_artifacts
from visualizer.core.device import is_out_of_memory, out_of_memory_message
from visualizer.core.errors import VisualizerError
from visualizer.core.images import load_image_and_bytes, load_image_bytes, preprocess
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.resources import sample_images
from visualizer.core.results import top_k
from visualizer.core.runs import attack_run, class_probabilities, sweep_run
from visualizer.core.saliency import compare_saliency
from visualizer.core.session import SUFFIX as SESSION_SUFFIX
from visualizer.core.session import ModelRef, Session, StoredRun, load_session, save_session
from visualizer.core.transfer import transfer_predictions
from visualizer.gui.columns import ModelColumn
from visualizer.gui.dialogs.error_dialog import show_error
from visualizer.gui.panels.attack_view import AttackView
from visualizer.gui.panels.saliency_view import SaliencyView
from visualizer.gui.panels.sweep_view import SweepView
from visualizer.gui.params_form import ParamsForm
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from visualizer.gui.transfer import TransferTable
from visualizer.gui.worker import WorkerPool, call_in_worker

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif);;All files (*)"
MAX_RECENT = 8
TABS = ("attack", "sweep", "saliency")


class MainWindow(QtWidgets.QMainWindow):
    imageLoaded = Signal()
    modelLoaded = Signal(int)          # column index
    runFinished = Signal(str)          # slot, e.g. "attack:0"
    errorShown = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, settings: QtCore.QSettings | None = None, load_defaults: bool = True):
        super().__init__()
        self.setWindowTitle("Adversarial Visualizer")
        self.setAcceptDrops(True)
        self.settings = settings or QtCore.QSettings("adversarial-visualizer", "visualizer")
        self.pool = WorkerPool(self)
        self.columns: list[ModelColumn] = []
        self.image = None
        self.image_bytes: bytes | None = None
        self.saliency_result: Artifacts | None = None
        self.last_error: str | None = None
        self._job_started: dict[str, float] = {}
        self._clean_cache: dict[int, tuple] = {}     # column -> (clean input, top-5) for the image shown
        self._build_ui()
        self._build_actions()
        self._restore_settings()
        self._update_enabled()
        if load_defaults:
            # Something real to attack on the first click: the bundled ImageNet model and photo.
            QtCore.QTimer.singleShot(0, self.load_defaults)

    # ------------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        self.tabs = QtWidgets.QTabWidget()
        self.attack_split = QtWidgets.QSplitter(Qt.Horizontal)
        self.transfer_table = TransferTable()
        attack_page = QtWidgets.QSplitter(Qt.Vertical)
        attack_page.addWidget(self.attack_split)
        attack_page.addWidget(self.transfer_table)
        attack_page.setStretchFactor(0, 5)
        attack_page.setStretchFactor(1, 1)
        self.sweep_split = QtWidgets.QSplitter(Qt.Horizontal)
        self.saliency_view = SaliencyView()
        self.tabs.addTab(attack_page, "Attack")
        self.tabs.addTab(self.sweep_split, "Sweep")
        self.tabs.addTab(self.saliency_view, "Saliency")
        self.setCentralWidget(self.tabs)

        controls = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(controls)
        self.image_label = QtWidgets.QLabel("No image")
        self.image_label.setAlignment(Qt.AlignCenter)
        self.image_label.setMinimumHeight(120)
        self.image_label.setToolTip("The image under study. Drop a file here, paste (Ctrl+V) or use File > Open.")
        self.image_name = QtWidgets.QLabel("")
        self.image_name.setWordWrap(True)
        img_box = QtWidgets.QGroupBox("Image")
        v = QtWidgets.QVBoxLayout(img_box)
        v.addWidget(self.image_label)
        v.addWidget(self.image_name)
        lay.addWidget(img_box)

        model_box = QtWidgets.QGroupBox("Models")
        v = QtWidgets.QVBoxLayout(model_box)
        self.model_list = QtWidgets.QListWidget()
        self.model_list.setToolTip("Loaded models; Run uses the selected one, Run all uses every model.")
        self.model_list.setMaximumHeight(110)
        self.model_list.currentRowChanged.connect(self._on_model_selected)
        v.addWidget(self.model_list)
        row = QtWidgets.QHBoxLayout()
        self.add_model_button = QtWidgets.QPushButton("Add model…")
        self.remove_model_button = QtWidgets.QPushButton("Remove")
        row.addWidget(self.add_model_button)
        row.addWidget(self.remove_model_button)
        v.addLayout(row)
        lay.addWidget(model_box)

        self.form = ParamsForm()
        self.form.validityChanged.connect(lambda _ok: self._update_enabled())
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        lay.addWidget(scroll, 1)

        run_row = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setToolTip("Run the chosen attack, sweep or saliency on the selected model (Ctrl+R)")
        self.run_all_button = QtWidgets.QPushButton("Run on all")
        self.run_all_button.setToolTip("Run it on every loaded model at once (Ctrl+Shift+R)")
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.run_all_button)
        lay.addLayout(run_row)
        self.transfer_button = QtWidgets.QPushButton("Transfer to other models")
        self.transfer_button.setToolTip("Classify the selected model's adversarial image with every other model")
        lay.addWidget(self.transfer_button)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(True)
        self.progress_label = QtWidgets.QLabel("")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running jobs; their partial results are kept (Esc)")
        prow = QtWidgets.QHBoxLayout()
        prow.addWidget(self.progress, 1)
        prow.addWidget(self.cancel_button)
        lay.addLayout(prow)
        lay.addWidget(self.progress_label)

        self.dock = QtWidgets.QDockWidget("Controls")
        self.dock.setObjectName("controls")
        self.dock.setWidget(controls)
        self.dock.setFeatures(QtWidgets.QDockWidget.DockWidgetMovable | QtWidgets.QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, self.dock)
        self.statusBar().showMessage("Ready")

        self.add_model_button.clicked.connect(self.ask_model)
        self.remove_model_button.clicked.connect(self.remove_selected_model)
        self.run_button.clicked.connect(lambda: self.run(all_models=False))
        self.run_all_button.clicked.connect(lambda: self.run(all_models=True))
        self.transfer_button.clicked.connect(self.run_transfer)
        self.cancel_button.clicked.connect(self.cancel)
        self.form.paramsChanged.connect(self._update_enabled)

    def _build_actions(self) -> None:
        def act(text, slot, shortcut=None, tip=None):
            a = QtGui.QAction(text, self)
            if shortcut:
                a.setShortcut(QtGui.QKeySequence(shortcut))
            if tip:
                a.setStatusTip(tip)
                a.setToolTip(tip)
            a.triggered.connect(slot)
            return a

        self.act_open = act("&Open image…", self.ask_image, QtGui.QKeySequence.Open, "Open an image file")
        self.act_paste = act("&Paste image", self.paste_image, QtGui.QKeySequence.Paste, "Use the image on the clipboard")
        self.act_open_session = act("Open &session…", self.ask_open_session, "Ctrl+Shift+O", "Reopen a saved session")
        self.act_save_session = act("&Save session…", self.ask_save_session, QtGui.QKeySequence.Save,
                                    "Save image, models, parameters and results in one file")
        self.act_export = act("&Export…", self.ask_export, "Ctrl+E", "Export figures (PNG, SVG, PDF), arrays and result.json")
        self.act_quit = act("&Quit", self.close, QtGui.QKeySequence.Quit)
        self.act_add_model = act("&Add model…", self.ask_model, "Ctrl+M", "Load a model from any supported source")
        self.act_run = act("&Run", lambda: self.run(all_models=False), "Ctrl+R", "Run on the selected model")
        self.act_run_all = act("Run on &all models", lambda: self.run(all_models=True), "Ctrl+Shift+R")
        self.act_transfer = act("&Transfer to other models", self.run_transfer, "Ctrl+T")
        self.act_cancel = act("&Cancel", self.cancel, "Esc", "Stop running jobs, keeping partial results")

        bar = self.menuBar()
        m = bar.addMenu("&File")
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._refresh_recent)
        self.samples_menu = m.addMenu("Sa&mples")
        for path in sample_images():
            # A thumbnail per sample: the menu doubles as a small gallery.
            pixmap = QtGui.QPixmap(str(path))
            icon = QtGui.QIcon(pixmap.scaled(64, 64, Qt.KeepAspectRatio, Qt.FastTransformation)) \
                if not pixmap.isNull() else QtGui.QIcon()
            a = self.samples_menu.addAction(icon, path.name)
            a.triggered.connect(lambda _=False, p=path: self.open_image(p))
        self.samples_menu.setStyleSheet("QMenu { icon-size: 48px; }")
        m.addAction(self.act_paste)
        m.addSeparator()
        m.addAction(self.act_open_session)
        m.addAction(self.act_save_session)
        m.addAction(self.act_export)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = bar.addMenu("&Models")
        m.addAction(self.act_add_model)
        m = bar.addMenu("&Run")
        for a in (self.act_run, self.act_run_all, self.act_transfer, self.act_cancel):
            m.addAction(a)
        self.view_menu = bar.addMenu("&View")
        self.view_menu.addAction(self.dock.toggleViewAction())

        m = bar.addMenu("&Help")
        self.act_tutorial = act("&Tutorial", self.show_tutorial, tip="Four classic results with the bundled models")
        m.addAction(self.act_tutorial)
        m.addAction(act("Keyboard &shortcuts", self.show_shortcuts, "F1"))
        m.addAction(act("&About Adversarial Visualizer", self.show_about))

        tb = self.addToolBar("Main")
        tb.setObjectName("main-toolbar")
        for a in (self.act_open, self.act_add_model, self.act_run, self.act_run_all, self.act_cancel, self.act_export):
            tb.addAction(a)

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
        form_state = self.settings.value("form/state")
        if isinstance(form_state, str):
            try:
                import json

                self.form.restore_state(json.loads(form_state))
            except (ValueError, TypeError, KeyError, VisualizerError):
                pass   # settings from another version: keep the defaults
        self._refresh_recent()

    def _save_settings(self) -> None:
        import json

        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("form/state", json.dumps(self.form.state()))
        self.settings.sync()

    def _recent(self) -> list[str]:
        value = self.settings.value("recent/images") or []
        return [value] if isinstance(value, str) else list(value)

    def _remember_recent(self, path: str) -> None:
        items = [path] + [p for p in self._recent() if p != path]
        self.settings.setValue("recent/images", items[:MAX_RECENT])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        """Rebuilt each time the menu opens: a file moved or deleted since shows greyed out."""
        self.recent_menu.clear()
        for p in self._recent():
            exists = Path(p).is_file()
            a = self.recent_menu.addAction(p if exists else f"{p}  (not found)")
            a.setEnabled(exists)
            a.triggered.connect(lambda _=False, path=p: self.open_image(path))
        if self._recent():
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(self._recent()))

    def _clear_recent(self) -> None:
        self.settings.setValue("recent/images", [])
        self._refresh_recent()

    # ------------------------------------------------------------------ defaults
    def load_defaults(self) -> None:
        china = next((p for p in sample_images() if p.name == "china.jpg"), None)
        if china is not None and self.image is None:
            self.open_image(china)
        if not self.columns:
            self.load_model("lite0-imagenet", {})

    # ------------------------------------------------------------------ images
    def ask_image(self) -> None:
        start = str(Path(self._recent()[0]).parent) if self._recent() else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open image", start, IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_image(self, path) -> None:
        path = str(path)

        # One read gives both the pixels and the bytes a session keeps: a file deleted or
        # replaced in the meantime cannot make them disagree, or fail as a bug on a re-read.
        self.statusBar().showMessage(f"Opening {path}…")
        self._start("image", call_in_worker(lambda: load_image_and_bytes(path)),
                    on_finished=lambda res: self._set_image(*res, recent=path))

    def paste_image(self) -> None:
        clip = QtWidgets.QApplication.clipboard()
        mime = clip.mimeData()
        if mime is not None and mime.hasUrls():
            local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if local:
                self.open_image(local[0])
                return
        qimage = clip.image()
        if qimage.isNull():
            self._error("Nothing to paste", "The clipboard holds no image.")
            return
        buf = QtCore.QBuffer()
        buf.open(QtCore.QIODevice.WriteOnly)
        qimage.save(buf, "PNG")
        data = bytes(buf.data())
        self._start("image", call_in_worker(lambda: (load_image_bytes(data, "clipboard.png"), data)),
                    on_finished=lambda res: self._set_image(*res))

    def _set_image(self, image, data: bytes, recent: str | None = None) -> None:
        self.image, self.image_bytes = image, data
        h, w = image.height, image.width
        rgb = np.ascontiguousarray((image.pixels * 255).round().astype(np.uint8))
        qimg = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format_RGB888).copy()
        self.image_label.setPixmap(QtGui.QPixmap.fromImage(qimg).scaled(
            260, 160, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        notes = f" — {'; '.join(image.notes)}" if image.notes else ""
        self.image_name.setText(f"{image.name or 'image'}  ({w} × {h}){notes}")
        if recent:
            self._remember_recent(recent)
        for col in self.columns:
            col.results.clear()
            col.last_attack_run = None
            col.attack_view.clear()
            col.sweep_view.clear()
        self.saliency_result = None
        self._clean_cache.clear()
        self._sync_prediction()
        self.saliency_view.clear()
        self.transfer_table.clear_rows()
        for i in range(len(self.columns)):
            self._preview(i)
        self.statusBar().showMessage(f"Opened {image.name}", 5000)
        self._update_enabled()
        self.imageLoaded.emit()

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

    # ------------------------------------------------------------------ models
    def ask_model(self) -> None:
        from visualizer.gui.dialogs.model_dialog import ModelDialog

        dialog = ModelDialog(self)
        raw = self.settings.value("model_dialog/state")
        if isinstance(raw, str):
            try:
                import json

                dialog.restore_state(json.loads(raw))
            except (ValueError, TypeError, KeyError):
                pass
        if dialog.exec() == QtWidgets.QDialog.Accepted:
            import json

            self.settings.setValue("model_dialog/state", json.dumps(dialog.state()))
            spec, options = dialog.result_spec()
            self.load_model(spec, asdict(options))

    def load_model(self, spec: str, options: dict) -> int:
        """Add a column and load its model in a worker; returns the column index."""
        col = ModelColumn(spec=spec, options=dict(options), title=spec)
        col.attack_view = AttackView()
        col.sweep_view = SweepView()
        col.attack_view.set_model_title(f"{spec} (loading…)")
        col.sweep_view.set_model_title(f"{spec} (loading…)")
        col.sweep_view.cellClicked.connect(lambda a, tx, ty, c=col: self._show_transformed(c, a, tx, ty))
        self.columns.append(col)
        self.attack_split.addWidget(col.attack_view)
        self.sweep_split.addWidget(col.sweep_view)
        item = QtWidgets.QListWidgetItem(f"{spec} — loading…")
        self.model_list.addItem(item)
        self.model_list.setCurrentRow(len(self.columns) - 1)
        index = len(self.columns) - 1
        opts = LoadOptions(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in col.options.items()})
        self._start(f"model:{id(col)}", call_in_worker(lambda: load_model(spec, opts)),
                    on_finished=lambda model, c=col: self._model_ready(c, model),
                    on_failed=lambda exc, details, c=col: self._model_failed(c, exc, details),
                    label=f"Loading {spec}")
        return index

    def _model_ready(self, col: ModelColumn, model) -> None:
        if col not in self.columns:
            return
        if col.load_cancelled:   # loading cannot stop part-way; what it loaded after Cancel is dropped
            self._mark_not_loaded(col, "loading cancelled")
            self.statusBar().showMessage(f"Loading {col.spec} cancelled", 8000)
            self._update_enabled()
            return
        col.model = model
        col.title = model.info.model_id
        i = self.columns.index(col)
        self.model_list.item(i).setText(f"{model.info.model_id}  ({model.info.preprocessing.input_size} px, "
                                        f"{model.info.num_classes} classes, {model.device})")
        col.attack_view.set_model_title(model.info.model_id)
        col.sweep_view.set_model_title(model.info.model_id)
        item = self.model_list.item(i)
        item.setToolTip("\n".join([model.info.description, *model.info.notes]).strip())
        warnings = [n for n in model.info.notes if n.startswith("Warning")]
        if warnings:     # e.g. NaN weights, probabilities instead of logits: the user must see it
            item.setForeground(QtGui.QBrush(QtGui.QColor("#b35900")))
            show_error(self, f"{model.info.model_id} loaded with a warning", "\n\n".join(warnings))
        for note in model.info.notes:
            self.statusBar().showMessage(f"{model.info.model_id}: {note}", 8000)
        self._link_views()
        if self.model_list.currentRow() == i:
            self._on_model_selected(i)
        if self.image is not None and "attack" not in col.results:   # keep results restored from a session
            self._preview(i)
        self._update_enabled()
        self.modelLoaded.emit(i)

    def _model_failed(self, col: ModelColumn, exc: BaseException, details: str) -> None:
        col.load_error = str(exc)
        if col in self.columns:
            self._mark_not_loaded(col, "failed to load")
        from visualizer.gui.dialogs.model_dialog import ModelDialog

        self._error(f"Could not load {col.spec}", ModelDialog.explain_error(exc), details)
        self._update_enabled()

    def _mark_not_loaded(self, col: ModelColumn, state: str) -> None:
        self.model_list.item(self.columns.index(col)).setText(f"{col.spec} — {state}")
        col.attack_view.set_model_title(f"{col.spec} (not loaded)")
        col.sweep_view.set_model_title(f"{col.spec} (not loaded)")

    def remove_selected_model(self) -> None:
        i = self.model_list.currentRow()
        if not 0 <= i < len(self.columns):
            return
        col = self.columns.pop(i)
        for kind in ("attack", "sweep", "preview", "transfer"):
            self.pool.cancel(f"{kind}:{id(col)}")
        self.model_list.takeItem(i)
        col.attack_view.setParent(None)
        col.sweep_view.setParent(None)
        col.attack_view.deleteLater()
        col.sweep_view.deleteLater()
        self._update_enabled()

    def _on_model_selected(self, i: int) -> None:
        self._update_enabled()
        if 0 <= i < len(self.columns) and self.columns[i].ready:
            info = self.columns[i].model.info
            self.form.set_input_size(info.preprocessing.input_size)
            self.form.set_class_names(info.class_names)
        self._sync_prediction()

    def _sync_prediction(self) -> None:
        """Tell the form the selected model's clean top-1, so it refuses a targeted attack
        towards it before Run (the core refuses it again in the worker)."""
        col = self._selected_column()
        clean = self._clean_cache.get(id(col)) if col is not None else None
        self.form.set_prediction(clean[1][0]["class"] if clean else None)

    def _link_views(self) -> None:
        """Zoom one image view, all follow: link views of columns with the same input size."""
        by_size: dict[int, list] = {}
        for col in self.columns:
            if col.ready:
                by_size.setdefault(col.input_side, []).extend(col.attack_view.image_views())
        for views in by_size.values():
            for v in views[1:]:
                v.setXLink(views[0])
                v.setYLink(views[0])

    def _preview(self, i: int) -> None:
        col = self.columns[i]
        if not col.ready or self.image is None:
            return
        model, image = col.model, self.image

        def job():
            x, _ = preprocess(image, model.info.preprocessing)
            return x[0].numpy(), top_k(class_probabilities(model, x)[0], model.info.class_names)

        self._start(f"preview:{id(col)}", call_in_worker(job),
                    on_finished=lambda res, c=col: self._show_clean(c, res), label=None)

    def _show_clean(self, col: ModelColumn, res) -> None:
        if col in self.columns:
            self._clean_cache[id(col)] = res
            col.attack_view.show_clean(*res)
            self._sync_prediction()

    # ------------------------------------------------------------------ runs
    def run(self, all_models: bool = False) -> None:
        if self.image is None:
            self._error("No image", "Open an image first (File > Open, drag and drop, or paste).")
            return
        if not self.form.is_valid():
            self._error("Invalid parameters", "Fix the highlighted fields first.")
            return
        kind = self.form.current_kind()
        targets = [c for c in self.columns if c.ready] if all_models else [self._selected_column()]
        targets = [c for c in targets if c is not None and c.ready]
        if not targets:
            self._error("No model", "Load a model first (Models > Add model…), and wait until it has loaded.")
            return
        try:
            if kind == "saliency":
                self._run_saliency(targets)
            else:
                for col in targets:
                    self._run_on_column(kind, col)
        except VisualizerError as exc:
            self._error("Cannot run", str(exc))
            return
        self.tabs.setCurrentIndex(TABS.index(kind))

    def _selected_column(self) -> ModelColumn | None:
        i = self.model_list.currentRow()
        return self.columns[i] if 0 <= i < len(self.columns) else None

    def _run_on_column(self, kind: str, col: ModelColumn) -> None:
        model, image = col.model, self.image
        label = self.form.label()
        if kind == "attack":
            params = self.form.attack_params()
            target = self.form.target() if params.targeted else None
            names = model.info.class_names
            clean_view = self._clean_cache.get(id(col))
            col.attack_view.clear()
            col.attack_view.set_model_title(model.info.model_id)
            if clean_view is not None:
                col.attack_view.show_clean(*clean_view, target=target, params=params.resolved().to_dict())

            def on_progress(e, c=col):
                top = [{"class": int(k), "label": names[int(k)], "prob": float(p)}
                       for p, k in zip(e.topk_prob[0].tolist(), e.topk_class[0].tolist())]
                adv = e.adversarial[0].detach().cpu().numpy() if e.adversarial is not None else None
                c.attack_view.show_progress(e.done - 1, e.total, float(e.loss[0]), float(e.ref_prob[0]),
                                            None if e.target_prob is None else float(e.target_prob[0]), top, adv)
                self._progress(e.done, e.total, f"attack:{id(c)}")

            self._start(f"attack:{id(col)}",
                        lambda token: attack_run(model, image, params, label=label, target=target, cancel=token,
                                                 report_images=True),
                        on_progress=on_progress, on_finished=lambda run, c=col: self._attack_done(c, run),
                        label=f"{params.method.upper()} on {model.info.model_id}")
        else:
            params = self.form.spatial_params()
            col.sweep_view.clear()
            self._start(f"sweep:{id(col)}",
                        lambda token: sweep_run(model, image, params, label=label, cancel=token),
                        on_progress=lambda e, c=col: self._progress(e.done, e.total, f"sweep:{id(c)}"),
                        on_finished=lambda run, c=col: self._sweep_done(c, run),
                        label=f"Sweep on {model.info.model_id}")

    def _attack_done(self, col: ModelColumn, run) -> None:
        if col not in self.columns:
            return
        art = attack_artifacts(run)
        col.results["attack"] = art
        col.last_attack_run = run
        col.attack_view.show_result(art.record, art.arrays["clean"], art.arrays["adversarial"])
        self._finish_message(art.record, col)
        self._update_enabled()           # Transfer becomes possible now, not on the next event
        self.runFinished.emit(f"attack:{self.columns.index(col)}")

    def _sweep_done(self, col: ModelColumn, run) -> None:
        if col not in self.columns:
            return
        art = sweep_artifacts(run)
        col.results["sweep"] = art
        col.sweep_view.show_result(art.record, art.arrays["clean"], art.arrays["worst"])
        self._finish_message(art.record, col)
        self.runFinished.emit(f"sweep:{self.columns.index(col)}")

    def _run_saliency(self, targets: list[ModelColumn]) -> None:
        params = self.form.saliency_params()
        models = [c.model for c in targets]
        image, label = self.image, self.form.label()
        self.saliency_view.clear()
        self._start("saliency", lambda token: compare_saliency(models, image, params, label=label, cancel=token),
                    on_progress=lambda e: self._progress(e.done, e.total, "saliency"),
                    on_finished=lambda comp: self._saliency_done(comp, models, image),
                    label=f"{params.method} saliency")

    def _saliency_done(self, comparison, models, image) -> None:
        if comparison.cancelled and not comparison.maps:
            # The view was cleared when the run started: no stale result may stay exportable.
            self.saliency_result = None
            self.statusBar().showMessage("Saliency cancelled before any model finished", 5000)
            return
        art = saliency_artifacts(comparison, models, image)
        self.saliency_result = art
        from visualizer.core.artifacts import saliency_maps

        self.saliency_view.show_result(art.record, art.arrays["image"].transpose(1, 2, 0),
                                       saliency_maps(art.record, art.arrays))
        if comparison.cancelled:    # the models that finished are kept, like a cancelled attack's best iterate
            self.statusBar().showMessage(f"Saliency cancelled: {len(comparison.maps)} of {len(models)} models shown",
                                         8000)
        self.runFinished.emit("saliency")

    def _show_transformed(self, col: ModelColumn, angle: float, tx: float, ty: float) -> None:
        art = col.results.get("sweep")
        if art is None or not col.ready:
            return
        import torch

        from visualizer.core.attacks.transforms import rotate_translate

        clean = torch.from_numpy(np.asarray(art.arrays["clean"], dtype=np.float32))[None]
        t = lambda v: torch.tensor([float(v)])  # noqa: E731
        moved = rotate_translate(clean, t(angle), t(tx), t(ty))
        probs = class_probabilities(col.model, moved)[0]
        ref = art.record["label"]["class"]
        pred = int(probs.argmax())
        names = col.model.info.class_names
        caption = (f"rotate {angle:+.1f}°, shift ({tx:+.1f}, {ty:+.1f}) px → {names[pred]} ({float(probs[pred]):.2f}); "
                   f"P({names[ref]}) = {float(probs[ref]):.3f}")
        col.sweep_view.show_transformed(moved[0].numpy(), caption)

    def run_transfer(self) -> None:
        source = self._selected_column()
        if source is None or source.last_attack_run is None:
            self._error("Nothing to transfer", "Run an attack on the selected model first.")
            return
        others = [c for c in self.columns if c is not source and c.ready]
        if not others:
            self._error("Nothing to transfer to", "Load a second model to see how it classifies this adversarial image.")
            return
        run = source.last_attack_run
        self._start("transfer", call_in_worker(lambda: transfer_predictions(run, [c.model for c in others])),
                    on_finished=self.transfer_table.show_rows, label="Transfer")
        self.tabs.setCurrentIndex(0)

    def cancel(self) -> None:
        for col in self.columns:
            if f"model:{id(col)}" in self.pool.running():
                col.load_cancelled = True
        self.pool.cancel()
        self.statusBar().showMessage("Cancelling… partial results will be shown.", 3000)

    # ------------------------------------------------------------------ jobs
    def _start(self, slot, make_generator, on_progress=None, on_finished=None, on_failed=None, label: str | None = ""):
        self._job_started[slot] = time.perf_counter()

        def finished(result, s=slot):
            self._job_done(s)
            if on_finished:
                on_finished(result)

        def failed(exc, details, s=slot):
            self._job_done(s)
            if on_failed:
                on_failed(exc, details)
            elif isinstance(exc, VisualizerError):
                self._error("The operation failed", str(exc), details)
            elif is_out_of_memory(exc):     # not a bug: the model, image or sweep is too big here
                self._error("Out of memory", out_of_memory_message(exc), details)
            else:
                self._error("Unexpected error (a bug: please report it with the details)",
                            f"{type(exc).__name__}: {exc}", details)

        if label:
            self.progress.setRange(0, 0)      # busy until the first progress event
            self.progress_label.setText(label + "…")
        self.pool.start(slot, make_generator, on_progress=on_progress, on_finished=finished, on_failed=failed)
        self._update_enabled()
        self.busyChanged.emit(True)

    def _job_done(self, slot) -> None:
        self._job_started.pop(slot, None)
        QtCore.QTimer.singleShot(0, self._after_job)

    def _after_job(self) -> None:
        if not self.pool.busy():
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress_label.setText("Done")
            self.busyChanged.emit(False)
        self._update_enabled()

    def _progress(self, done: int, total: int, slot) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        started = self._job_started.get(slot)
        if started and done:
            elapsed = time.perf_counter() - started
            eta = elapsed * (total - done) / done
            self.progress_label.setText(f"{done}/{total}  ·  {elapsed:.1f} s  ·  ETA {eta:.1f} s")

    def _finish_message(self, record: dict, col: ModelColumn) -> None:
        state = "cancelled, partial result shown" if record.get("cancelled") else "done"
        self.statusBar().showMessage(f"{record['kind'].capitalize()} on {col.title}: {state}", 8000)
        for w in record.get("warnings", []):
            self.statusBar().showMessage(f"Warning: {w}", 12000)

    def _update_enabled(self) -> None:
        has_ready = any(c.ready for c in self.columns)
        can_run = has_ready and self.image is not None and self.form.is_valid()
        for w in (self.run_button, self.act_run):
            w.setEnabled(can_run and self._selected_column() is not None and self._selected_column().ready)
        for w in (self.run_all_button, self.act_run_all):
            w.setEnabled(can_run)
        busy = self.pool.busy()
        self.cancel_button.setEnabled(busy)
        self.act_cancel.setEnabled(busy)
        sel = self._selected_column()
        self.transfer_button.setEnabled(sel is not None and sel.last_attack_run is not None)
        self.remove_model_button.setEnabled(sel is not None)

    def _error(self, title: str, message: str, details: str | None = None) -> None:
        self.last_error = message
        self.statusBar().showMessage(f"{title}: {message}", 10000)
        show_error(self, title, message, details)
        self.errorShown.emit(message)

    # ------------------------------------------------------------------ export
    def attack_results(self) -> list[Artifacts]:
        """Every model's attack result, in column order (for the comparison export)."""
        return [col.results["attack"] for col in self.columns if col.results.get("attack") is not None]

    def _export_comparison(self, choice, formats: tuple[str, ...]) -> dict | None:
        from visualizer.core.export import write_comparison

        try:
            summary, _ = write_comparison(choice.folder, self.attack_results(), overwrite=choice.overwrite,
                                       dpi=choice.dpi, formats=formats)
        except VisualizerError as exc:
            self._error("Export failed", str(exc))
            return None
        self.statusBar().showMessage(f"Exported a comparison of {len(summary['runs'])} models to {choice.folder}", 8000)
        return summary

    def current_artifacts(self) -> Artifacts | None:
        kind = TABS[self.tabs.currentIndex()]
        if kind == "saliency":
            return self.saliency_result
        col = self._selected_column()
        return None if col is None else col.results.get(kind)

    def ask_export(self) -> None:
        from visualizer.gui.dialogs.export_dialog import ExportChoice, ExportDialog

        if self.current_artifacts() is None:
            self._error("Nothing to export", "Run an attack, sweep or saliency first; the current tab's result is exported.")
            return
        dialog = ExportDialog(self, comparable=len(self.attack_results()) if TABS[self.tabs.currentIndex()] == "attack"
                              else 0)
        raw = self.settings.value("export/state")
        if isinstance(raw, str):
            import json

            try:
                dialog.set_choice(ExportChoice.from_dict(json.loads(raw)))
            except (ValueError, TypeError):
                pass
        if dialog.exec() == QtWidgets.QDialog.Accepted:
            import json

            choice = dialog.choice()
            self.settings.setValue("export/state", json.dumps(choice.to_dict()))
            self.export_to(choice)

    def export_to(self, choice, artifacts: Artifacts | None = None) -> dict | None:
        """Write the current tab's result as ``choice`` says (an ExportChoice): the view as
        seen (view.png/.svg/.pdf), the publication figure (figure.*), raw arrays; result.json
        always. Atomic; an existing non-empty folder only with ``choice.overwrite``."""
        from visualizer.core.export import write_run
        from visualizer.gui.view_export import render_widget

        art = artifacts or self.current_artifacts()
        if art is None:
            self._error("Nothing to export", "Run an attack, sweep or saliency first.")
            return None
        formats = tuple(choice.formats())
        if getattr(choice, "comparison", False) and len(self.attack_results()) >= 2:
            return self._export_comparison(choice, formats)
        extra = {}
        if choice.current_view:
            view = self.tabs.currentWidget()
            extra = {f"view.{fmt}": render_widget(view, fmt, choice.dpi) for fmt in formats}
        try:
            record = write_run(choice.folder, art, overwrite=choice.overwrite, dpi=choice.dpi, figure=choice.figure,
                               formats=formats, raw=choice.raw, extra=extra)
        except VisualizerError as exc:
            self._error("Export failed", str(exc))
            return None
        self.statusBar().showMessage(f"Exported to {choice.folder}", 8000)
        return record

    # ------------------------------------------------------------------ sessions
    def ask_save_session(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save session", "", f"Sessions (*{SESSION_SUFFIX})")
        if path:
            if not path.endswith(SESSION_SUFFIX):
                path += SESSION_SUFFIX
            self.save_session(path)

    def session(self) -> Session:
        runs = []
        for i, col in enumerate(self.columns):
            for kind, art in col.results.items():
                runs.append(StoredRun(f"{kind}:{i}", art))
        if self.saliency_result is not None:
            runs.append(StoredRun("saliency", self.saliency_result))
        return Session(
            image_name=self.image.name if self.image else None, image_bytes=self.image_bytes,
            models=[ModelRef(c.spec, c.options) for c in self.columns],
            parameters=self.form.state(), runs=runs, ui={"tab": self.tabs.currentIndex()},
        )

    def save_session(self, path) -> bool:
        try:
            save_session(self.session(), path)
        except VisualizerError as exc:
            self._error("Could not save the session", str(exc))
            return False
        self.statusBar().showMessage(f"Session saved to {path}", 8000)
        return True

    def ask_open_session(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open session", "", f"Sessions (*{SESSION_SUFFIX})")
        if path:
            self.open_session(path)

    def open_session(self, path) -> bool:
        try:
            session = load_session(path)
            image = load_image_bytes(session.image_bytes, session.image_name or "image") if session.image_bytes else None
        except VisualizerError as exc:
            self._error("Could not open the session", str(exc))
            return False
        self.pool.shutdown()
        while self.columns:
            self.model_list.setCurrentRow(0)
            self.remove_selected_model()
        if image is not None:
            self.image, self.image_bytes = image, session.image_bytes
            self._set_image(image, session.image_bytes)
        try:
            self.form.restore_state(session.parameters)
        except (VisualizerError, KeyError, TypeError, ValueError):
            pass
        for ref in session.models:
            self.load_model(ref.spec, ref.options)
        # Results come back from the stored records and arrays; nothing is recomputed.
        for run in session.runs:
            art = run.artifacts
            kind, _, index = run.slot.partition(":")
            if kind == "saliency":
                from visualizer.core.artifacts import saliency_maps

                self.saliency_result = art
                self.saliency_view.show_result(art.record, art.arrays["image"].transpose(1, 2, 0),
                                               saliency_maps(art.record, art.arrays))
                continue
            if not index.isdigit() or int(index) >= len(self.columns):
                continue
            col = self.columns[int(index)]
            col.results[kind] = art
            if kind == "attack":
                col.attack_view.show_result(art.record, art.arrays["clean"], art.arrays["adversarial"])
            elif kind == "sweep":
                col.sweep_view.show_result(art.record, art.arrays["clean"], art.arrays["worst"])
        self.tabs.setCurrentIndex(int(session.ui.get("tab", 0)) % len(TABS))
        self.statusBar().showMessage(f"Session {Path(path).name} reopened", 8000)
        return True

    # ------------------------------------------------------------------ help
    def shortcut_table(self) -> list[tuple[str, str]]:
        rows = []
        for a in self.findChildren(QtGui.QAction):
            if not a.shortcut().isEmpty():
                rows.append((a.shortcut().toString(QtGui.QKeySequence.NativeText), a.text().replace("&", "")))
        return sorted(set(rows), key=lambda r: r[1])

    def show_tutorial(self) -> QtWidgets.QDialog:
        from visualizer.gui.dialogs.tutorial import TutorialDialog

        dialog = TutorialDialog(self)
        dialog.show()
        return dialog

    def show_shortcuts(self) -> QtWidgets.QMessageBox:
        text = "\n".join(f"{keys:<18} {what}" for keys, what in self.shortcut_table())
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, "Keyboard shortcuts", text,
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.setStyleSheet("QLabel { font-family: monospace; }")
        box.open()
        return box

    def about_text(self) -> str:
        import PySide6
        import pyqtgraph
        import torch

        from visualizer import __version__
        from visualizer.core.device import pick_device

        return (f"Adversarial Visualizer {__version__}\n\n"
                f"torch {torch.__version__}, Qt {QtCore.qVersion()} (PySide6 {PySide6.__version__}), "
                f"pyqtgraph {pyqtgraph.__version__}\nCompute device: {pick_device(None)}\n\n"
                "Adversarial examples (FGSM, PGD), spatial sweeps (Engstrom et al. 2018) and saliency of "
                "standard vs robust models (Tsipras et al. 2018).")

    def show_about(self) -> QtWidgets.QMessageBox:
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Information, "About", self.about_text(),
                                    QtWidgets.QMessageBox.StandardButton.Ok, self)
        box.open()
        return box

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event) -> None:  # noqa: N802
        self._save_settings()
        # Cancel running jobs and wait for their threads: nothing may outlive the window.
        self.pool.shutdown()
        super().closeEvent(event)
