"""Tabs built when they are first needed, so the window starts without them.

The Evaluate, Train and Black box tabs import most of the core (evaluation, training,
poisoning, model stealing) and build several plots: about a third of the window's start-up
for tabs most sessions never open. Each is registered as a ``LazySpec``; the window gets a
``LazyTab`` in its place, an empty page in the tab bar that the tab's own page fills the
first time it is shown or anything of it is asked for (a test's ``tab.setup``, a session
that holds something of it, Run). Until then it takes no part: no controls, no menu
entries, nothing to enable, nothing kept in a session or for Undo.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from visualizer.gui.qt import QtCore, QtWidgets, Signal


@dataclass(frozen=True)
class LazySpec:
    """Where the tab's class is (``module``, ``name``) and what the window needs to know of
    it before it is built: its TabWorkspace class attributes, checked against the class by
    the tests (tests/gui/test_lazy_tabs.py)."""

    module: str
    name: str
    kind: str
    title: str
    needs_image: bool
    needs_model: bool
    uses_form: bool

    def load(self) -> type:
        return getattr(importlib.import_module(self.module), self.name)


class LazyTab(QtCore.QObject):
    """Stands for a tab until it is built, then passes everything on to it: ``page`` is the
    tab bar's widget throughout (the tab's own page inside it), ``runFinished`` repeats the
    tab's, and any other attribute is the built tab's."""

    runFinished = Signal(str)

    def __init__(self, spec: LazySpec, ctx):
        super().__init__(ctx.window)
        self._spec, self._ctx, self._tab = spec, ctx, None
        self.kind, self.title = spec.kind, spec.title
        self.needs_image, self.needs_model, self.uses_form = spec.needs_image, spec.needs_model, spec.uses_form
        self.page = QtWidgets.QWidget()
        QtWidgets.QVBoxLayout(self.page).setContentsMargins(0, 0, 0, 0)

    def is_built(self) -> bool:
        return self._tab is not None

    def built(self):
        """The tab itself, built now if it was not."""
        if self._tab is None:
            tab = self._spec.load()(self._ctx)
            self._tab = tab
            self.page.layout().addWidget(tab.page)
            tab.page.show()         # now, not when the layout's queued show comes (a shown tab must show it)
            tab.runFinished.connect(self.runFinished)
            tab.catch_up()
            self._ctx.refresh()
        return self._tab

    def __getattr__(self, name: str):
        # only for what this object lacks; its own fields are looked up before any build
        if name.startswith("__") or name in ("_spec", "_ctx", "_tab"):
            raise AttributeError(name)
        return getattr(self.built(), name)

    # -- what the window asks of every tab while it starts and on every change ----------------------
    def controls(self) -> list[QtWidgets.QWidget]:
        return []

    def actions(self) -> list:
        return []

    def update_enabled(self) -> None:
        if self._tab is not None:
            self._tab.update_enabled()

    # -- sessions and Undo ask every tab what it keeps: a tab never built keeps nothing -------------
    def session_data(self) -> dict:
        return self._tab.session_data() if self._tab is not None else {}

    def restore_session_data(self, data: dict) -> None:
        if self._tab is not None or data:
            self.built().restore_session_data(data)
