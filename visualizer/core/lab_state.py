"""The lab's state, without Qt: the image under study, the loaded models, each model's latest
result per kind of run, results over all models (saliency), and the run parameters.

Every change goes through a method here, and each method emits a psygnal signal once the
state is consistent. Views (the window's workspaces and panels) subscribe and redraw from
the state; jobs write their results into it; a session file is its serialisation
(``to_session`` / ``restore_runs``). Because nothing else keeps results, a view cannot show
a result the state has dropped (a removed model's, one made on another image). Like
napari's ``ViewerModel``, a test can drive it without a window.

All methods are meant to be called on one thread (the GUI thread in the app): signals are
emitted synchronously, on the caller's thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from psygnal import Signal

from visualizer.core.artifacts import Artifacts
from visualizer.core.session import ModelRef, Session, StoredRun

LOADING, READY, FAILED, CANCELLED = "loading", "ready", "failed", "cancelled"


@dataclass(eq=False)                   # identity, not value: the same spec can be loaded twice
class ModelEntry:
    """One loaded (or loading) model and its latest results."""

    spec: str                          # as given to load_model, e.g. "digits-robust", "ckpt:/x.pt"
    options: dict                      # LoadOptions fields, JSON-serialisable (sessions, settings)
    title: str
    model: object | None = None        # ClassifierModel once loaded
    status: str = LOADING              # loading | ready | failed | cancelled
    load_error: str | None = None
    load_cancelled: bool = False       # Cancel was pressed while the model loaded
    results: dict[str, Artifacts] = field(default_factory=dict)   # kind ("attack", "sweep") -> latest

    @property
    def ready(self) -> bool:
        return self.model is not None

    @property
    def input_side(self) -> int | None:
        return None if self.model is None else self.model.info.preprocessing.input_size


class LabState:
    """Image, models, results and parameters, with change signals (see the module docstring)."""

    image_changed = Signal(object)            # LoadedImage | None; every result was dropped before
    model_added = Signal(object)              # ModelEntry (status "loading")
    model_removed = Signal(object, int)       # ModelEntry, the index it had
    model_changed = Signal(object)            # ModelEntry: loaded, failed or cancelled
    selection_changed = Signal(object)        # ModelEntry | None
    result_changed = Signal(object, str)      # ModelEntry (None: a result over all models), kind
    parameters_changed = Signal(dict)         # the run parameters, as ParamsForm.state() gives them

    def __init__(self) -> None:
        self.image = None                       # LoadedImage
        self.image_bytes: bytes | None = None   # the file as read: sessions keep it
        self.models: list[ModelEntry] = []
        self.selected: ModelEntry | None = None
        self.shared: dict[str, Artifacts] = {}  # kind -> a result over several models ("saliency")
        self.parameters: dict = {}

    # -- image ------------------------------------------------------------------------------------
    def set_image(self, image, data: bytes | None) -> None:
        """A new image: every result belonged to the old one and is dropped first."""
        self.image, self.image_bytes = image, data
        for entry in self.models:
            for kind in list(entry.results):
                self.clear_result(entry, kind)
        for kind in list(self.shared):
            self.clear_result(None, kind)
        self.image_changed.emit(image)

    # -- models -----------------------------------------------------------------------------------
    def add_model(self, spec: str, options: dict, title: str | None = None) -> ModelEntry:
        entry = ModelEntry(spec=spec, options=dict(options), title=title or spec)
        self.models.append(entry)
        self.model_added.emit(entry)
        return entry

    def remove_model(self, entry: ModelEntry) -> None:
        if entry not in self.models:
            return
        index = self.models.index(entry)
        self.models.remove(entry)
        self.model_removed.emit(entry, index)     # a view may select a neighbour here
        if self.selected is entry:
            self.select(None)

    def restore_model(self, entry: ModelEntry, index: int) -> None:
        """Put back a removed entry (undo), at ``index``, with its model and results: the
        views hear it added, loaded (or failed) and each of its results set, in that order."""
        if entry in self.models:
            return
        self.models.insert(max(0, min(index, len(self.models))), entry)
        self.model_added.emit(entry)
        if entry.status != LOADING:
            self.model_changed.emit(entry)
        for kind in list(entry.results):
            self.result_changed.emit(entry, kind)

    def model_loaded(self, entry: ModelEntry, model) -> None:
        entry.model, entry.status, entry.title = model, READY, model.info.model_id
        self.model_changed.emit(entry)

    def model_failed(self, entry: ModelEntry, message: str, status: str = FAILED) -> None:
        """Loading failed (``status`` FAILED) or was cancelled (CANCELLED); no model."""
        entry.load_error = message if status == FAILED else entry.load_error
        entry.model, entry.status = None, status
        self.model_changed.emit(entry)

    def ready_models(self) -> list[ModelEntry]:
        return [e for e in self.models if e.ready]

    def display_name(self, entry: ModelEntry) -> str:
        """``entry``'s model id for a column title: a checkpoint's file (or folder) name, not
        its whole path, where that tells the loaded models apart (as figures and transfer
        ids name them); the spec while the model is not loaded."""
        from visualizer.core.evaluation.presentation import display_names

        if not entry.ready:
            return entry.spec
        ready = self.ready_models()
        return display_names([e.model.info.model_id for e in ready])[ready.index(entry)]

    def index_of(self, entry: ModelEntry) -> int:
        return self.models.index(entry)

    def select(self, entry: ModelEntry | None) -> None:
        if entry is not None and entry not in self.models:
            entry = None
        if entry is not self.selected:
            self.selected = entry
            self.selection_changed.emit(entry)

    # -- results ----------------------------------------------------------------------------------
    def set_result(self, entry: ModelEntry | None, kind: str, artifacts: Artifacts) -> None:
        """The latest ``kind`` result of ``entry`` (None: over all models)."""
        if entry is None:
            self.shared[kind] = artifacts
        elif entry in self.models:
            entry.results[kind] = artifacts
        else:
            return                       # the model was removed while its run finished
        self.result_changed.emit(entry, kind)

    def clear_result(self, entry: ModelEntry | None, kind: str) -> None:
        store = self.shared if entry is None else entry.results
        if store.pop(kind, None) is not None:
            self.result_changed.emit(entry, kind)

    def result(self, entry: ModelEntry | None, kind: str) -> Artifacts | None:
        return (self.shared if entry is None else entry.results).get(kind)

    def results_of_kind(self, kind: str) -> list[Artifacts]:
        """Every model's ``kind`` result, in model order."""
        return [e.results[kind] for e in self.models if kind in e.results]

    # -- parameters -------------------------------------------------------------------------------
    def set_parameters(self, parameters: dict) -> None:
        if parameters != self.parameters:
            self.parameters = dict(parameters)
            self.parameters_changed.emit(self.parameters)

    # -- sessions ---------------------------------------------------------------------------------
    def to_session(self, ui: dict | None = None) -> Session:
        """The state as a Session: slots "kind:index" for per-model results, "kind" for shared."""
        runs = [StoredRun(f"{kind}:{i}", art) for i, e in enumerate(self.models) for kind, art in e.results.items()]
        runs += [StoredRun(kind, art) for kind, art in self.shared.items()]
        return Session(image_name=self.image.name if self.image is not None else None, image_bytes=self.image_bytes,
                       models=[ModelRef(e.spec, e.options) for e in self.models], parameters=dict(self.parameters),
                       runs=runs, ui=dict(ui or {}))

    def restore_runs(self, runs: list[StoredRun]) -> None:
        """Put stored results back (after the session's models were added); slots naming a
        model that is not there are skipped. Nothing is recomputed."""
        for run in runs:
            kind, _, index = run.slot.partition(":")
            if not index:
                self.set_result(None, kind, run.artifacts)
            elif index.isdigit() and int(index) < len(self.models):
                self.set_result(self.models[int(index)], kind, run.artifacts)
