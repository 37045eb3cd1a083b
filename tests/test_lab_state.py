"""The Qt-free lab state, driven without a window: a real digit model, a real digit scan and
a real attack; what each change emits, what it drops, and the session round trip."""

import json

import numpy as np
import pytest

from support import digit_sample
from visualizer.core.artifacts import attack_artifacts
from visualizer.core.attacks import AttackParams
from visualizer.core.images import load_image_and_bytes
from visualizer.core.lab_state import CANCELLED, READY, LabState
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.runs import attack_run
from visualizer.core.session import load_session, save_session


@pytest.fixture(scope="module")
def digits():
    return load_model("digits-standard", LoadOptions(device="cpu"))


@pytest.fixture(scope="module")
def scan():
    return load_image_and_bytes(digit_sample())


def run_attack(model, image):
    gen = attack_run(model, image, AttackParams(method="pgd", norm="l2", eps=1.0, steps=2))
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def recorder(state):
    seen = []
    for name in ("image_changed", "model_added", "model_removed", "model_changed", "selection_changed",
                 "result_changed", "parameters_changed"):
        getattr(state, name).connect(lambda *args, n=name: seen.append((n, *args)))
    return seen


def test_results_follow_the_image_and_the_models(digits, scan):
    image, data = scan
    state = LabState()
    seen = recorder(state)
    state.set_image(image, data)
    a, b = state.add_model("digits-standard", {"device": "cpu"}), state.add_model("digits-standard", {})
    assert a is not b and state.models == [a, b] and a.status == "loading"
    state.model_loaded(a, digits)
    state.model_failed(b, "", status=CANCELLED)
    assert a.status == READY and a.title == "digits-standard" and b.status == CANCELLED and not b.ready
    assert state.ready_models() == [a]

    run = run_attack(digits, image)
    art = attack_artifacts(run)
    state.set_result(a, "attack", art)
    assert state.results_of_kind("attack") == [art] and state.result(a, "attack") is art
    assert seen[-1] == ("result_changed", a, "attack")

    # A new image drops every result made on the old one, and says so for each.
    del seen[:]
    state.set_image(image, data)
    assert a.results == {} and state.results_of_kind("attack") == []
    assert seen == [("result_changed", a, "attack"), ("image_changed", image)]

    # A removed model takes its results with it; a run finishing after that is not stored.
    state.select(a)
    state.set_result(a, "attack", art)
    del seen[:]
    state.remove_model(a)
    assert state.models == [b] and state.selected is None
    assert seen == [("model_removed", a, 0), ("selection_changed", None)]
    state.set_result(a, "attack", art)
    assert state.results_of_kind("attack") == [] and len(seen) == 2


def test_a_session_is_the_state_serialised(digits, scan, tmp_path):
    image, data = scan
    state = LabState()
    state.set_image(image, data)
    entry = state.add_model("digits-standard", {"device": "cpu"})
    state.model_loaded(entry, digits)
    art = attack_artifacts(run_attack(digits, image))
    state.set_result(entry, "attack", art)
    state.set_result(None, "comparison", art)
    state.set_parameters({"run": "pgd-l2", "fields": {"steps": "2"}})
    save_session(state.to_session({"tab": 0}), tmp_path / "s.advsession")

    session = load_session(tmp_path / "s.advsession")
    other = LabState()
    seen = recorder(other)
    other.set_image(image, session.image_bytes)
    for ref in session.models:
        other.add_model(ref.spec, ref.options)
    other.restore_runs(session.runs)
    restored = other.result(other.models[0], "attack")
    as_saved = json.loads(json.dumps(art.record))            # tuples come back as lists
    assert restored.record == as_saved
    np.testing.assert_array_equal(restored.arrays["adversarial"], art.arrays["adversarial"])
    assert other.result(None, "comparison").record == as_saved
    assert ("result_changed", other.models[0], "attack") in seen and ("result_changed", None, "comparison") in seen
    assert session.parameters == state.parameters and other.image_bytes == data
