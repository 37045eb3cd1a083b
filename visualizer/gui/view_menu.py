"""The View menu: the controls dock, one entry per tab (Ctrl+1, Ctrl+2, ... in tab order, so
a new tab gets the next one), resetting the zoom of the images shown (Ctrl+0; a double-click
on an image does the same), and the colour scheme (light, dark, or the system's)."""

from __future__ import annotations

from visualizer.gui.color_scheme import SCHEMES, SETTINGS_KEY, apply_scheme, scheme_name
from visualizer.gui.qt import QtCore, QtGui, QtWidgets


def reset_zoom(page: QtWidgets.QWidget) -> int:
    """Show every image of ``page`` whole again; how many views were reset."""
    from visualizer.gui.panels.image_views import ImageViewBox
    from visualizer.gui.qt import pg

    views = [item for gv in page.findChildren(pg.GraphicsView) for item in gv.scene().items()
             if isinstance(item, ImageViewBox)]
    for view in views:
        view.reset_zoom()
    return len(views)


class ViewMenu(QtCore.QObject):
    def __init__(self, window: QtWidgets.QMainWindow, menu: QtWidgets.QMenu, tabs: QtWidgets.QTabWidget,
                 settings: QtCore.QSettings):
        super().__init__(window)
        self.tabs, self.settings = tabs, settings
        menu.addAction(window.dock.toggleViewAction())
        menu.addSeparator()
        self.tab_group = QtGui.QActionGroup(self)
        self.tab_actions: list[QtGui.QAction] = []
        for i in range(tabs.count()):
            action = QtGui.QAction(tabs.tabText(i), window, checkable=True)
            if i < 9:
                action.setShortcut(QtGui.QKeySequence(f"Ctrl+{i + 1}"))
            action.setStatusTip(f"Show the {tabs.tabText(i)} tab")
            action.triggered.connect(lambda _=False, i=i: tabs.setCurrentIndex(i))
            self.tab_group.addAction(action)
            self.tab_actions.append(action)
            menu.addAction(action)
        tabs.currentChanged.connect(self._tab_shown)
        self._tab_shown(tabs.currentIndex())
        menu.addSeparator()
        self.act_reset_zoom = QtGui.QAction("&Reset zoom", window)
        self.act_reset_zoom.setShortcut(QtGui.QKeySequence("Ctrl+0"))
        self.act_reset_zoom.setStatusTip("Show the whole images again (or double-click an image)")
        self.act_reset_zoom.triggered.connect(lambda: reset_zoom(tabs.currentWidget()))
        menu.addAction(self.act_reset_zoom)

        schemes = menu.addMenu("&Colour scheme")
        self.scheme_group = QtGui.QActionGroup(self)
        self.scheme_actions: dict[str, QtGui.QAction] = {}
        current = scheme_name(settings.value(SETTINGS_KEY))
        for name, text in SCHEMES:
            action = QtGui.QAction(text, window, checkable=True)
            action.setChecked(name == current)
            action.triggered.connect(lambda _=False, n=name: self.set_scheme(n))
            self.scheme_group.addAction(action)
            self.scheme_actions[name] = action
            schemes.addAction(action)
        if current != "system":          # the system's is what the app starts with anyway
            apply_scheme(current)

    def set_scheme(self, name: str) -> None:
        name = scheme_name(name)
        self.scheme_actions[name].setChecked(True)
        self.settings.setValue(SETTINGS_KEY, name)
        apply_scheme(name)

    def _tab_shown(self, index: int) -> None:
        if 0 <= index < len(self.tab_actions):
            self.tab_actions[index].setChecked(True)
