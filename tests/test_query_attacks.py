"""The query attacks (Square, NES, HopSkipJump) on the real bundled digits-standard model,
seen only through the oracle: success on easy cases, honest per-image query accounting,
budgets, cancel, reproducibility, and the refusals."""

import pytest
import torch

from blackbox_support import correct_digits, digits_model
from mnist_fixtures import single_thread  # noqa: F401 (fixture: one torch thread)
from visualizer.core.attacks import drive
from visualizer.core.blackbox import Oracle
from visualizer.core.blackbox.params import QueryAttackParams
from visualizer.core.blackbox.result import QueryStep
from visualizer.core.blackbox.run import query_attack, query_record
from visualizer.core.cancel import CancelToken
from visualizer.core.errors import ParameterError

# (method, norm, eps, per-image budget, oracle, which images): settings that fool the chosen
# digits in well under the budget (measured: at most ~60% of it).
EASY = [("square", "linf", 0.3, 400, "probs", [0, 1, 2, 3]),
        ("square", "l2", 3.0, 1000, "probs", [0, 1, 2, 3]),
        ("nes", "linf", 0.3, 1000, "topk:3", [1, 3]),
        ("hopskipjump", "linf", 0.3, 1000, "label", [1, 2, 3])]


def run(method, norm, eps, budget, spec, idx, seed=0, oracle=None, **kw):
    x, y = correct_digits(8)
    oracle = oracle or Oracle(digits_model(), spec)
    events = []
    params = QueryAttackParams(method, norm, eps, budget, seed=seed)
    result = drive(query_attack(oracle, x[idx], y[idx], params, **kw), events.append)
    return result, events, oracle, x[idx], y[idx]


@pytest.mark.parametrize("method,norm,eps,budget,spec,idx", EASY, ids=[f"{e[0]}-{e[1]}" for e in EASY])
def test_each_attack_fools_the_digits_model_within_its_budget(method, norm, eps, budget, spec, idx):
    result, events, oracle, x, y = run(method, norm, eps, budget, spec, idx)
    assert result.success.all()
    with torch.no_grad():   # the model itself agrees, and the result is inside the threat model
        assert (digits_model()(result.adversarial).argmax(1) != y).all()
    delta = (result.adversarial - x).flatten(1)
    size = delta.abs().amax(1) if norm == "linf" else delta.norm(dim=1)
    assert (size <= eps + 1e-5).all() and result.adversarial.min() >= 0 and result.adversarial.max() <= 1
    # Every oracle query is counted once, for the image it was asked for, within the budget.
    assert int(result.queries.sum()) == oracle.queries
    assert (result.queries >= 2).all() and (result.queries <= budget).all()
    assert torch.equal(result.queries_at_success(), result.queries.double())
    # Progress per query batch: queries so far (non-decreasing), the margin, a top-5.
    assert all(isinstance(e, QueryStep) for e in events) and len(events) == result.iterates
    spent = torch.stack([e.queries for e in events])
    assert (spent.diff(dim=0) >= 0).all() and torch.equal(spent[-1].cpu(), result.queries)
    assert events[-1].topk_class.shape == (len(idx), min(5, 10)) and events[-1].total == budget
    assert torch.equal(result.history_queries, spent.cpu())
    # The last event shows the oracle's answer at the adversarial point: top-1 not the label.
    assert (events[-1].topk_class[:, 0] != y).all()
    assert result.stop_reasons == ["success"] * len(idx)


def test_attacks_are_reproducible_and_the_seed_matters():
    a = run("square", "linf", 0.2, 60, "probs", [0, 1, 2])[0]
    b = run("square", "linf", 0.2, 60, "probs", [0, 1, 2])[0]
    c = run("square", "linf", 0.2, 60, "probs", [0, 1, 2], seed=1)[0]
    assert torch.equal(a.adversarial, b.adversarial) and torch.equal(a.queries, b.queries)
    assert not torch.equal(a.adversarial, c.adversarial)


def test_an_image_that_cannot_be_fooled_spends_exactly_its_budget():
    # eps 1/255 does not fool these digits: each image stops at the per-image budget.
    result, _, oracle, _, _ = run("square", "linf", 1 / 255, 25, "probs", [0, 1])
    assert not result.success.any() and result.queries.tolist() == [25, 25] and oracle.queries == 50
    assert result.queries_at_success().numel() == 0
    assert result.stop_reasons == ["per-image budget spent"] * 2
    assert query_record(result, 1)["stop_reason"] == "per-image budget spent"


