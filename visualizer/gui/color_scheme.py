"""Light, dark, or whatever the system uses (View > Colour scheme; remembered in settings).

Where the platform lets an application choose its colour scheme (Qt's
``QStyleHints.setColorScheme``: Windows, macOS, recent GNOME and KDE), the native style
follows it. Elsewhere (other Linux desktops, Xvfb) the window gets an explicit palette,
which the Fusion style draws. Either way the application palette changes, and every plot
recolours itself on that change (panels/theme.py: ThemedWidget)."""

from __future__ import annotations

from visualizer.gui.qt import QtCore, QtGui, QtWidgets

SCHEMES = (("system", "Follow the &system"), ("light", "&Light"), ("dark", "&Dark"))
SETTINGS_KEY = "view/color_scheme"

_Role, _Group = QtGui.QPalette.ColorRole, QtGui.QPalette.ColorGroup
_DARK = {
    _Role.Window: "#2d2d2d", _Role.WindowText: "#e6e6e6", _Role.Base: "#1f1f1f", _Role.AlternateBase: "#292929",
    _Role.ToolTipBase: "#3a3a3a", _Role.ToolTipText: "#e6e6e6", _Role.PlaceholderText: "#8f8f8f",
    _Role.Text: "#e6e6e6", _Role.Button: "#383838", _Role.ButtonText: "#e6e6e6", _Role.BrightText: "#ff7b72",
    _Role.Link: "#6cb6ff", _Role.LinkVisited: "#b392f0", _Role.Highlight: "#2f6fc9", _Role.HighlightedText: "#ffffff",
    _Role.Light: "#555555", _Role.Midlight: "#444444", _Role.Mid: "#333333", _Role.Dark: "#1a1a1a",
    _Role.Shadow: "#000000",
}
_DARK_DISABLED = {_Role.WindowText: "#7d7d7d", _Role.Text: "#7d7d7d", _Role.ButtonText: "#7d7d7d",
                  _Role.Highlight: "#4a4a4a", _Role.HighlightedText: "#9a9a9a"}


def dark_palette() -> QtGui.QPalette:
    palette = QtGui.QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QtGui.QColor(colour))
    for role, colour in _DARK_DISABLED.items():
        palette.setColor(_Group.Disabled, role, QtGui.QColor(colour))
    return palette


def light_palette() -> QtGui.QPalette:
    return QtWidgets.QApplication.style().standardPalette()


def scheme_name(value) -> str:
    """A remembered setting as one of the SCHEMES' names ("system" for anything else)."""
    return value if value in dict(SCHEMES) else "system"


def apply_scheme(name: str) -> None:
    """Make the whole application light, dark, or follow the system again."""
    app = QtWidgets.QApplication.instance()
    hints = app.styleHints()
    wanted = {"light": QtCore.Qt.ColorScheme.Light, "dark": QtCore.Qt.ColorScheme.Dark}.get(scheme_name(name))
    if wanted is None:
        hints.unsetColorScheme()
        app.setPalette(QtGui.QPalette())          # nothing set: the platform's own palette again
    else:
        hints.setColorScheme(wanted)
        if hints.colorScheme() == wanted:
            app.setPalette(QtGui.QPalette())      # the platform switched; its style has the right palette
        else:
            app.setPalette(dark_palette() if wanted == QtCore.Qt.ColorScheme.Dark else light_palette())
    # A widget with a style sheet keeps the palette it was polished with: polish it again.
    for widget in app.allWidgets():
        if widget.styleSheet():
            widget.setStyleSheet(widget.styleSheet())


def is_dark(palette: QtGui.QPalette | None = None) -> bool:
    palette = palette or QtWidgets.QApplication.palette()
    return palette.color(_Role.Window).lightnessF() < palette.color(_Role.WindowText).lightnessF()
