"""The model dialog's fields for how a file's network is built and fed: the architecture
(including ``py:FILE.py:NAME``, with a button to pick the Python file), its constructor
arguments (JSON, like ``--arch-kwargs``) and the input channel count (``--channels``).

Checks reuse the core's functions and never run the user's Python file: that happens when
the model loads, in the worker thread, and only when the file is trusted.
"""

from __future__ import annotations

import sys
from pathlib import Path

from visualizer.core.errors import ParameterError
from visualizer.gui.qt import QtWidgets

CHANNELS = ((None, "automatic"), (3, "3 (RGB)"), (1, "1 (grayscale)"))


def arch_field(parent: QtWidgets.QWidget) -> tuple[QtWidgets.QLineEdit, QtWidgets.QHBoxLayout]:
    """The architecture line edit and its row, with a "Python file…" button that fills in
    ``py:PATH:`` (keeping a NAME already typed) for the user's own network class."""
    edit = QtWidgets.QLineEdit()
    edit.setPlaceholderText("e.g. wrn-28-10, preact-resnet18, timm:resnet50, py:my_model.py:Net")
    edit.setToolTip("The network the weights belong to: wrn-DEPTH-WIDTH, preact-resnet18, timm:NAME, "
                    "torchvision:NAME, or py:FILE.py:NAME for a class or function NAME in your own Python file "
                    "(running that file needs \"Trust this file\").")
    button = QtWidgets.QPushButton("Python file…")
    button.setToolTip("Choose the .py file that defines your network; then type the class or function name "
                      "after the last colon.")

    def browse() -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(parent, "Choose the Python file defining the network",
                                                        "", "Python files (*.py);;All files (*)")
        if path:
            set_py_file(edit, path)

    button.clicked.connect(browse)
    row = QtWidgets.QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return edit, row


def set_py_file(edit: QtWidgets.QLineEdit, path: str) -> None:
    """Point the architecture at ``path``, keeping the NAME of a py: architecture already typed."""
    from visualizer.core.models.user_arch import is_py_arch, split_py_arch

    name = ""
    if is_py_arch(edit.text()):
        try:
            name = split_py_arch(edit.text())[1]
        except ParameterError:
            pass
    edit.setText(f"py:{path}:{name}")
    edit.setFocus()
    edit.end(False)


def kwargs_field() -> QtWidgets.QLineEdit:
    edit = QtWidgets.QLineEdit()
    edit.setPlaceholderText('JSON, e.g. {"transform_input": false}; empty: the defaults')
    edit.setToolTip("Keyword arguments for the architecture's constructor, as a JSON object (like --arch-kwargs): "
                    "the arguments of your own class or function for py:, or flags of timm:/torchvision: networks "
                    "that the weights cannot reveal, such as inception_v3's transform_input.")
    return edit


def channels_combo() -> QtWidgets.QComboBox:
    combo = QtWidgets.QComboBox()
    for value, text in CHANNELS:
        combo.addItem(text, value)
    combo.setToolTip("Colour channels the network takes (like --channels). automatic: the architecture's, or the "
                     "network's first convolution, else 3. One Mean/Std value then serves every channel.")
    return combo


def set_channels(combo: QtWidgets.QComboBox, value) -> None:
    i = combo.findData(value if value in (1, 3) else None)
    combo.setCurrentIndex(max(i, 0))


def check_arch(text: str, kwargs: dict | None, trust: bool) -> str:
    """The architecture text if loading could use it, else the error loading would give
    (without running a py: file or importing timm on the GUI thread)."""
    from visualizer.core.models.arch import ARCH_FORMS, resolve_arch
    from visualizer.core.models.user_arch import check_py_arch, is_py_arch

    text = text.strip()
    if not text:
        raise ParameterError("A checkpoint file needs its architecture: say which network the weights belong "
                             f"to ({', '.join(ARCH_FORMS)}).")
    if is_py_arch(text):
        check_py_arch(text, trust)
        return text
    if text.lower().startswith("timm:") and "timm" not in sys.modules:
        return text   # checking would import timm (seconds); the loader checks it in its thread
    resolve_arch(text, kwargs)
    return text


def py_file_of(text: str) -> Path | None:
    """The Python file a py: architecture names (for resetting trust when it changes)."""
    from visualizer.core.models.user_arch import is_py_arch, split_py_arch

    if not is_py_arch(text):
        return None
    try:
        return split_py_arch(text)[0]
    except ParameterError:
        return None
