"""Run folders are written atomically: a failure part-way leaves an earlier run intact and
no half-written folder behind."""

import json

import numpy as np
import pytest

from visualizer.core.artifacts import Artifacts
from visualizer.core.errors import OutputError
from visualizer.core.export import write_run


def artifacts(value: float) -> Artifacts:
    record = {"kind": "attack", "value": value}
    return Artifacts(record=record, arrays={"clean": np.full((1, 4, 4), value, np.float32)},
                     images={"clean": np.full((1, 4, 4), value, np.float32)})


class Exploding:
    """An array-like whose conversion fails, as a full disk or a bug would part-way through."""

    def __array__(self, dtype=None, copy=None):
        raise OSError(28, "No space left on device")


def test_failed_overwrite_keeps_the_previous_run(tmp_path):
    out = tmp_path / "run"
    write_run(out, artifacts(0.25), figure=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = artifacts(0.75)
    bad.arrays["later"] = Exploding()
    with pytest.raises(OutputError, match="No space left on device.*Nothing was changed"):
        write_run(out, bad, figure=False, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]          # no staging folder left behind
    assert json.loads((out / "result.json").read_text())["value"] == 0.25


def test_overwrite_replaces_the_whole_earlier_run_and_nothing_else(tmp_path):
    out = tmp_path / "run"
    write_run(out, artifacts(0.25), figure=False)
    record = json.loads((out / "result.json").read_text())
    (out / "stale.npy").write_bytes(b"from an older run")            # a file the earlier run listed
    (out / "result.json").write_text(json.dumps({**record, "files": {**record["files"], "stale_npy": "stale.npy"}}))
    write_run(out, artifacts(0.5), figure=False, overwrite=True)
    assert not (out / "stale.npy").exists()
    assert np.load(out / "clean.npy")[0, 0, 0] == 0.5
    (out / "mine.txt").write_text("the user's")                      # no run wrote it: never deleted
    with pytest.raises(OutputError, match="holds mine.txt, which no earlier run of this tool wrote"):
        write_run(out, artifacts(0.75), figure=False, overwrite=True)
    assert (out / "mine.txt").read_text() == "the user's" and np.load(out / "clean.npy")[0, 0, 0] == 0.5


def test_destination_that_cannot_be_a_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError):
        write_run(blocker / "run", artifacts(0.1), figure=False)
    with pytest.raises(OutputError, match="not a folder"):
        write_run(blocker, artifacts(0.1), figure=False)


def test_export_steps_count_every_file_and_cancel_leaves_the_old_run(tmp_path):
    from visualizer.core.cancel import CancelToken
    from visualizer.core.errors import ExportCancelled
    from visualizer.core.export import iter_write_run

    out = tmp_path / "run"
    write_run(out, artifacts(0.25), figure=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    steps = iter_write_run(out, artifacts(0.5), figure=False, overwrite=True, cancel=(token := CancelToken()))
    first = next(steps)
    assert (first.done, first.total, first.file) == (0, 3, "clean.png")    # clean.png, clean.npy, result.json
    assert next(steps).file == "clean.npy"
    token.cancel()
    with pytest.raises(ExportCancelled, match="nothing was written"):
        next(steps)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]          # the staging folder is gone


def test_closing_an_export_part_way_removes_its_staging_folder(tmp_path):
    from visualizer.core.export import iter_write_run

    steps = iter_write_run(tmp_path / "run", artifacts(0.5), figure=False)
    next(steps)
    steps.close()                    # what a worker does when the window closes mid-export
    assert list(tmp_path.iterdir()) == []
