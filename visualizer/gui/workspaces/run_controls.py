"""What the tabs with their own settings (Train, Poison, Black box's query attack and steal)
share: a run button and a Cancel wired to the tab's job slot, the row that holds them, and
the settings form remembered in QSettings from one launch to the next."""

from __future__ import annotations

import json

from visualizer.core.errors import VisualizerError
from visualizer.gui.qt import QtWidgets


class RunControls:
    """``run_button`` (calls ``on_run``) and ``cancel_button`` (cancels the job in ``slot``)."""

    def __init__(self, ctx, slot: str, run_text: str, run_tip: str, cancel_tip: str, on_run):
        self.ctx, self.slot = ctx, slot
        self.run_button = QtWidgets.QPushButton(run_text)
        self.run_button.setToolTip(run_tip)
        self.run_button.clicked.connect(on_run)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setToolTip(cancel_tip)
        self.cancel_button.clicked.connect(lambda: ctx.jobs.cancel(slot))

    def running(self) -> bool:
        return self.ctx.jobs.running(self.slot)

    def take_request(self, setup, key: str, refused: str, remember_refused: bool = False):
        """``setup.request()`` for a new run, its settings remembered (QSettings ``key``) for
        the next launch; None when a run is already going, or after one message titled
        ``refused`` when the settings are refused (remembered all the same with
        ``remember_refused``)."""
        if self.running():
            return None
        if remember_refused:
            remember(self.ctx, key, setup)
        try:
            request = setup.request()
        except VisualizerError as exc:
            self.ctx.report_error(refused, str(exc))
            return None
        if not remember_refused:
            remember(self.ctx, key, setup)
        return request

    def row(self, *extra: QtWidgets.QWidget) -> QtWidgets.QHBoxLayout:
        """The run button (stretched), Cancel, then ``extra`` buttons."""
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.run_button, 1)
        for button in (self.cancel_button, *extra):
            row.addWidget(button)
        return row


def restore_remembered(ctx, key: str, setup) -> None:
    """The settings of the last run (QSettings ``key``, JSON) back into ``setup``; called
    before the window listens to ``setup``, while the window is still being built. An old or
    damaged value is skipped: it must never stop the window from opening."""
    raw = ctx.settings.value(key)
    if isinstance(raw, str):
        try:
            setup.restore_state(json.loads(raw))
        except (ValueError, TypeError, AttributeError):
            pass


def remember(ctx, key: str, setup) -> None:
    """Keep ``setup``'s settings for the next launch (see restore_remembered)."""
    ctx.settings.setValue(key, json.dumps(setup.state()))
