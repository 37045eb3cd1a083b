"""The resumable state of an evaluation in its output folder: ``.evaluation-state/`` holds
the run's settings (run.json), one file per finished batch and the gallery so far, each
written atomically. ``--resume`` reads them back and runs only the batches still missing;
every batch draws its random numbers from its own seed, so the result equals an
uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path

from visualizer.core.atomic import write_atomically
from visualizer.core.errors import OutputError
from visualizer.core.evaluation.gallery import Gallery
from visualizer.core.evaluation.records import BatchRecord
from visualizer.core.resume import changed_settings, nothing_to_resume

STATE_DIR = ".evaluation-state"


def _write_json(path: Path, data: dict, what: str) -> None:
    text = json.dumps(data, indent=None, allow_nan=False).encode("utf-8")
    write_atomically(path, lambda fh: fh.write(text), what)


def open_state(out_dir: Path, state: Path, settings: dict, resume: bool, experiment: str,
               defaults: dict | None = None) -> None:
    """Check ``out_dir`` for a run: with ``resume`` and saved settings in ``state``/run.json,
    they must equal ``settings`` (else OutputError naming the differences); otherwise the
    folder must be new or empty (``resume`` then starts afresh, see core.resume), and
    ``state`` is created with the settings saved.
    ``experiment`` names the run in messages ("an evaluation"); ``defaults``: the values of
    settings left out of a side's ``settings`` (``resume.changed_settings``)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} exists and is not a folder.")
    saved = state / "run.json"
    if resume and saved.is_file():
        try:
            old = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OutputError(f"{saved} cannot be read ({exc}); start a new run in another folder.") from None
        changed = changed_settings(old, settings, defaults)
        if changed:
            raise OutputError(f"{out_dir} holds {experiment} with other settings ({changed}); "
                              "resume with the same settings, or use another folder.")
        return
    what = experiment.split(" ", 1)[1]
    if resume and not nothing_to_resume(out_dir):
        raise OutputError(f"{out_dir} holds no unfinished {what} to resume; choose another folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not resume:
        hint = ""
        if saved.is_file():
            hint = (f" (a finished {what})" if _finished(out_dir) else
                    f" (an unfinished {what}: add --resume to continue it)")
        raise OutputError(f"{out_dir} already holds files{hint}; choose another folder.")
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create {state}: {exc.strerror or exc}.") from None
    _write_json(saved, settings, "the run settings")


def _finished(out_dir: Path) -> bool:
    """Whether the record in ``out_dir`` (evaluation.json or steal.json) says the run ended."""
    for name in ("evaluation.json", "steal.json"):
        try:
            return json.loads((out_dir / name).read_text(encoding="utf-8")).get("complete") is True
        except (OSError, ValueError, AttributeError):
            continue
    return False


class RunStore:
    """``settings``: what makes two runs the same (models and their weights, data, threats,
    batch size, seed). Without ``resume`` the folder must be new or empty."""

    def __init__(self, out_dir: str | Path, settings: dict, resume: bool):
        self.out_dir = Path(out_dir)
        self.state = self.out_dir / STATE_DIR
        self.settings = settings
        open_state(self.out_dir, self.state, settings, resume, "an evaluation")

    def _batch_path(self, batch: int) -> Path:
        return self.state / f"batch-{batch:06d}.json"

    def finished(self) -> list[BatchRecord]:
        records = []
        for path in sorted(self.state.glob("batch-*.json")):
            try:
                records.append(BatchRecord.from_json(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, KeyError) as exc:
                raise OutputError(f"{path} cannot be read ({exc}); delete it and resume to run that batch again.")
        return records

    def gallery(self, size: int) -> Gallery:
        return Gallery.load(self.state / "gallery.npz", size)

    def save(self, record: BatchRecord, gallery: Gallery) -> None:
        """The gallery first: if the process dies between the two writes, the batch runs
        again and offers the gallery the same candidates (kept once)."""
        gallery.save(self.state / "gallery.npz")
        _write_json(self._batch_path(record.batch), record.to_json(), "a finished batch")
