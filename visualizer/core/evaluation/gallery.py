"""The most confident failures of each model under each threat: the examples the model gets
wrong with the highest probability on its wrong answer, kept as 8-bit images.

Only the best ``size`` per (model, threat) are ever kept, so the state stays small however
many batches run; it is saved beside the finished batches so a resumed run keeps it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from visualizer.core.atomic import write_atomically
from visualizer.core.errors import OutputError

GALLERY_SIZE = 8


@dataclass
class Candidate:
    model: int          # position in the run's model list
    threat: int         # position in the run's threat list
    index: int          # example index in the data set
    label: int
    prediction: int
    confidence: float   # softmax probability of the (wrong) prediction
    image: np.ndarray   # C x H x W uint8, the input that fooled the model


def candidates(model: int, threat: int, indices: list[int], labels: list[int], outcome, is_clean: bool,
               size: int = GALLERY_SIZE) -> list[Candidate]:
    """The batch's best ``size`` failures of one threat (``outcome``: a ThreatOutcome for
    the examples ``indices`` with true classes ``labels``). For
    an attack, only examples an attack broke count (clean mistakes show under 'clean')."""
    wrong = outcome.success.clone()
    if not is_clean:
        wrong &= torch.tensor([a not in ("", "clean") for a in outcome.attack], dtype=torch.bool)
    rows = wrong.nonzero().flatten()
    if rows.numel() == 0:
        return []
    order = rows[outcome.confidence[rows].argsort(descending=True, stable=True)][:size]
    images = (outcome.adversarial[order].clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return [Candidate(model, threat, int(indices[r]), int(labels[r]),
                      int(outcome.prediction[r]), float(outcome.confidence[r]), images[k])
            for k, r in enumerate(order.tolist())]


class Gallery:
    def __init__(self, size: int = GALLERY_SIZE):
        self.size = size
        self.cells: dict[tuple[int, int], list[Candidate]] = {}

    def offer(self, items: list[Candidate]) -> None:
        """Keep the ``size`` most confident per cell; one entry per example (a batch run
        again after a resume offers the same candidates)."""
        for c in items:
            cell = self.cells.setdefault((c.model, c.threat), [])
            if all(old.index != c.index for old in cell):
                cell.append(c)
        for key, cell in self.cells.items():
            cell.sort(key=lambda c: (-c.confidence, c.index))
            del cell[self.size:]

    def get(self, model: int, threat: int) -> list[Candidate]:
        return list(self.cells.get((model, threat), []))

    def save(self, path: str | Path) -> None:
        arrays = {}
        for (m, t), cell in self.cells.items():
            if cell:
                arrays[f"meta_{m}_{t}"] = np.array([[c.index, c.label, c.prediction, c.confidence] for c in cell])
                arrays[f"images_{m}_{t}"] = np.stack([c.image for c in cell])
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_atomically(path, lambda fh: fh.write(buffer.getvalue()), "the gallery state")

    @classmethod
    def load(cls, path: str | Path, size: int = GALLERY_SIZE) -> "Gallery":
        gallery = cls(size)
        if not Path(path).is_file():
            return gallery
        try:
            with np.load(path, allow_pickle=False) as data:
                items = []
                for key in data.files:
                    if not key.startswith("meta_"):
                        continue
                    m, t = (int(v) for v in key[len("meta_"):].split("_"))
                    meta, images = data[key], data[f"images_{m}_{t}"]
                    items += [Candidate(m, t, int(row[0]), int(row[1]), int(row[2]), float(row[3]), images[k])
                              for k, row in enumerate(meta)]
        except (OSError, ValueError, KeyError) as exc:
            raise OutputError(f"The saved gallery {path} cannot be read ({exc}); delete it to start the gallery afresh.")
        gallery.offer(items)
        return gallery