def test_the_oracles_total_budget_stops_the_attack_with_a_warning():
    oracle = Oracle(digits_model(), "probs", budget=30)
    result, _, _, _, _ = run("square", "linf", 1 / 255, 100, "probs", [0, 1, 2], oracle=oracle)
    assert result.budget_exhausted and oracle.queries <= 30 and int(result.queries.sum()) == oracle.queries
    assert any("total query budget" in w for w in result.warnings)
    assert set(result.stop_reasons) == {"oracle budget ran out"}     # none had spent its own 100


@pytest.mark.parametrize("method,spec", [("square", "probs"), ("nes", "probs"), ("hopskipjump", "label")])
def test_cancel_stops_at_the_next_query_batch(method, spec):
    x, y = correct_digits(8)
    token = CancelToken()
    oracle = Oracle(digits_model(), spec)
    gen = query_attack(oracle, x[:2], y[:2], QueryAttackParams(method, "linf", 1 / 255, 5000), cancel=token)
    next(gen)
    next(gen)
    token.cancel()
    spent = oracle.queries
    with pytest.raises(StopIteration) as stop:
        next(gen)
    result = stop.value.value
    assert result.cancelled and oracle.queries == spent and int(result.queries.sum()) == spent
    assert result.stop_reasons == ["cancelled"] * 2


def test_score_based_attacks_refuse_a_label_only_oracle():
    x, y = correct_digits(8)
    for method in ("square", "nes"):
        with pytest.raises(ParameterError, match="hopskipjump"):
            next(query_attack(Oracle(digits_model(), "label"), x[:1], y[:1], QueryAttackParams(method, "linf", 0.1)))


def test_rounded_probabilities_starve_nes_but_not_square():
    # NES probes at sigma = 0.001: two decimals hide the differences it estimates from.
    nes = run("nes", "linf", 0.3, 208, "rounded:2", [1, 3])[0]
    assert not nes.success.any()
    square = run("square", "linf", 0.3, 150, "rounded:2", [1, 3])[0]
    assert square.success.all()


def test_bad_query_attack_parameters_are_refused():
    for kw in ({"method": "boundary"}, {"eps": 0}, {"queries": 1}, {"method": "nes", "samples": 3},
               {"method": "hopskipjump", "targeted": True}, {"p_init": 2.0}, {"norm": "l1"}):
        with pytest.raises(ParameterError):
            QueryAttackParams(**{"method": "square", **kw})


@pytest.mark.parametrize("images,oracle_budget", [(slice(1, 3), None), (slice(1, 2), 300)],
                         ids=["an evaluation's unbudgeted oracle", "the attack command's oracle"])
def test_hopskipjump_never_spends_past_the_per_image_budget_and_uses_it(images, oracle_budget):
    # An unfoolable eps: the attack runs until its budget is spent. It once asked its
    # direction probes after the boundary search had used part of the budget: with no
    # total budget (an evaluation) an image spent 301+ of 300 (the progress read "301/300"),
    # and through a budgeted oracle (the attack command, the window) it stopped at 174 of
    # 300 with a false "the oracle's total query budget ran out".
    x, y = correct_digits(8)
    oracle = Oracle(digits_model(), "label", budget=oracle_budget)
    events = []
    params = QueryAttackParams("hopskipjump", "linf", 1 / 255, 300, seed=0)
    result = drive(query_attack(oracle, x[images], y[images], params), events.append)
    assert all(e.done <= e.total == 300 for e in events)
    assert (result.queries <= 300).all() and int(result.queries.sum()) == oracle.queries
    assert (result.queries >= 250).all(), result.queries     # the budget is used, not left a third unspent
    assert not result.budget_exhausted and not any("total query budget" in w for w in result.warnings)
    # The distance to the clean image never grows: a last step whose binary search had no
    # budget left used to be kept, ending at distance 1.0 after 0.66 (eps - distance -0.8).
    losses = torch.stack([e.loss for e in events])
    assert (losses.diff(dim=0) >= -1e-6).all(), losses[:, 0].tolist()


def test_hopskipjump_says_why_it_stopped_with_budget_left():
    # With 50 queries and an unfoolable eps, the next gradient estimate does not fit in what
    # is left: the attack ends early. It once did so silently (12 of 50 left, no word).
    result, _, oracle, _, _ = run("hopskipjump", "linf", 1 / 255, 50, "label", [1])
    left = 50 - int(result.queries[0])
    assert not result.success.any() and left > 0
    assert result.stop_reasons == ["too few queries left for another step"]
    assert any(f"queries unspent ({left} of 50)" in w and "a step takes about" in w for w in result.warnings)
    assert query_record(result)["stop_reason"] == "too few queries left for another step"
    # With room for a step but not for the full 100 probes, it probes with what is left: a
    # budget of 113 once stopped after 13 queries, its 100 left "too few".
    result = run("hopskipjump", "linf", 1 / 255, 113, "label", [1])[0]
    assert int(result.queries[0]) > 100 and result.stop_reasons != ["too few queries left for another step"]
