"""Choosing what to export, in which formats, and where. The dialog only asks; the main
window does the writing (figures and arrays come from the core)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

from visualizer.core.errors import OutputError
from visualizer.core.export import DPI_RANGE, check_output_dir
from visualizer.gui.class_picker import ERROR_STYLE
from visualizer.gui.dialogs.path_field import path_field
from visualizer.gui.qt import QtWidgets



@dataclass
class ExportChoice:
    folder: str = ""
    png: bool = True
    dpi: int = 300
    svg: bool = False
    pdf: bool = False
    current_view: bool = True       # the plots as they look on screen
    figure: bool = False            # the composed publication figure
    raw: bool = False               # .npy arrays + result.json
    comparison: bool = False        # every model's attack: one subfolder each + comparison figure
    overwrite: bool = False         # the user agreed to write into a folder that holds files

    def formats(self) -> list[str]:
        return [f for f in ("png", "svg", "pdf") if getattr(self, f)]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ExportChoice":
        """Unknown keys and wrongly typed values (old settings) are ignored."""
        known = {f.name: f for f in fields(cls)}
        kept = {}
        for k, v in (d or {}).items():
            default = getattr(cls, k, None) if k in known else None
            if k in known and type(v) is type(default):
                kept[k] = v
        return cls(**kept)


class ExportDialog(QtWidgets.QDialog):
    """``confirm_overwrite(folder, names) -> bool`` replaces the question box (tests)."""

    def __init__(self, parent=None, choice: ExportChoice | None = None,
                 confirm_overwrite: Callable[[Path, list[str]], bool] | None = None, comparable: int = 0):
        """``comparable``: how many models have an attack result (2 or more offer the comparison)."""
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(480)
        self._confirm = confirm_overwrite
        self._overwrite = False

        self.folder, folder_row = path_field(
            "folder to write into (created if missing)",
            "Everything is written into this folder; it is created if it does not exist.", self._browse)

        self.current_view = QtWidgets.QCheckBox("Current view (the plots as shown)")
        self.figure = QtWidgets.QCheckBox("Publication figure (composed layout)")
        self.raw = QtWidgets.QCheckBox("Raw arrays (.npy, float32) + result.json")
        self.comparison = QtWidgets.QCheckBox(f"All {comparable} models' attacks: comparison figure + every run"
                                              if comparable >= 2 else "All models' attacks (needs 2 or more attacked)")
        self.comparison.setToolTip("One figure with a row per model (perturbations on one colour scale), and each "
                                   "model's run in its own subfolder with its figure, arrays and result.json.")
        self.comparison.setEnabled(comparable >= 2)
        # The comparison writes its own folder layout (every run complete): the other choices
        # do not apply to it, so they are unticked (not only greyed) while it is, and come back after.
        self._single_run_choice: dict[str, bool] = {}
        self.comparison.toggled.connect(self._comparison_toggled)
        self.current_view.setToolTip("Each visible plot, as it looks on screen.")
        self.figure.setToolTip("Clean, perturbation and adversarial images with their predictions in one figure.")
        self.raw.setToolTip("The exact numbers: images and perturbations as float arrays (the adversarial image "
                            "as saved in 8 bits, and the attack's float result), and every setting and prediction "
                            "in result.json.")
        self.png = QtWidgets.QCheckBox("PNG")
        self.dpi = QtWidgets.QSpinBox()
        self.dpi.setRange(*DPI_RANGE)
        self.dpi.setSuffix(" dpi")
        self.dpi.setToolTip("Resolution of PNG files: 300 dpi suits print, 150 the screen.")
        self.png.setToolTip("Raster image; image pixels stay crisp at any dpi.")
        self.svg = QtWidgets.QCheckBox("SVG")
        self.svg.setToolTip("Vector graphics for editing (Inkscape, Illustrator) and the web.")
        self.pdf = QtWidgets.QCheckBox("PDF")
        self.pdf.setToolTip("Vector graphics for LaTeX documents.")
        formats = QtWidgets.QHBoxLayout()
        for w in (self.png, self.dpi, self.svg, self.pdf):
            formats.addWidget(w)
        formats.addStretch(1)
        self.png.toggled.connect(self.dpi.setEnabled)

        what = QtWidgets.QVBoxLayout()
        for w in (self.current_view, self.figure, self.raw, self.comparison):
            what.addWidget(w)
        form = QtWidgets.QFormLayout()
        form.addRow("Folder", folder_row)
        form.addRow("Export", what)
        form.addRow("Formats", formats)

        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.set_choice(choice or ExportChoice())

    def _comparison_toggled(self, on: bool) -> None:
        boxes = {name: getattr(self, name) for name in ("current_view", "figure", "raw")}
        if on:
            self._single_run_choice = {name: box.isChecked() for name, box in boxes.items()}
        for name, box in boxes.items():
            box.setChecked(False if on else self._single_run_choice.get(name, box.isChecked()))
            box.setEnabled(not on)

    def set_choice(self, choice: ExportChoice) -> None:
        self.folder.setText(choice.folder)
        self.comparison.setChecked(False)
        for name in ("png", "svg", "pdf", "current_view", "figure", "raw"):
            getattr(self, name).setChecked(getattr(choice, name))
        self.comparison.setChecked(choice.comparison and self.comparison.isEnabled())
        self.dpi.setValue(choice.dpi)
        self.dpi.setEnabled(choice.png)

    def choice(self) -> ExportChoice:
        return ExportChoice(folder=self.folder.text().strip(), png=self.png.isChecked(), dpi=self.dpi.value(),
                            svg=self.svg.isChecked(), pdf=self.pdf.isChecked(),
                            current_view=self.current_view.isChecked(), figure=self.figure.isChecked(),
                            raw=self.raw.isChecked(), comparison=self.comparison.isChecked(),
                            overwrite=self._overwrite)

    def state(self) -> dict:
        d = self.choice().to_dict()
        d.pop("overwrite")   # agreeing to overwrite one folder is not a standing permission
        if self.comparison.isChecked():
            d.update(self._single_run_choice)     # what to write for one run, next time
        return d

    def restore_state(self, d: dict) -> None:
        self.set_choice(ExportChoice.from_dict(d))

    def _problem(self, c: ExportChoice) -> str:
        if not c.folder:
            return "Choose a folder to export into."
        if not (c.current_view or c.figure or c.raw or c.comparison):
            return "Choose what to export."
        if (c.current_view or c.figure or c.comparison) and not c.formats():
            return "Choose at least one image format (PNG, SVG or PDF)."
        try:
            check_output_dir(Path(c.folder).expanduser(), overwrite=True)   # exists as a file?
        except OutputError as exc:
            return str(exc)
        return ""

    def accept(self) -> None:
        c = self.choice()
        problem = self._problem(c)
        if problem:
            self.message.setText(problem)
            self.message.show()
            return
        folder = Path(c.folder).expanduser()
        names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        self._overwrite = bool(names)
        if names and not self._ask_overwrite(folder, names):
            self._overwrite = False
            return   # stay open: the user may pick another folder
        self.message.hide()
        super().accept()

    def overwrite_box(self, folder: Path, names: list[str]) -> QtWidgets.QMessageBox:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "Folder is not empty",
                                    f"{folder} already holds {len(names)} item(s): {shown}.\n\n"
                                    "That earlier export will be replaced as a whole (a folder holding anything "
                                    "else is never offered). Export there anyway?",
                                    QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
                                    self)
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.No)   # losing results must be deliberate
        box.setObjectName("overwrite_prompt")
        return box

    def _ask_overwrite(self, folder: Path, names: list[str]) -> bool:
        if self._confirm is not None:
            return bool(self._confirm(folder, names))
        box = self.overwrite_box(folder, names)
        answer = box.exec()
        box.deleteLater()
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def _browse(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Export into folder", self.folder.text())
        if path:
            self.folder.setText(path)
