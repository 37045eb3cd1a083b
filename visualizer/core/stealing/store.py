"""The resumable state of a steal experiment in its output folder (``visualizer steal
--resume``): ``.steal-state/`` holds the settings (run.json), the white-box result, and per
defence the finished points with the thief's query images and oracle answers so far
(safetensors), each written atomically after every finished query count. A resumed run
skips the finished counts and never asks the oracle again for answers it holds, so its
query accounting equals an uninterrupted run's."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from visualizer.core.atomic import write_atomically
from visualizer.core.errors import OutputError
from visualizer.core.evaluation.store import _write_json, open_state

STATE_DIR = ".steal-state"


def _defence_file(defence: str) -> str:
    return "defence-" + defence.replace(":", "-")


class StealStore:
    """``settings``: steal settings that decide the result (``StealConfig.fingerprint``).
    Without ``resume`` the folder must be new or empty; with it, a folder holding another
    experiment's settings is refused with the differences named."""

    def __init__(self, out_dir: str | Path, settings: dict, resume: bool):
        self.out_dir = Path(out_dir)
        self.state = self.out_dir / STATE_DIR
        from visualizer.core.stealing.spec import FINGERPRINT_DEFAULTS

        open_state(self.out_dir, self.state, settings, resume, "a steal experiment", FINGERPRINT_DEFAULTS)

    def white_box(self) -> dict | None:
        path = self.state / "white-box.json"
        return self._read_json(path) if path.is_file() else None

    def save_white_box(self, rate: dict) -> None:
        _write_json(self.state / "white-box.json", rate, "the white-box result")

    def run(self, defence: str) -> tuple[dict, torch.Tensor, torch.Tensor, int] | None:
        """(run record so far, query images, oracle answers, oracle queries spent) of a
        defence, or None when none of its counts finished."""
        base = self.state / _defence_file(defence)
        if not (base.with_suffix(".json").is_file() and base.with_suffix(".safetensors").is_file()):
            return None
        from safetensors.torch import load_file

        run = self._read_json(base.with_suffix(".json"))
        try:
            tensors = load_file(str(base.with_suffix(".safetensors")))
        except (OSError, ValueError, RuntimeError) as exc:
            raise OutputError(f"{base.with_suffix('.safetensors')} cannot be read ({exc}); start a new run.") from None
        return run["run"], tensors["images"], tensors["answers"], int(run["oracle_queries"])

    def save_run(self, defence: str, run: dict, images: torch.Tensor, answers: torch.Tensor, queries: int) -> None:
        """The tensors first: a run record never names answers that are not on disk."""
        from safetensors.torch import save

        base = self.state / _defence_file(defence)
        blob = save({"images": images.contiguous(), "answers": answers.contiguous()})
        write_atomically(base.with_suffix(".safetensors"), lambda fh: fh.write(blob), "the oracle answers")
        _write_json(base.with_suffix(".json"), {"run": run, "oracle_queries": queries}, "a finished query count")

    @staticmethod
    def _read_json(path: Path) -> dict:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OutputError(f"{path} cannot be read ({exc}); start a new run in another folder.") from None
