"""The app's dialogs: loading a model, exporting results, showing errors."""

from visualizer.gui.dialogs.error_dialog import show_error
from visualizer.gui.dialogs.export_dialog import ExportChoice, ExportDialog
from visualizer.gui.dialogs.model_dialog import ModelDialog

__all__ = ["ExportChoice", "ExportDialog", "ModelDialog", "show_error"]
