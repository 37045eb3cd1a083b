"""Session files: everything comes back without recomputation; bad files give clear errors."""

import io
import json
import zipfile

import numpy as np
import pytest

from visualizer.core.artifacts import attack_artifacts, saliency_artifacts, sweep_artifacts
from visualizer.core.attacks import AttackParams, drive
from visualizer.core.attacks.spatial import SpatialParams
from visualizer.core.images import load_image
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.resources import sample_images
from visualizer.core.runs import attack_run, sweep_run
from visualizer.core.saliency import SaliencyParams, compare_saliency
from visualizer.core.session import ModelRef, Session, SessionError, StoredRun, load_session, save_session


@pytest.fixture(scope="module")
def session_with_runs():
    path = next(p for p in sample_images() if p.name.startswith("digit-"))
    image = load_image(path)
    std = load_model("digits-standard", LoadOptions(device="cpu"))
    rob = load_model("digits-robust", LoadOptions(device="cpu"))
    attack = attack_artifacts(drive(attack_run(std, image, AttackParams(norm="l2", eps=1.0, steps=5))))
    sweep = sweep_artifacts(drive(sweep_run(rob, image, SpatialParams(rotations=5, translations=3))))
    sal = saliency_artifacts(drive(compare_saliency([std, rob], image, SaliencyParams())), [std, rob], image)
    return Session(
        image_name=path.name, image_bytes=path.read_bytes(),
        models=[ModelRef("digits-standard", {"device": "cpu"}), ModelRef("digits-robust", {})],
        parameters={"kind": "attack", "eps": "1.0"},
        runs=[StoredRun("attack:0", attack), StoredRun("sweep:1", sweep), StoredRun("saliency", sal)],
        ui={"tab": 2},
    )


def test_round_trip_restores_records_arrays_and_image(tmp_path, session_with_runs):
    s = session_with_runs
    path = save_session(s, tmp_path / "study.advsession")
    back = load_session(path)
    assert back.image_bytes == s.image_bytes and back.image_name == s.image_name
    assert [(m.spec, m.options) for m in back.models] == [(m.spec, m.options) for m in s.models]
    assert back.parameters == s.parameters and back.ui == s.ui
    assert [r.slot for r in back.runs] == ["attack:0", "sweep:1", "saliency"]
    for a, b in zip(s.runs, back.runs):
        assert json.loads(json.dumps(a.artifacts.record)) == b.artifacts.record
        assert a.artifacts.arrays.keys() == b.artifacts.arrays.keys()
        for name in a.artifacts.arrays:
            np.testing.assert_array_equal(np.asarray(a.artifacts.arrays[name]), b.artifacts.arrays[name])
    # The stored adversarial image is the saved one: on the clean input's 8-bit grid, inside
    # eps (L2 1.0), classified as the record says; the float result is stored beside it.
    attack = back.runs[0].artifacts
    moved = (attack.arrays["adversarial"].astype(np.float64) - attack.arrays["clean"]) * 255
    assert np.abs(moved - moved.round()).max() < 1e-3 and np.sqrt((moved.round() ** 2).sum()) / 255 <= 1.0
    np.testing.assert_allclose(attack.arrays["perturbation"] * 255, moved, atol=1e-3)
    assert attack.record["quantization"]["within_budget"] and "adversarial_float" in attack.arrays
    # The figures can be rebuilt from what was stored alone.
    for run in back.runs:
        fig = run.artifacts.figure()
        assert len(fig.axes) >= 2


def test_session_holds_no_pickles(tmp_path, session_with_runs):
    path = save_session(session_with_runs, tmp_path / "s.advsession")
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".npy"):
                arr = np.load(io.BytesIO(zf.read(name)), allow_pickle=False)
                assert arr.dtype != object


def test_saving_over_a_file_is_atomic_on_failure(tmp_path, session_with_runs):
    target = tmp_path / "keep.advsession"
    save_session(session_with_runs, target)
    before = target.read_bytes()
    bad = Session(parameters={"x": float("nan")})       # not valid JSON: the save must fail
    with pytest.raises(SessionError):
        save_session(bad, target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.advsession"]


def test_unwritable_destination_gives_a_clear_error(tmp_path, session_with_runs):
    # A "folder" that is really a file cannot hold the session, even for root.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(SessionError, match="Could not write the session"):
        save_session(session_with_runs, blocker / "x.advsession")


@pytest.mark.parametrize("content,needle", [
    (b"", "not a session file"),
    (b"hello, I am text", "not a session file"),
])
def test_garbage_files_are_refused(tmp_path, content, needle):
    p = tmp_path / "bad.advsession"
    p.write_bytes(content)
    with pytest.raises(SessionError, match=needle):
        load_session(p)


def _zip(tmp_path, manifest, extra=None):
    p = tmp_path / "made.advsession"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("session.json", manifest if isinstance(manifest, str) else json.dumps(manifest))
        for k, v in (extra or {}).items():
            zf.writestr(k, v)
    return p


def test_future_version_wrong_format_damaged_members(tmp_path):
    with pytest.raises(SessionError, match="newer version"):
        load_session(_zip(tmp_path, {"format": "adversarial-visualizer-session", "format_version": 99}))
    with pytest.raises(SessionError, match="not an Adversarial Visualizer session"):
        load_session(_zip(tmp_path, {"format": "something-else", "format_version": 1}))
    with pytest.raises(SessionError, match="not valid JSON"):
        load_session(_zip(tmp_path, "{nope"))
    manifest = {"format": "adversarial-visualizer-session", "format_version": 1,
                "runs": [{"slot": "attack:0", "record": {}, "arrays": {"clean": "runs/0/clean.npy"}}]}
    with pytest.raises(SessionError, match="missing"):
        load_session(_zip(tmp_path, manifest))
    with pytest.raises(SessionError, match="cannot be read"):
        load_session(_zip(tmp_path, manifest, {"runs/0/clean.npy": b"not numpy"}))
    # A pickled object array is refused rather than unpickled.
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(SessionError):
        load_session(_zip(tmp_path, manifest, {"runs/0/clean.npy": buf.getvalue()}))
