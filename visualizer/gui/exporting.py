"""File > Export: the current tab's result as the user chose in the export dialog (the view
as seen, the publication figure, raw arrays, result.json), or every model's attack with a
comparison figure. The files are written by the core (core/export.py), atomically."""

from __future__ import annotations

import json
from typing import Callable

from visualizer.core.artifacts import Artifacts
from visualizer.core.errors import VisualizerError
from visualizer.gui.qt import QtCore, QtWidgets
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext


class Exporter(QtCore.QObject):
    def __init__(self, ctx: WorkspaceContext, current_tab: Callable[[], TabWorkspace]):
        super().__init__(ctx.window)
        self.ctx = ctx
        self.current_tab = current_tab
        self.act_export = ctx.action("&Export…", self.ask_export, "Ctrl+E",
                                     "Export figures (PNG, SVG, PDF), arrays and result.json")

    def current_artifacts(self) -> Artifacts | None:
        return self.current_tab().current_artifacts()

    def comparison_artifacts(self) -> list[Artifacts]:
        return self.current_tab().comparison_artifacts()

    def ask_export(self) -> None:
        from visualizer.gui.dialogs.export_dialog import ExportChoice, ExportDialog

        if self.current_artifacts() is None:
            self.ctx.report_error("Nothing to export",
                                  "Run an attack, sweep or saliency first; the current tab's result is exported.")
            return
        dialog = ExportDialog(self.ctx.window, comparable=len(self.comparison_artifacts()))
        raw = self.ctx.settings.value("export/state")
        if isinstance(raw, str):
            try:
                dialog.set_choice(ExportChoice.from_dict(json.loads(raw)))
            except (ValueError, TypeError):
                pass
        if dialog.exec() == QtWidgets.QDialog.Accepted:
            choice = dialog.choice()
            self.ctx.settings.setValue("export/state", json.dumps(choice.to_dict()))
            self.export_to(choice)

    def export_to(self, choice, artifacts: Artifacts | None = None) -> dict | None:
        """Write the current tab's result as ``choice`` says (an ExportChoice): the view as
        seen (view.png/.svg/.pdf), the publication figure (figure.*), raw arrays; result.json
        always. Atomic; an existing non-empty folder only with ``choice.overwrite``."""
        from visualizer.core.export import write_run
        from visualizer.gui.view_export import render_widget

        art = artifacts or self.current_artifacts()
        if art is None:
            self.ctx.report_error("Nothing to export", "Run an attack, sweep or saliency first.")
            return None
        formats = tuple(choice.formats())
        if getattr(choice, "comparison", False) and len(self.comparison_artifacts()) >= 2:
            return self._export_comparison(choice, formats)
        extra = {}
        if choice.current_view:
            view = self.current_tab().page
            extra = {f"view.{fmt}": render_widget(view, fmt, choice.dpi) for fmt in formats}
        try:
            record = write_run(choice.folder, art, overwrite=choice.overwrite, dpi=choice.dpi, figure=choice.figure,
                               formats=formats, raw=choice.raw, extra=extra)
        except VisualizerError as exc:
            self.ctx.report_error("Export failed", str(exc))
            return None
        self.ctx.status(f"Exported to {choice.folder}", 8000)
        return record

    def _export_comparison(self, choice, formats: tuple[str, ...]) -> dict | None:
        from visualizer.core.export import write_comparison

        try:
            summary, _ = write_comparison(choice.folder, self.comparison_artifacts(), overwrite=choice.overwrite,
                                          dpi=choice.dpi, formats=formats)
        except VisualizerError as exc:
            self.ctx.report_error("Export failed", str(exc))
            return None
        self.ctx.status(f"Exported a comparison of {len(summary['runs'])} models to {choice.folder}", 8000)
        return summary
