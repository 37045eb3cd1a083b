"""Batched evaluation over real MNIST with a tiny real model: per-example records, cheap-first
ensembles, resume equivalence, cancel, the state folder, AutoAttack through pyautoattack."""

import pytest
import torch

from mnist_fixtures import model, single_thread  # noqa: F401 (fixtures)
from mnist_support import MNIST_DIR, MNIST_SPEC, ROBUST_EPS, as_classifier, train_tiny_mnist
from visualizer.core.attacks.loop import drive
from visualizer.core.cancel import CancelToken
from visualizer.core.errors import OutputError
from visualizer.core.evaluation import BatchesFinished, RunStore, evaluate, parse_threats, settings_fingerprint

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs the MNIST files in ../shared/data/mnist")

N = 40
THREATS = ["clean", "fgsm:linf:0.15", "pgd:linf:0.1,0.2:8", "apgd-ce:linf:0.2:10", "fgsm:linf:0.2+pgd:linf:0.2:8",
           "spatial:grid:20:3:2:3"]


@pytest.fixture(scope="module")
def data(model):
    from visualizer.core.data import load_dataset

    return load_dataset(MNIST_SPEC, "test", preprocessing=model.info.preprocessing,
                        class_names=model.info.class_names, limit=N)


@pytest.fixture(scope="module")
def threats():
    return parse_threats(THREATS)


@pytest.fixture(scope="module")
def reference(model, data, threats):
    """One uninterrupted run without any state on disk."""
    return drive(evaluate([model], [data], threats, batch_size=16, seed=3))


def _column(ev, threat_text, name):
    t = [th.text for th in ev.threats].index(threat_text)
    return ev.cell_rows(0, t)[name]


def test_records_agree_with_the_model_and_the_budgets(model, data, reference):
    x, y = data.batch(slice(0, N))
    with torch.no_grad():
        clean_pred = model(x).argmax(1)
    assert _column(reference, "clean", "prediction") == clean_pred.tolist()
    assert _column(reference, "clean", "index") == list(range(N))
    summary = reference.summary(0, 0)
    assert summary["correct"] == int((clean_pred == y).sum()) and summary["n"] == N
    for t, threat in enumerate(reference.threats):
        rows = reference.cell_rows(0, t)
        for label, pred, success, margin in zip(rows["label"], rows["prediction"], rows["success"], rows["margin"]):
            assert success == (pred != label)
            assert (margin < 0) == success or margin == 0
        if threat.norm == "linf" and threat.eps is not None:
            assert max(rows["linf"]) <= threat.eps + 1e-5
        # An example misclassified without attack is not robust under any threat.
        assert all(s for s, c in zip(rows["success"], _column(reference, "clean", "success")) if c)


def test_stronger_budgets_and_attacks_leave_fewer_standing(reference):
    acc = {s["threat"]: s["accuracy"] for s in reference.summaries()}
    assert acc["pgd:linf:0.2:8:1"] < acc["pgd:linf:0.1:8:1"] <= acc["clean"]
    assert acc["apgd-ce:linf:0.2:10:1"] < acc["fgsm:linf:0.15"]
    assert reference.warnings() == []        # the classic relations hold here


def test_a_stronger_attack_doing_worse_is_flagged(model, data):
    """One APGD step cannot do what 20 PGD steps do: the run says the relation fails."""
    weak = drive(evaluate([model], [data], parse_threats(["pgd:linf:0.2:20", "apgd-ce:linf:0.2:1"]), 40))
    pgd, apgd = (weak.summary(0, t)["accuracy"] for t in (0, 1))
    assert apgd > pgd
    assert any("apgd-ce:linf:0.2:1:1 leaves" in w and "suspect gradient masking" in w for w in weak.warnings())


def test_an_ensemble_is_robust_only_where_every_attack_fails_and_runs_cheap_first(model, data, reference):
    ensemble = "fgsm:linf:0.2+pgd:linf:0.2:8:1"
    attack = _column(reference, ensemble, "attack")
    queries = _column(reference, ensemble, "queries")
    assert {"fgsm", "pgd"} <= set(attack)
    # FGSM has no randomness, so its part of the ensemble equals FGSM alone at the same budget.
    fgsm_alone = drive(evaluate([model], [data], parse_threats(["fgsm:linf:0.2"]), 16, seed=3))
    alone = fgsm_alone.cell_rows(0, 0)
    for a, s_alone in zip(attack, alone["success"]):
        if s_alone:
            assert a in ("fgsm", "clean")       # FGSM broke it first; PGD never ran there
    # Clean pass (1) + FGSM (2 iterates) + rescoring (1); PGD adds its 9 iterates (fewer when
    # every example of its sub-batch fell early) and a rescoring.
    assert {q for a, q in zip(attack, queries) if a == "fgsm"} == {4}
    assert {q for a, q in zip(attack, queries) if a == ""} <= {4 + 9 + 1}
    assert all(4 + 1 < q <= 4 + 9 + 1 for a, q in zip(attack, queries) if a == "pgd")


