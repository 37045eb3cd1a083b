"""The query oracle: what each exposure level reveals, the query accounting and budget,
the reverse-sigmoid defence, and that no gradient, logit or model reference leaks out."""

import pytest
import torch
from torch import nn

from blackbox_support import correct_digits, digits_model
from mnist_fixtures import single_thread  # noqa: F401 (fixture: one torch thread)
from visualizer.core.blackbox import Oracle, QueryBudgetExhausted, parse_defence, parse_oracle_spec
from visualizer.core.errors import ParameterError


@pytest.fixture(scope="module")
def batch():
    return correct_digits(8)


def true_probs(x):
    with torch.no_grad():
        return digits_model()(x).softmax(1)


def test_probs_are_the_models_probabilities_not_logits(batch):
    x, _ = batch
    model = digits_model()
    answers = Oracle(model, "probs")(x)
    assert torch.allclose(answers, true_probs(x), atol=1e-6)
    assert (answers >= 0).all() and torch.allclose(answers.sum(1), torch.ones(len(x)), atol=1e-5)
    with torch.no_grad():
        assert not torch.allclose(answers, model(x), atol=1e-3)   # the logits differ from what leaks


def test_exposure_levels_reveal_only_what_they_say(batch):
    x, y = batch
    p = true_probs(x)
    top3 = Oracle(digits_model(), "topk:3")(x)
    assert ((top3 > 0).sum(1) <= 3).all()
    kept = p.topk(3, 1)
    assert torch.allclose(top3.gather(1, kept.indices), kept.values, atol=1e-6)
    rounded = Oracle(digits_model(), "rounded:2")(x)
    assert torch.equal(rounded, (rounded * 100).round() / 100) and torch.allclose(rounded, p, atol=0.005 + 1e-6)
    labels = Oracle(digits_model(), "label")(x)
    assert labels.dtype == torch.int64 and labels.shape == (len(x),) and torch.equal(labels, y)


@pytest.mark.parametrize("spec", ["probs", "topk:2", "rounded:3", "label"])
def test_no_gradient_leaks(batch, spec):
    x, _ = batch
    x = x.clone().requires_grad_(True)
    with torch.enable_grad():
        out = Oracle(digits_model(), spec)(x)
    assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(RuntimeError):
        out.float().sum().backward()
    assert x.grad is None


def test_the_oracle_holds_no_public_reference_to_the_model():
    model = digits_model()
    oracle = Oracle(model, "probs", defence="reverse-sigmoid")
    for name, value in vars(oracle).items():
        assert not isinstance(value, nn.Module), name
        assert getattr(value, "__self__", None) is not model, name
        assert not isinstance(value, torch.Tensor) or not value.requires_grad, name
    assert not any(isinstance(getattr(oracle, n), nn.Module) for n in dir(oracle) if not n.startswith("_"))


def test_every_image_is_one_query_and_the_budget_is_all_or_nothing(batch):
    x, _ = batch
    oracle = Oracle(digits_model(), "probs", budget=10)
    oracle(x[:1])
    oracle(x[:6])
    assert oracle.queries == 7 and oracle.remaining == 3
    with pytest.raises(QueryBudgetExhausted, match="3 of 10"):
        oracle(x[:4])
    assert oracle.queries == 7          # the refused call was not counted
    oracle(x[:3])
    assert oracle.remaining == 0
    with pytest.raises(QueryBudgetExhausted):
        oracle(x[:1])
    assert oracle.describe() == {"oracle": "probs", "defence": None, "budget": 10, "queries": 10}


def test_top1_costs_queries_at_every_level(batch):
    x, y = batch
    for spec in ("probs", "topk:1", "label"):
        oracle = Oracle(digits_model(), spec)
        assert torch.equal(oracle.top1(x), y) and oracle.queries == len(x)


def test_reverse_sigmoid_bends_probabilities_but_keeps_them_probabilities(batch):
    x, _ = batch
    p = true_probs(x)
    bent = Oracle(digits_model(), "probs", defence="reverse-sigmoid:0.5:0.2")(x)
    assert torch.allclose(bent.sum(1), torch.ones(len(x)), atol=1e-5) and (bent >= 0).all()
    assert (bent - p).abs().max() > 0.01


def test_bad_specs_and_images_are_refused(batch):
    x, _ = batch
    for text in ("topk", "topk:0", "rounded:-1", "rounded:9", "logits", "label:2", "topk:two"):
        with pytest.raises(ParameterError):
            parse_oracle_spec(text)
    for text in ("sigmoid", "reverse-sigmoid:0", "reverse-sigmoid:1:2:3"):
        with pytest.raises(ParameterError):
            parse_defence(text)
    assert str(parse_oracle_spec(" TopK:5 ")) == "topk:5" and parse_defence("none") is None
    oracle = Oracle(digits_model())
    with pytest.raises(ParameterError, match="32 x 32"):
        oracle(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        oracle(x * 2)
    assert oracle.queries == 0
    with pytest.raises(ParameterError):
        Oracle(digits_model(), budget=-1)
