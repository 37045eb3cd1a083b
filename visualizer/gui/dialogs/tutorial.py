"""Help > Tutorial: docs/tutorial.md with its figures, offline. The wheel (and the
PyInstaller bundle) carry it as visualizer/resources/docs/; a source checkout has it in docs/.
"""

from __future__ import annotations

from pathlib import Path

from visualizer.gui.qt import Qt, QtCore, QtGui, QtWidgets


def tutorial_path() -> Path | None:
    """tutorial.md, installed or in the checkout; None if neither has it."""
    from visualizer.core.resources import resources_dir

    try:
        resources = resources_dir()
    except FileNotFoundError:
        return None
    for candidate in (resources / "docs" / "tutorial.md", resources.parent / "docs" / "tutorial.md"):
        if candidate.is_file():
            return candidate
    return None


class TutorialBrowser(QtWidgets.QTextBrowser):
    """A markdown browser whose images shrink to the viewport width (the tutorial's figures
    are 1400 px wide) and never grow past their own size."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        self._natural: dict[str, QtCore.QSize] = {}
        self.sourceChanged.connect(lambda _url: self.fit_images())

    def _image_fragments(self):
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                if it.fragment().charFormat().isImageFormat():
                    yield it.fragment()
                it += 1
            block = block.next()

    def image_formats(self) -> list[QtGui.QTextImageFormat]:
        return [f.charFormat().toImageFormat() for f in self._image_fragments()]

    def image_names(self) -> list[str]:
        return [fmt.name() for fmt in self.image_formats()]

    def image(self, name: str) -> QtGui.QImage:
        """The image the document shows for ``name`` (loaded relative to the markdown file)."""
        data = self.document().resource(QtGui.QTextDocument.ResourceType.ImageResource, QtCore.QUrl(name))
        if isinstance(data, QtGui.QPixmap):
            return data.toImage()
        return data if isinstance(data, QtGui.QImage) else QtGui.QImage()

    def fit_images(self) -> None:
        width = max(100, self.viewport().width() - 2 * int(self.document().documentMargin()) - 4)
        cursor = QtGui.QTextCursor(self.document())
        for fragment in list(self._image_fragments()):
            fmt = fragment.charFormat().toImageFormat()
            natural = self._natural.get(fmt.name())
            if natural is None:
                natural = self._natural[fmt.name()] = self.image(fmt.name()).size()
            if natural.width() <= 0:
                continue
            w = min(width, natural.width())
            fmt.setWidth(w)
            fmt.setHeight(w * natural.height() / natural.width())
            cursor.setPosition(fragment.position())
            cursor.setPosition(fragment.position() + fragment.length(), QtGui.QTextCursor.MoveMode.KeepAnchor)
            cursor.setCharFormat(fmt)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fit_images()


class TutorialDialog(QtWidgets.QDialog):
    def __init__(self, parent: QtWidgets.QWidget | None = None, path: Path | None = None):
        super().__init__(parent)
        self.setWindowTitle("Tutorial")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.path = path if path is not None else tutorial_path()
        self.browser = TutorialBrowser(self)
        if self.path is not None:
            self.browser.setSearchPaths([str(self.path.parent)])
            self.browser.setSource(QtCore.QUrl.fromLocalFile(str(self.path)),
                                   QtGui.QTextDocument.ResourceType.MarkdownResource)
        else:
            self.browser.setPlainText("The tutorial (docs/tutorial.md) is not part of this installation.")
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        if self.path is not None:
            folder = buttons.addButton("Open &folder", QtWidgets.QDialogButtonBox.ButtonRole.ActionRole)
            folder.setToolTip(str(self.path.parent))
            folder.clicked.connect(lambda: QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(self.path.parent))))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(900, 760)
