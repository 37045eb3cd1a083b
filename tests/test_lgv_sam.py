"""LGV weight snapshots (core/stealing/lgv.py) and sharpness-aware steps (core/training/sam.py):
tiny networks and data, real optimisers, no mocks."""

import pytest
import torch

from visualizer.core.errors import ParameterError
from visualizer.core.stealing.lgv import CycleMembers, MeanLogits, collect_lgv
from visualizer.core.training import sam


def _tiny(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def _data(n: int = 40):
    gen = torch.Generator().manual_seed(1)
    return torch.rand(n, 1, 4, 4, generator=gen), torch.randint(0, 3, (n,), generator=gen)


def test_lgv_collects_count_distinct_snapshots_and_leaves_the_copy_alone():
    model, (x, y) = _tiny(), _data()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    snaps = collect_lgv(model, x, y, count=6, epochs=3, lr=0.1, seed=2, batch_size=10)   # 12 steps, every 2nd kept
    assert len(snaps) == 6
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    flat = [torch.cat([v.flatten() for v in s.values()]) for s in snaps]
    start = torch.cat([v.flatten() for v in before.values()])
    assert all((f - start).norm() > 0 for f in flat)                         # SGD moved away from the copy
    assert all((a - b).norm() > 0 for a, b in zip(flat, flat[1:]))           # and kept moving: distinct snapshots
    again = collect_lgv(model, x, y, count=6, epochs=3, lr=0.1, seed=2, batch_size=10)
    assert all(torch.equal(a[k], b[k]) for a, b in zip(snaps, again) for k in a)   # reproducible from the seed
    other = collect_lgv(model, x, y, count=6, epochs=3, lr=0.1, seed=3, batch_size=10)
    assert not torch.equal(other[0]["1.weight"], snaps[0]["1.weight"])      # another epoch order


def test_lgv_with_sam_takes_other_steps():
    model, (x, y) = _tiny(), _data()
    plain = collect_lgv(model, x, y, count=2, epochs=1, lr=0.1, seed=2, batch_size=10)
    flat = collect_lgv(model, x, y, count=2, epochs=1, lr=0.1, seed=2, batch_size=10, sam_rho=0.5)
    assert not torch.allclose(plain[-1]["1.weight"], flat[-1]["1.weight"])


def test_lgv_refuses_impossible_settings():
    model, (x, y) = _tiny(), _data()
    for kw, words in (({"count": 0}, "count"), ({"lr": 0.0}, "lr"), ({"count": 13}, "steps")):
        args = {"count": 4, "epochs": 3, "lr": 0.1, "seed": 0, "batch_size": 10} | kw
        with pytest.raises(ParameterError, match=words):
            collect_lgv(model, x, y, **args)


def test_cycle_members_take_turns_with_gradients_and_average_without():
    a, b = _tiny(0), _tiny(1)
    x = torch.rand(2, 1, 4, 4, requires_grad=True)
    cycle, mean = CycleMembers([a, b]), MeanLogits([a, b])
    assert torch.allclose(cycle(x), a(x)) and torch.allclose(cycle(x), b(x)) and torch.allclose(cycle(x), a(x))
    with torch.no_grad():
        assert torch.allclose(cycle(x), (a(x) + b(x)) / 2) and torch.allclose(mean(x), (a(x) + b(x)) / 2)


def test_sam_climbs_rho_along_the_gradient_and_comes_back_exactly():
    model, (x, y) = _tiny(), _data()
    params = list(model.parameters())
    before = [p.detach().clone() for p in params]
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    grads = [p.grad.clone() for p in params]
    moved = sam.climb(params, 0.5)
    shift = torch.cat([(p.detach() - q).flatten() for p, q in zip(params, before)])
    assert shift.norm().item() == pytest.approx(0.5, rel=1e-5)
    g = torch.cat([v.flatten() for v in grads])
    assert torch.nn.functional.cosine_similarity(shift, g, dim=0).item() == pytest.approx(1.0, abs=1e-5)
    with torch.no_grad():   # uphill: the loss rises at the moved weights
        assert torch.nn.functional.cross_entropy(model(x), y) > loss.detach()
    sam.come_back(params, moved)
    assert all(torch.allclose(p, q, atol=1e-7) for p, q in zip(params, before))


def test_trainer_takes_sam_steps_and_records_rho(tmp_path):
    from safetensors.torch import load_file
    from support import shared_data

    from visualizer.core.attacks.loop import drive
    from visualizer.core.training import TrainConfig, train_steps

    mnist = f"mnist:{shared_data('mnist')}"
    if not shared_data("mnist").is_dir():
        pytest.skip("needs MNIST in ../shared/data")

    def run(name, rho):
        config = TrainConfig(data=mnist, arch="mnist-cnn", out=str(tmp_path / name), epochs=1, limit=128,
                             batch_size=64, eval_limit=50, eval_attack="none", sam=rho)
        return drive(train_steps(config, device="cpu")).card, load_file(str(tmp_path / name / "model.safetensors"))

    plain_card, plain = run("plain", 0.0)
    sam_card, flat = run("sam", 0.05)
    assert "sam" not in plain_card["recipe"] and sam_card["recipe"]["sam"] == 0.05
    assert any(not torch.equal(plain[k], flat[k]) for k in plain)   # the same seed and data: only SAM differs
    with pytest.raises(ParameterError, match="rho"):
        TrainConfig(data=mnist, arch="mnist-cnn", out=str(tmp_path / "x"), sam=-0.1)
