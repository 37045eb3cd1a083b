"""File > Export: the current tab's result as the user chose in the export dialog (the view
as seen, the publication figure, raw arrays, result.json), or every model's attack with a
comparison figure. The files are written by the core (core/export.py), atomically, in a
worker with progress and Cancel: the window stays responsive, and a cancelled export
leaves the destination as it was.

Only what must touch widgets happens on the GUI thread: the quick checks (something to
export, a destination that may be written), and recording the view's painting in small
slices (view_export.ViewRecorder). Rasterising that recording, matplotlib's figures and
the files are the worker's."""

from __future__ import annotations

import json
import threading
from typing import Callable

from visualizer.core.artifacts import Artifacts
from visualizer.core.errors import ExportCancelled, VisualizerError
from visualizer.gui.qt import QtCore, QtWidgets, Signal
from visualizer.gui.worker import call_in_worker
from visualizer.gui.workspaces.base import TabWorkspace, WorkspaceContext

SLOT = "export"
WARM_UP_SLOT = "export-warm-up"


class Exporter(QtCore.QObject):
    exportFinished = Signal(object)   # what was written (result.json's or comparison.json's dict), or None

    def __init__(self, ctx: WorkspaceContext, current_tab: Callable[[], TabWorkspace]):
        super().__init__(ctx.window)
        self.ctx = ctx
        self.current_tab = current_tab
        self.act_export = ctx.action("&Export…", self.ask_export, "Ctrl+E",
                                     "Export figures (PNG, SVG, PDF), arrays and result.json")

    def warm_up(self) -> None:
        """Once the window is first idle, import and initialise what an export needs
        (matplotlib, its PDF and SVG backends, fontTools' subsetter, the fonts: over 300
        modules) in a quiet job. Left to the first export, that import ran in the export's
        worker, and the GUI thread's garbage collections then walked its objects, 30-40 ms
        each; done now, it is collected once and frozen when the job ends (gc_policy), and
        the first export is a second faster. The app's entry point calls this."""
        jobs = self.ctx.jobs

        def start(busy: bool) -> None:
            if not busy:
                jobs.busyChanged.disconnect(start)
                jobs.start(WARM_UP_SLOT, call_in_worker(_import_export_libraries), label=None,
                           on_failed=lambda *_: None)      # an export would report the same failure

        def when_idle() -> None:      # after the jobs queued at start-up (the default model) began
            jobs.busyChanged.connect(start)
            if not jobs.busy():
                start(False)

        QtCore.QTimer.singleShot(0, when_idle)

    def current_artifacts(self) -> Artifacts | None:
        return self.current_tab().current_artifacts()

    def comparison_artifacts(self) -> list[Artifacts]:
        return self.current_tab().comparison_artifacts()

    def running(self) -> bool:
        return self.ctx.jobs.running(SLOT)

    def ask_export(self) -> None:
        from visualizer.gui.dialogs.export_dialog import ExportChoice, ExportDialog

        if self.current_tab().export_own_files():
            return
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

    # -- starting ---------------------------------------------------------------------------------
    def export_to(self, choice, artifacts: Artifacts | None = None) -> bool:
        """Start writing the current tab's result as ``choice`` says (an ExportChoice): the
        view as seen (view.png/.svg/.pdf), the publication figure (figure.*), raw arrays;
        result.json always; or, with ``choice.comparison``, every model's attack. Atomic; an
        existing non-empty folder only with ``choice.overwrite``. Returns whether it started;
        ``exportFinished`` always follows, with what was written or None (refused, failed,
        cancelled), so a caller can wait for it."""
        from visualizer.core.export import check_output_dir

        art = artifacts or self.current_artifacts()
        if self.running():
            return self._refuse("Export is busy", "An export is still being written; wait for it or cancel it.")
        if art is None:
            return self._refuse("Nothing to export", "Run an attack, sweep or saliency first.")
        try:
            check_output_dir(choice.folder, choice.overwrite)     # refused at once, before any work
        except VisualizerError as exc:
            return self._refuse("Export failed", str(exc))
        formats = tuple(choice.formats())
        runs = self.comparison_artifacts() if getattr(choice, "comparison", False) else []
        if len(runs) >= 2:
            self._start(choice, lambda token: self._comparison_job(choice, runs, formats, token))
        elif choice.current_view and formats:
            from visualizer.gui.view_export import ViewRecorder

            view = _Handover()
            self._start(choice, lambda token: self._run_job(choice, art, formats, view, token))
            tab = self.current_tab()
            # A tab with its own settings beside its results (Black box) exports the results.
            ViewRecorder(getattr(tab, "view_widget", None) or tab.page, view.put)
        else:
            self._start(choice, lambda token: self._run_job(choice, art, formats, None, token))
        return True

    def _refuse(self, title: str, message: str) -> bool:
        self.ctx.report_error(title, message)
        self.exportFinished.emit(None)
        return False

    def _start(self, choice, make_generator) -> None:
        jobs = self.ctx.jobs
        jobs.start(SLOT, make_generator,
                   on_progress=lambda step: jobs.report_progress(step.done, step.total, SLOT, step.file),
                   on_finished=lambda written: self._finished(choice, written),
                   on_failed=self._failed, label="Export")

    # -- in the worker ----------------------------------------------------------------------------
    @staticmethod
    def _run_job(choice, art: Artifacts, formats: tuple[str, ...], view: "_Handover | None", token):
        from visualizer.core.export import ExportStep, iter_write_run
        from visualizer.core.figure_child import save_figure_in_child
        from visualizer.gui.view_playback import render_view

        snapshot = None
        if view is not None:         # the GUI thread records the view meanwhile, in slices
            yield ExportStep(0, 1, "recording the view")
            while not view.ready.wait(0.02):
                if token.cancelled:
                    raise ExportCancelled(f"Export to {choice.folder} cancelled: nothing was written there.")
            snapshot = view.snapshot
        # The recorded view is played into its files when their turn comes: the PNG here, in
        # the worker; SVG and PDF in a child process (view_playback.py: no GIL shared).
        views = {f"view.{fmt}": (lambda f=fmt: render_view(snapshot, f, choice.dpi))
                 for fmt in (formats if snapshot is not None else ())}
        return (yield from iter_write_run(choice.folder, art, overwrite=choice.overwrite, dpi=choice.dpi,
                                          figure=choice.figure, formats=formats, raw=choice.raw, extra=views,
                                          cancel=token, figure_writer=save_figure_in_child))

    @staticmethod
    def _comparison_job(choice, runs: list[Artifacts], formats: tuple[str, ...], token):
        from visualizer.core.export import iter_write_comparison
        from visualizer.core.figure_child import save_comparison_in_child, save_figure_in_child

        # Every figure in a child process (figure_child.py: matplotlib holds the GIL for long).
        summary, _ = yield from iter_write_comparison(choice.folder, runs, overwrite=choice.overwrite,
                                                      dpi=choice.dpi, formats=formats, cancel=token,
                                                      figure_writer=save_figure_in_child,
                                                      comparison_writer=save_comparison_in_child)
        return summary

    # -- ending -----------------------------------------------------------------------------------
    def _finished(self, choice, written: dict) -> None:
        if written.get("kind") == "attack_comparison":
            self.ctx.status(f"Exported a comparison of {len(written['runs'])} models to {choice.folder}", 8000)
        else:
            self.ctx.status(f"Exported to {choice.folder}", 8000)
        self.exportFinished.emit(written)

    def _failed(self, exc: BaseException, details: str) -> None:
        if isinstance(exc, ExportCancelled):
            self.ctx.status(str(exc), 8000)
        elif isinstance(exc, VisualizerError):
            self.ctx.report_error("Export failed", str(exc))
        else:
            self.ctx.jobs.explain_failure(exc, details)
        self.exportFinished.emit(None)



class _Handover:
    """The recorded view, passed from the GUI thread to the export's worker."""

    def __init__(self):
        self.ready = threading.Event()
        self.snapshot = None

    def put(self, snapshot) -> None:
        self.snapshot = snapshot
        self.ready.set()


def _import_export_libraries() -> None:
    """A tiny figure saved in every format into memory: imports exactly what savefig needs."""
    import io

    from matplotlib.figure import Figure

    import visualizer.core.figures  # noqa: F401  (the figure code and its style)

    figure = Figure(figsize=(1, 1))
    figure.add_subplot().set_title("x")
    for fmt in ("png", "pdf", "svg"):
        figure.savefig(io.BytesIO(), format=fmt)
    from PySide6 import QtSvg  # noqa: F401  (the view's SVG)
