"""Cancelling every long core operation: it takes effect at the very next step (no event,
no further attack step, sweep chunk or saliency batch after the cancel), and the partial
result comes back marked cancelled, complete enough to save. Real bundled models, a real
image; the cancel comes from the consumer, as the window's Cancel button sends it."""

import numpy as np
import pytest
import torch

from visualizer.core.artifacts import attack_artifacts, saliency_artifacts, sweep_artifacts
from visualizer.core.attacks import AttackParams
from visualizer.core.attacks.spatial import SpatialParams
from visualizer.core.cancel import CancelToken
from visualizer.core.export import write_run
from visualizer.core.images import load_image
from visualizer.core.models.registry import LoadOptions, load_model
from visualizer.core.resources import sample_images
from visualizer.core.runs import attack_run, sweep_run
from visualizer.core.saliency import SaliencyParams, compare_saliency


@pytest.fixture(scope="module")
def setup():
    image = load_image(next(p for p in sample_images() if p.name.startswith("digit-")))
    models = [load_model(name, LoadOptions(device="cpu")) for name in ("digits-standard", "digits-robust")]
    return image, models


def cancel_after(make, events_before_cancel):
    """Drive the generator ``make(token)``, cancelling once it has yielded
    ``events_before_cancel`` events; return (result, events before, events after the cancel)."""
    token = CancelToken()
    gen = make(token)
    before = after = 0
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value, before, after
        if token.cancelled:
            after += 1
        else:
            before += 1
            if before == events_before_cancel:
                token.cancel()


@pytest.mark.parametrize("restarts", [1, 3])
def test_attack_stops_at_the_next_step_and_keeps_the_best_iterate(setup, restarts):
    image, (model, _) = setup
    params = AttackParams(norm="l2", eps=1.0, steps=1000, restarts=restarts, random_start=restarts > 1)
    run, before, after = cancel_after(lambda t: attack_run(model, image, params, cancel=t), 5)
    r = run.result
    assert (before, after) == (5, 0)
    assert r.cancelled and r.iterates == 5 and r.history_loss.shape == (5, 1)
    assert float((r.adversarial - r.clean).flatten(1).norm(dim=1)) <= 1.0 + 1e-4
    assert float(r.loss[0]) == pytest.approx(float(r.history_loss.max()))       # the best of the 5 evaluated
    record = attack_artifacts(run).record
    assert record["cancelled"] is True and len(record["history"]["loss"]) == 5


def test_sweep_stops_at_the_next_chunk_and_keeps_the_evaluated_cells(setup, tmp_path):
    image, (model, _) = setup
    params = SpatialParams(rotations=61, translations=7, chunk_size=50)         # 2,989 transforms
    run, before, after = cancel_after(lambda t: sweep_run(model, image, params, cancel=t), 3)
    r = run.result
    assert (before, after) == (3, 0)
    assert r.cancelled and r.evaluated == 150
    assert int(torch.isfinite(r.true_prob).sum()) == 150 and int((r.pred == -1).sum()) == 2989 - 150
    # The partial sweep is still a result: its worst transform is one that was evaluated.
    assert int(r.worst_index[0]) < 150
    record = write_run(tmp_path / "sweep", sweep_artifacts(run), figure=False)
    assert record["cancelled"] is True and record["sweep"]["evaluated"] == 150


def test_saliency_keeps_the_models_that_finished(setup, tmp_path):
    image, models = setup
    params = SaliencyParams(method="smoothgrad", smoothgrad_samples=64, batch_size=16)   # 4 batches per model
    comparison, before, after = cancel_after(lambda t: compare_saliency(models, image, params, cancel=t), 6)
    assert (before, after) == (6, 0)                 # cancelled in the second model's second batch
    assert comparison.cancelled and [m.model_id for m in comparison.maps] == ["digits-standard"]
    assert np.isfinite(comparison.maps[0].map_input).all() and comparison.scale > 0
    record = write_run(tmp_path / "sal", saliency_artifacts(comparison, models, image), figure=True, formats=("png",))
    assert record["cancelled"] is True and len(record["saliency"]["maps"]) == 1
    assert (tmp_path / "sal" / "figure.png").stat().st_size > 0


def test_vanilla_saliency_of_several_models_stops_between_models(setup):
    # A vanilla map is a single step: the cancel must be seen between models, or "run on
    # all models" goes on through every remaining one.
    image, models = setup
    params = SaliencyParams(method="vanilla")
    comparison, before, after = cancel_after(lambda t: compare_saliency(models * 2, image, params, cancel=t), 1)
    assert (before, after) == (1, 0)
    assert comparison.cancelled and len(comparison.maps) == 1


def test_cancel_before_the_first_step_returns_an_empty_result(setup):
    image, (model, _) = setup
    token = CancelToken()
    token.cancel()
    gen = sweep_run(model, image, SpatialParams(rotations=5, translations=3, chunk_size=10), cancel=token)
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value.result.cancelled and stop.value.value.result.evaluated == 0
    gen = compare_saliency([model], image, SaliencyParams(method="ig"), cancel=token)
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value.cancelled and stop.value.value.maps == []
