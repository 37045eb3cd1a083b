"""The image under study: opening it (File > Open, recent files, the bundled samples, the
clipboard, drag and drop through the window), decoding it off the GUI thread, and the small
preview in the controls dock (a thumbnail beside its name and size: little height, for
small screens). The image itself lives in the lab state."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from visualizer.core.images import load_image_and_bytes, load_image_bytes
from visualizer.core.resources import sample_caption, sample_images, sample_sets
from visualizer.gui.dock_parts import ElidingLabel
from visualizer.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from visualizer.gui.worker import call_in_worker
from visualizer.gui.workspaces.base import WorkspaceContext

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.gif);;All files (*)"
MAX_RECENT = 8
THUMBNAIL = (112, 84)      # px: the preview's largest width and height


class ImageWorkspace(QtCore.QObject):
    imageLoaded = Signal()

    def __init__(self, ctx: WorkspaceContext):
        super().__init__(ctx.window)
        self.ctx = ctx
        self.image_label = QtWidgets.QLabel("No image")
        self.image_label.setAlignment(Qt.AlignCenter)
        self.image_label.setFixedSize(*THUMBNAIL)
        self.image_label.setToolTip("The image under study. Drop a file here, paste (Ctrl+V) or use File > Open.")
        self.image_name = ElidingLabel("")
        self.image_details = QtWidgets.QLabel("")
        self.image_details.setWordWrap(True)
        self.image_details.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.box = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(self.box)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(self.image_label, 0, Qt.AlignTop)
        text = QtWidgets.QVBoxLayout()
        text.addWidget(self.image_name)
        text.addWidget(self.image_details, 1)
        row.addLayout(text, 1)

        self.act_open = ctx.action("&Open image…", self.ask_image, QtGui.QKeySequence.Open, "Open an image file")
        self.act_paste = ctx.action("&Paste image", self.paste_image, QtGui.QKeySequence.Paste,
                                    "Use the image on the clipboard")
        self.recent_menu = QtWidgets.QMenu("Open &recent", ctx.window)
        self.recent_menu.aboutToShow.connect(self.refresh_recent)
        self.samples_menu = self._samples_menu()
        ctx.state.image_changed.connect(self._show)
        self.refresh_recent()

    def _samples_menu(self) -> QtWidgets.QMenu:
        """A small gallery: a submenu per data set's labelled test images (the bundled MNIST and
        Fashion-MNIST models' own), then the photos and digit scans."""
        menu = QtWidgets.QMenu("Sa&mples", self.ctx.window)
        for title, paths in sample_sets():
            sub = menu.addMenu(title)
            sub.setToolTipsVisible(True)
            for path in paths:
                self._add_sample(sub, path, sample_caption(path))
        if menu.actions():
            menu.addSeparator()
        for path in sample_images():
            self._add_sample(menu, path, path.name)
        return menu

    def _add_sample(self, menu: QtWidgets.QMenu, path: Path, text: str) -> None:
        # A thumbnail per sample, nearest neighbour so a 28 px scan stays crisp.
        pixmap = QtGui.QPixmap(str(path))
        icon = QtGui.QIcon(pixmap.scaled(64, 64, Qt.KeepAspectRatio, Qt.FastTransformation)) \
            if not pixmap.isNull() else QtGui.QIcon()
        a = menu.addAction(icon, text)
        a.setData(str(path))
        a.setToolTip(str(path))
        a.triggered.connect(lambda _=False, p=path: self.open_image(p))
        menu.setStyleSheet("QMenu { icon-size: 48px; }")

    # -- opening ----------------------------------------------------------------------------------
    def ask_image(self) -> None:
        start = str(Path(self.recent()[0]).parent) if self.recent() else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.ctx.window, "Open image", start, IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_image(self, path) -> None:
        path = str(path)
        # One read gives both the pixels and the bytes a session keeps: a file deleted or
        # replaced in the meantime cannot make them disagree, or fail as a bug on a re-read.
        self.ctx.status(f"Opening {path}…")
        self.ctx.jobs.start("image", call_in_worker(lambda: load_image_and_bytes(path)),
                            on_finished=lambda res: self.set_image(*res, recent=path))

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
            self.ctx.report_error("Nothing to paste", "The clipboard holds no image.")
            return
        buf = QtCore.QBuffer()
        buf.open(QtCore.QIODevice.WriteOnly)
        qimage.save(buf, "PNG")
        data = bytes(buf.data())
        self.ctx.jobs.start("image", call_in_worker(lambda: (load_image_bytes(data, "clipboard.png"), data)),
                            on_finished=lambda res: self.set_image(*res))

    def set_image(self, image, data: bytes | None, recent: str | None = None) -> None:
        """Make ``image`` the one under study (results made on the previous one are dropped)."""
        self.ctx.state.set_image(image, data)
        if recent:
            self.remember_recent(recent)
        self.ctx.status(f"Opened {image.name}", 5000)
        self.imageLoaded.emit()

    def _show(self, image) -> None:
        if image is None:
            self.image_label.setText("No image")
            self.image_name.setText("")
            self.image_details.setText("")
            return
        h, w = image.height, image.width
        rgb = np.ascontiguousarray((image.pixels * 255).round().astype(np.uint8))
        qimg = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format_RGB888).copy()
        # Nearest neighbour for tiny scans (an 8 x 8 digit stays a digit), smooth for photos.
        mode = Qt.FastTransformation if max(w, h) < THUMBNAIL[1] else Qt.SmoothTransformation
        self.image_label.setPixmap(QtGui.QPixmap.fromImage(qimg).scaled(*THUMBNAIL, Qt.KeepAspectRatio, mode))
        self.image_name.setText(image.name or "image")
        self.image_details.setText("\n".join([f"{w} × {h} px", *image.notes]))

    # -- recent files -----------------------------------------------------------------------------
    def recent(self) -> list[str]:
        value = self.ctx.settings.value("recent/images") or []
        return [value] if isinstance(value, str) else list(value)

    def remember_recent(self, path: str) -> None:
        items = [path] + [p for p in self.recent() if p != path]
        self.ctx.settings.setValue("recent/images", items[:MAX_RECENT])
        self.refresh_recent()

    def refresh_recent(self) -> None:
        """Rebuilt each time the menu opens: a file moved or deleted since shows greyed out."""
        self.recent_menu.clear()
        for p in self.recent():
            exists = Path(p).is_file()
            a = self.recent_menu.addAction(p if exists else f"{p}  (not found)")
            a.setEnabled(exists)
            a.triggered.connect(lambda _=False, path=p: self.open_image(path))
        if self.recent():
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(self.recent()))

    def _clear_recent(self) -> None:
        self.ctx.settings.setValue("recent/images", [])
        self.refresh_recent()
