"""The attack loop's transfer options on the bundled mnist-standard and real MNIST test
images: the margin loss reaches (and stops at) its confidence kappa, MI-FGSM momentum
keeps the direction of past gradients, input diversity keeps shapes and gradients, bad
values give one message, and the defaults stay plain PGD."""

import pytest
import torch

from mnist_fixtures import single_thread  # noqa: F401 (fixture)
from mnist_support import MNIST_DIR, MNIST_SPEC
from visualizer.core.attacks.loop import run_attack
from visualizer.core.attacks.params import AttackParams
from visualizer.core.attacks.transferability import Momentum, diverse_inputs, margin_objective
from visualizer.core.errors import ParameterError

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs MNIST in ../shared/data")


@pytest.fixture(scope="module")
def model_and_digits():
    from visualizer.core.data import load_dataset
    from visualizer.core.models.registry import LoadOptions, load_model

    model = load_model("mnist-standard", LoadOptions(device="cpu"))
    test = load_dataset(MNIST_SPEC, "test", preprocessing=model.info.preprocessing, limit=24)
    x, y = test.batch(torch.arange(24))
    with torch.no_grad():
        keep = model(x).argmax(1) == y
    return model, x[keep], y[keep]


def _true_margin(logits, y):
    return margin_objective(logits, y, None, None)


def test_margin_loss_pushes_to_kappa_and_stops_there(single_thread, model_and_digits):
    model, x, y = model_and_digits
    kappa = 4.0
    params = AttackParams(eps=0.3, steps=30, loss="margin", kappa=kappa, random_start=False)
    result = run_attack(model, x, y, params)
    with torch.no_grad():
        margin = _true_margin(model(result.adversarial), y)
        clean = _true_margin(model(x), y)
    assert (clean < 0).all()                                # correctly classified: wrong by a negative margin
    assert (margin >= kappa - 1e-4).float().mean() >= 0.9   # pushed kappa logits past the boundary...
    assert torch.all(result.loss <= kappa + 1e-6)           # ...and the objective is capped there
    assert not any("gradient was exactly zero" in w for w in result.warnings)   # a capped margin is not masking
    # without the cap the same attack keeps pushing past kappa
    uncapped = run_attack(model, x, y, AttackParams(eps=0.3, steps=30, loss="margin", random_start=False))
    with torch.no_grad():
        assert _true_margin(model(uncapped.adversarial), y).mean() > margin.mean()


def test_targeted_margin_is_the_target_logit_over_the_best_other():
    logits = torch.tensor([[1.0, 5.0, 2.0], [3.0, 0.0, 1.0]])
    y, t = torch.tensor([0, 0]), torch.tensor([1, 2])
    assert torch.allclose(margin_objective(logits, y, t, None), torch.tensor([3.0, -2.0]))
    assert torch.allclose(margin_objective(logits, y, None, 2.5), torch.tensor([2.5, -2.0]))


def test_momentum_accumulates_normalised_gradients():
    g = torch.ones(1, 1, 2, 2)
    m = Momentum(1.0)
    assert torch.allclose(m.update(g.clone()), g)                   # mean |g| = 1: the first step is g
    # a reversed gradient half as large, normalised to the same scale, cancels the history
    # exactly, where plain PGD would already step the other way
    assert torch.allclose(m.update(-0.5 * g), torch.zeros_like(g))
    step = m.update(torch.tensor([[[[1.0, -3.0], [0.0, 0.0]]]]))    # mean |g| = 1
    assert torch.allclose(step, torch.tensor([[[[1.0, -3.0], [0.0, 0.0]]]]))
    assert Momentum(0.0).update(-0.5 * g) is not None and torch.equal(Momentum(0.0).update(-0.5 * g), -0.5 * g)


def test_input_diversity_keeps_shape_and_gradient():
    x = torch.rand(3, 1, 28, 28, requires_grad=True)
    gen = torch.Generator().manual_seed(0)
    outs = [diverse_inputs(x, 1.0, gen) for _ in range(8)]
    assert all(o.shape == x.shape for o in outs)
    assert any(not torch.equal(o, x) for o in outs)              # some draws rescale and shift
    outs[-1].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert diverse_inputs(x, 0.0, gen) is x


def test_defaults_are_plain_pgd(single_thread, model_and_digits):
    model, x, y = model_and_digits
    plain = run_attack(model, x, y, AttackParams(eps=0.1, steps=5, random_start=True))
    explicit = run_attack(model, x, y, AttackParams(eps=0.1, steps=5, random_start=True, loss="ce", momentum=0.0,
                                                    diversity=0.0, kappa=None))
    assert torch.equal(plain.adversarial, explicit.adversarial)
    moved = run_attack(model, x, y, AttackParams(eps=0.1, steps=5, random_start=True, momentum=1.0))
    assert not torch.equal(plain.adversarial, moved.adversarial)


@pytest.mark.parametrize("kwargs, words", [
    ({"loss": "hinge"}, "Unknown attack loss"),
    ({"kappa": 2.0}, "with loss margin"),
    ({"loss": "margin", "kappa": -1.0}, "positive"),
    ({"momentum": -1.0}, "Momentum"),
    ({"diversity": 1.5}, "probability"),
])
def test_bad_transfer_options_give_one_message(kwargs, words):
    with pytest.raises(ParameterError, match=words):
        AttackParams(**kwargs)


def test_records_name_the_transfer_options_only_when_used():
    """Plain PGD's record (and so its card entries and resume fingerprints) is what it was
    before these options existed; a record with them round-trips."""
    from visualizer.core.attacks.params import AttackParams

    plain = AttackParams(method="pgd", eps=0.1, steps=5)
    assert not {"loss", "kappa", "momentum", "diversity"} & set(plain.to_dict())
    assert AttackParams(**plain.to_dict()) == plain
    tuned = AttackParams(method="pgd", eps=0.1, steps=5, loss="margin", kappa=10.0, momentum=1.0)
    assert tuned.to_dict()["momentum"] == 1.0 and AttackParams(**tuned.to_dict()) == tuned