def test_spatial_records_the_transform_it_kept(reference):
    t = [th.text for th in reference.threats].index("spatial:grid:20:3:2:3")
    rows = reference.cell_rows(0, t)
    kept = [(r, tx, ty) for r, tx, ty, a in zip(rows["rotation"], rows["tx"], rows["ty"], rows["attack"])
            if a == "spatial-grid"]
    assert kept and all(r in (-20, 0, 20) and tx in (-2, 0, 2) and ty in (-2, 0, 2) for r, tx, ty in kept)
    assert set(q for q, a in zip(rows["queries"], rows["attack"]) if a != "clean") == {1 + 27 + 1}


def test_the_gallery_holds_the_most_confident_failures(reference):
    t = [th.text for th in reference.threats].index("pgd:linf:0.2:8:1")
    rows = reference.cell_rows(0, t)
    kept = reference.gallery.get(0, t)
    broken = sorted((c, i) for c, i, a in zip(rows["confidence"], rows["index"], rows["attack"]) if a == "pgd")
    assert [c.index for c in kept] == [i for c, i in sorted(broken, key=lambda p: (-p[0], p[1]))][:len(kept)]
    assert len(kept) == min(8, len(broken)) and kept[0].image.dtype.name == "uint8"


def test_resume_after_a_cancel_gives_the_same_numbers(tmp_path, model, data, threats, reference):
    settings = settings_fingerprint([model], data.describe(), threats, 16, 3)
    cancel = CancelToken()

    def stop_after_first_round(event):
        if isinstance(event, BatchesFinished):
            cancel.cancel()

    first = drive(evaluate([model], [data], threats, 16, 3, cancel=cancel, store=RunStore(tmp_path, settings, False)),
                  stop_after_first_round)
    assert first.cancelled and not first.complete and len(first.batches_done) == 1
    with pytest.raises(OutputError, match="--resume"):
        RunStore(tmp_path, settings, resume=False)
    with pytest.raises(OutputError, match="other settings"):
        RunStore(tmp_path, {**settings, "seed": 4}, resume=True)
    seen = []
    resumed = drive(evaluate([model], [data], threats, 16, 3, store=RunStore(tmp_path, settings, True)), seen.append)
    assert resumed.complete and not resumed.cancelled
    # First the count an earlier run did (so a progress bar can tell this run's rate), then 16 more.
    counts = [(e.examples_done, e.new_examples) for e in seen if isinstance(e, BatchesFinished)]
    assert isinstance(seen[0], BatchesFinished) and counts[:2] == [(16, 0), (32, 16)]
    for t in range(len(threats)):
        assert resumed.cell_rows(0, t) == reference.cell_rows(0, t)
        assert [c.index for c in resumed.gallery.get(0, t)] == [c.index for c in reference.gallery.get(0, t)]


def test_cancel_in_the_first_batch_keeps_nothing_half_done(model, data, threats):
    cancel = CancelToken()

    def stop_at_first_step(event):
        cancel.cancel()

    result = drive(evaluate([model], [data], threats, 16, 3, cancel=cancel), stop_at_first_step)
    assert result.cancelled and result.batches_done == set() and result.summaries() == []


def _autoattack_both_ways(model, data, texts, n, seed):
    """Our evaluation of ``texts`` (the first an autoattack threat) on the first n examples,
    and how many of them stand after one call of pyautoattack's own standard evaluation."""
    pytest.importorskip("pyautoattack")
    from pyautoattack import AutoAttack

    from visualizer.core.evaluation.ensemble import stage_seed

    threats = parse_threats(texts)
    ours = drive(evaluate([model], [data.first(n)], threats, n, seed=seed))
    x, y = data.batch(slice(0, n))
    with torch.no_grad():
        correct = model(x).argmax(1) == y
    attack = threats[0].attacks[0]
    aa = AutoAttack(model, norm={"linf": "Linf", "l2": "L2"}[attack.norm], eps=attack.eps, version="standard",
                    seed=stage_seed(seed, 0, threats[0], 0), device="cpu")
    _, y_adv = aa.run_standard_evaluation(x[correct], y[correct], batch_size=n)
    return ours, int((y_adv == y[correct]).sum())


def test_autoattack_runs_the_authors_implementation_and_keeps_its_checks(model, data):
    ours, theirs = _autoattack_both_ways(model, data, ["autoattack:linf:0.25"], 12, seed=1)
    assert ours.summary(0, 0)["correct"] == theirs
    # A model that outputs probabilities: AutoAttack's own check and ours both say so.
    soft = as_classifier(torch.nn.Sequential(train_tiny_mnist(robust_eps=ROBUST_EPS), torch.nn.Softmax(dim=1)),
                         "softmax-model")
    flagged = drive(evaluate([soft], [data.first(4)], ours.threats, 4))
    warnings = flagged.warnings()
    assert any(w.startswith("softmax-model, autoattack:linf:0.25: AutoAttack:") and "probability" in w for w in warnings)
    assert any("look like probabilities" in w for w in warnings)


@pytest.mark.slow   # FAB-T and Square on the examples APGD leaves: about a minute on 2 loaded cores
def test_the_whole_standard_autoattack_equals_one_call_of_pyautoattack(model, data):
    ours, theirs = _autoattack_both_ways(model, data, ["autoattack:linf:0.12", "apgd-ce:linf:0.12"], 10, seed=5)
    summary = ours.summary(0, 0)
    assert summary["correct"] == theirs
    assert 0 < summary["correct"] <= ours.summary(0, 1)["correct"]     # some stand; no more than after APGD-CE alone
