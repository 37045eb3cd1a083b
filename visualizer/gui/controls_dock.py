"""The controls dock on the left of the window: the image and the models (sections that fold
to their title), the run parameters, Run and Run on all, each tab's own controls
(Transfer), and the progress bar with Cancel.

Laid out for small windows too: at 1000 x 700 the thumbnail sits beside the image's name,
the model list is only as tall as its rows, rarely changed options are folded into "More
options", and long texts are elided (whole text in the tooltip) instead of widening the
dock; the parameters scroll only if the user opens everything in a very small window."""

from __future__ import annotations

from visualizer.core.formatting import ellipsize
from visualizer.gui.dock_parts import Section
from visualizer.gui.qt import QtWidgets, Qt

WIDTH_SHARE = 0.24              # of the window's width, on first launch: the rest shows the models
WIDTH_RANGE = (270, 360)        # px


def first_width(window_width: int) -> int:
    """The dock's width on first launch: a share of the window, within WIDTH_RANGE."""
    return int(min(max(window_width * WIDTH_SHARE, WIDTH_RANGE[0]), WIDTH_RANGE[1]))


class ControlsDock(QtWidgets.QDockWidget):
    def __init__(self, window, image_workspace, models_workspace, form, workspaces, jobs, settings):
        super().__init__("Controls", window)
        self.setObjectName("controls")
        self.setFeatures(QtWidgets.QDockWidget.DockWidgetMovable | QtWidgets.QDockWidget.DockWidgetFloatable)
        controls = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(controls)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(4)
        self.image_section = Section("image", "Image", image_workspace.box, settings)
        self.models_section = Section("models", "Models", models_workspace.box, settings)
        lay.addWidget(self.image_section)
        lay.addWidget(self.models_section)
        lay.addWidget(_rule())

        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Never narrower than the form: with no horizontal bar, it would be cut off instead.
        bar = scroll.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_ScrollBarExtent)
        scroll.setMinimumWidth(form.minimumSizeHint().width() + bar)
        self.form_scroll = scroll
        lay.addWidget(scroll, 1)

        run_row = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setToolTip("Run the chosen attack, sweep or saliency on the selected model (Ctrl+R)")
        self.run_all_button = QtWidgets.QPushButton("Run on all")
        self.run_all_button.setToolTip("Run it on every loaded model at once (Ctrl+Shift+R)")
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.run_all_button)
        lay.addLayout(run_row)
        for ws in workspaces:
            for widget in ws.controls():
                lay.addWidget(widget)
        jobs.add_to(lay)
        self.setWidget(controls)

        state = image_workspace.ctx.state
        state.image_changed.connect(self._image_changed)
        for signal in (state.model_added, state.model_removed):
            signal.connect(lambda *_: self.models_section.setText(f"Models ({len(state.models)})"))

    def _image_changed(self, image) -> None:
        # The name stays readable when the section is folded; short, so it never widens the dock.
        self.image_section.setText("Image" if image is None else f"Image: {ellipsize(image.name or 'image', 24)}")


def _rule() -> QtWidgets.QFrame:
    line = QtWidgets.QFrame()
    line.setFrameShape(QtWidgets.QFrame.Shape.HLine)
    line.setFrameShadow(QtWidgets.QFrame.Shadow.Sunken)
    return line
