"""One column per loaded model: its spec, the loaded model (once the worker has loaded it),
its views in each tab, and the latest results shown there."""

from __future__ import annotations

from dataclasses import dataclass, field

from visualizer.core.artifacts import Artifacts


@dataclass
class ModelColumn:
    spec: str
    options: dict                      # LoadOptions fields, JSON-serialisable (sessions, settings)
    title: str
    model: object | None = None        # ClassifierModel once loaded
    load_error: str | None = None
    load_cancelled: bool = False       # Cancel was pressed while the model loaded
    attack_view: object | None = None
    sweep_view: object | None = None
    results: dict[str, Artifacts] = field(default_factory=dict)   # "attack" | "sweep" -> latest
    last_attack_run: object | None = None   # AttackRun, kept for transfer to other models

    @property
    def ready(self) -> bool:
        return self.model is not None

    @property
    def input_side(self) -> int | None:
        return None if self.model is None else self.model.info.preprocessing.input_size
