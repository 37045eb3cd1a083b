"""`visualizer steal` on real MNIST / Fashion-MNIST with tiny real models: the agreement
metric, soft targets, the oracle as the only channel (its count is the count reported),
each query source end to end, the saved substitutes agreeing as recorded, the schema and
one-message errors."""

import json

import jsonschema
import pytest
import torch

from mnist_fixtures import single_thread  # noqa: F401 (fixture)
from mnist_support import MNIST_DIR, MNIST_SPEC, as_classifier, train_tiny_mnist
from visualizer.cli import main
from visualizer.core.attacks.loop import drive
from visualizer.core.data import load_dataset
from visualizer.core.errors import OutputError, ParameterError
from visualizer.core.schema import steal_schema
from visualizer.core.stealing import StealConfig, agreement, parse_defences, parse_query_counts, run_steal
from visualizer.core.stealing.output import export_steal
from visualizer.core.stealing.spec import defended_oracle
from visualizer.core.stealing.substitute import soft_targets

FASHION_DIR = MNIST_DIR.parent / "fashion-mnist"
pytestmark = pytest.mark.skipif(not (MNIST_DIR.is_dir() and FASHION_DIR.is_dir()),
                                reason="needs MNIST and Fashion-MNIST in ../shared/data")
FASHION_SPEC = f"fashion-mnist:{FASHION_DIR}"


def test_agreement_is_the_share_of_equal_predictions_with_a_wilson_interval():
    share, (low, high), n = agreement(torch.tensor([0, 1, 2, 3, 4, 5, 6, 7]), torch.tensor([0, 1, 2, 3, 4, 5, 0, 0]))
    assert share == 0.75 and n == 8
    assert low == pytest.approx(0.4093, abs=1e-3) and high == pytest.approx(0.9285, abs=1e-3)   # Wilson 1927


def test_soft_targets_renormalise_cut_answers_and_keep_labels():
    labels = torch.tensor([3, 1])
    assert torch.equal(soft_targets(labels, 10), labels)
    top2 = torch.tensor([[0.6, 0.2, 0.0], [0.0, 0.0, 0.0]])
    out = soft_targets(top2, 3)
    assert torch.allclose(out[0], torch.tensor([0.75, 0.25, 0.0]))
    assert torch.allclose(out[1], torch.full((3,), 1 / 3))     # nothing revealed: uniform


def test_defences_cap_what_the_victim_reveals():
    assert defended_oracle("probs", "none") == ("probs", None)
    assert defended_oracle("probs", "rounded:1") == ("rounded:1", None)
    assert defended_oracle("topk:3", "label") == ("label", None)
    assert defended_oracle("label", "rounded:2") == ("label", None)
    assert defended_oracle("probs", "reverse-sigmoid:1:0.1") == ("probs", "reverse-sigmoid:1:0.1")
    assert parse_defences("none,label,rounded:1,reverse-sigmoid") == ["none", "label", "rounded:1",
                                                                       "reverse-sigmoid:1:0.1"]


@pytest.mark.parametrize("call, words", [
    (lambda: parse_query_counts("500,100"), "increasing"),
    (lambda: parse_query_counts("100,x"), "whole number"),
    (lambda: parse_query_counts("0,10"), "at least 1"),
    (lambda: parse_defences("blur"), "Unknown defence"),
    (lambda: StealConfig("v", "probs", (10,), "jacobian", "mnist-cnn", MNIST_SPEC, "o", seed_size=50), "seed-size"),
    (lambda: StealConfig("v", "top3", (10,), "noise", "mnist-cnn", MNIST_SPEC, "o"), "topk"),
])
def test_bad_settings_give_one_message(call, words):
    with pytest.raises(ParameterError, match=words):
        call()


def _steal(tmp_path, query_data, queries, oracle="label", defences=("none",), seed_size=100, epochs=2, batch_size=128):
    victim = as_classifier(train_tiny_mnist(), "tiny-victim")
    test = load_dataset(MNIST_SPEC, "test", preprocessing=victim.info.preprocessing, limit=150)
    config = StealConfig("tiny-victim", oracle, tuple(queries), query_data, "mnist-cnn", MNIST_SPEC, str(tmp_path),
                         defences=tuple(defences), epochs=epochs, batch_size=batch_size, test_limit=150, seed_size=seed_size, attack_steps=3,
                         attack_limit=40)
    return drive(run_steal(config, victim, test)), victim, test


def test_the_oracle_counts_exactly_the_queries_reported_for_every_source(tmp_path):
    for source, queries in ((FASHION_SPEC, (60, 150)), ("noise", (40,)), ("jacobian", (25, 70))):
        record, _, _ = _steal(tmp_path / source.split(":")[0], source, queries, seed_size=20)
        [run] = record["runs"]
        assert run["oracle_queries"] == queries[-1], source
        assert [p["queries"] for p in run["points"]] == list(queries)
        assert [p["oracle_queries_so_far"] for p in run["points"]] == list(queries), source
    rounds = sorted(p.name for p in (tmp_path / "jacobian" / "jacobian-rounds").iterdir())
    assert rounds == ["20", "25", "50"]     # 20 seeds, doubled up to 25; then 25 -> 50 -> 70 (capped at the budget)


def test_probability_answers_steal_better_than_chance_and_defences_are_compared(tmp_path):
    """Unlabelled in-distribution images (MNIST's training split) as queries."""
    record, victim, test = _steal(tmp_path, MNIST_SPEC, (300,), oracle="probs",
                                  defences=("none", "reverse-sigmoid"), epochs=4, batch_size=32)
    assert [r["oracle"] for r in record["runs"]] == ["probs", "probs"]
    assert [r["oracle_defence"] for r in record["runs"]] == ["none", "reverse-sigmoid:1:0.1"]
    assert record["runs"][0]["top1_kept"] == 1.0            # undefended answers keep every top-1
    assert record["runs"][1]["oracle_queries"] == 300       # each defence's thief has its own oracle
    stolen = record["runs"][0]["points"][0]
    assert stolen["agreement"] > 0.3                         # chance is about 0.1
    assert 0 <= stolen["transfer"]["success_rate"] <= 1 and record["white_box"]["success_rate"] > 0.5


def test_cli_steals_end_to_end_and_the_saved_substitute_agrees_as_recorded(tmp_path, capsys):
    from visualizer.core.models.registry import LoadOptions, load_model
    from visualizer.core.stealing.run import predictions

    victim_dir = tmp_path / "victim"
    assert main(["train", "--data", MNIST_SPEC, "--arch", "mnist-cnn", "--limit", "1500", "--epochs", "1",
                 "--eval-limit", "100", "--eval-attack", "none", "--out", str(victim_dir), "--threads", "1",
                 "--device", "cpu"]) == 0
    out = tmp_path / "steal"
    argv = ["steal", "--victim", f"ckpt:{victim_dir / 'model.safetensors'}", "--victim-arch", "mnist-cnn",
            "--oracle", "label", "--queries", "100,250", "--query-data", FASHION_SPEC, "--arch", "mnist-cnn",
            "--test-data", MNIST_SPEC, "--test-limit", "120", "--attack-limit", "30", "--attack-steps", "3",
            "--epochs", "2", "--threads", "1", "--out", str(out), "--dpi", "72"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "agreement" in printed and "white-box" in printed
    record = json.loads((out / "steal.json").read_text())
    jsonschema.validate(record, steal_schema())
    assert sorted(record["files"]["curve"]) == ["steal_curve.pdf", "steal_curve.png", "steal_curve.svg"]
    point = record["runs"][0]["points"][-1]
    victim = load_model(f"ckpt:{victim_dir / 'model.safetensors'}", LoadOptions(arch="mnist-cnn", device="cpu"))
    stolen = load_model(f"ckpt:{out / point['substitute'] / 'model.safetensors'}",
                        LoadOptions(arch="mnist-cnn", device="cpu"))
    test = load_dataset(MNIST_SPEC, "test", preprocessing=victim.info.preprocessing, limit=120)
    x, _ = test.batch(torch.arange(120))
    same = (predictions(victim, x) == predictions(stolen, x)).float().mean().item()
    assert point["agreement"] == pytest.approx(same)
    # the output folder now holds files: a second run is refused with one message
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")
    # the window's Export of this record follows every export's rule: only an earlier export is replaced
    export = tmp_path / "export"
    assert sorted(export_steal(export, record, dpi=72)["files"]["curve"]) == sorted(record["files"]["curve"])
    (export / "steal_curve.svg").write_text("an earlier export's file, replaced")
    with pytest.raises(OutputError, match="already holds files"):
        export_steal(export, record, dpi=72)
    export_steal(export, record, overwrite=True, dpi=72)
    assert "replaced" not in (export / "steal_curve.svg").read_text()
    before = sorted(p.name for p in out.iterdir())
    copies = point["substitute"].split("/")[0]                  # the copies' folder (or the defence's above it)
    with pytest.raises(OutputError, match=f"holds .*{copies}.*which no earlier run of this tool wrote"):
        export_steal(out, record, overwrite=True, dpi=72)       # the run's own folder: its copies are not deleted
    assert sorted(p.name for p in out.iterdir()) == before


def test_cli_bad_specs_fail_before_loading(tmp_path, capsys):
    base = ["steal", "--victim", "digits-standard", "--queries", "10", "--arch", "mnist-cnn", "--test-data",
            MNIST_SPEC, "--out", str(tmp_path / "o")]
    for extra, words in ((["--query-data", "bogus:x"], "query-data"), (["--query-data", "noise", "--oracle", "all"],
                         "oracle"), (["--query-data", "noise", "--defence", "blur"], "Unknown defence"),
                         (["--query-data", "noise"], "takes 1 x 28 x 28")):
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words.lower() in err.lower() and len(err.strip().splitlines()) == 1, err


def test_a_refused_steal_leaves_no_folder_behind(tmp_path, capsys):
    """A missing --query-data folder, a typo in --victim or an --arch of another input size
    used to be found after .steal-state/ was made: the corrected command then needed --resume."""
    out = tmp_path / "o"
    base = ["steal", "--victim", "mnist-standard", "--oracle", "label", "--arch", "mnist-cnn", "--test-data",
            MNIST_SPEC, "--test-limit", "20", "--threads", "1", "--out", str(out)]
    cases = [
        (["--queries", "10", "--query-data", f"mnist:{tmp_path / 'nowhere'}"], "does not exist"),
        (["--queries", "60001", "--query-data", MNIST_SPEC], "holds 60000 training images; --queries 60001 needs"),
        (["--queries", "50", "--query-data", MNIST_SPEC, "--copy", "epochs=1", "--copy", "pseudo=59990"],
         "--queries 50 plus pseudo=59990 needs 60040"),
        (["--queries", str(10 ** 9), "--query-data", "noise"], "GB of memory available. Ask fewer queries."),
        (["--queries", "10", "--query-data", "noise", "--arch", "preact-resnet18"], "takes 3 x 32 x 32"),
        (["--queries", "10", "--query-data", "noise", "--victim", "mnist-standrad"], "Unknown model"),
    ]
    for extra, words in cases:
        assert main(base + extra) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err
        assert not out.exists(), extra


def test_an_interrupted_steal_resumes_without_asking_again_and_refuses_other_settings(tmp_path):
    from visualizer.core.cancel import CancelToken
    from visualizer.core.errors import OutputError
    from visualizer.core.stealing.store import StealStore

    victim = as_classifier(train_tiny_mnist(), "tiny-victim")
    test = load_dataset(MNIST_SPEC, "test", preprocessing=victim.info.preprocessing, limit=100)
    config = StealConfig("tiny-victim", "label", (60, 120), MNIST_SPEC, "mnist-cnn", MNIST_SPEC, str(tmp_path),
                         epochs=1, test_limit=100, attack_steps=2, attack_limit=20)
    cancel = CancelToken()
    steps = run_steal(config, victim, test, cancel, StealStore(tmp_path, config.fingerprint(), resume=False))
    try:
        while True:
            event = next(steps)
            if event.stage == "PGD on the substitute":      # the first count is being measured: stop after it
                cancel.cancel()
    except StopIteration as stop:
        first = stop.value
    assert first["cancelled"] and [p["queries"] for p in first["runs"][0]["points"]] == [60]
    assert first["runs"][0]["oracle_queries"] == 60

    with pytest.raises(OutputError, match="--resume"):
        StealStore(tmp_path, config.fingerprint(), resume=False)
    other = {**config.fingerprint(), "epochs": 2}
    with pytest.raises(OutputError, match="epochs"):
        StealStore(tmp_path, other, resume=True)
    # A state saved before the copies had the thief's own seed stream (no copy_seeds) is not
    # resumed with the new seeds: its copies started from other weights.
    saved = tmp_path / ".steal-state" / "run.json"
    current = json.loads(saved.read_text())
    saved.write_text(json.dumps({k: v for k, v in current.items() if k != "copy_seeds"}))
    with pytest.raises(OutputError, match="copy_seeds"):
        StealStore(tmp_path, config.fingerprint(), resume=True)
    saved.write_text(json.dumps(current))

    events = []
    resumed = drive(run_steal(config, victim, test, None, StealStore(tmp_path, config.fingerprint(), resume=True)),
                    events.append)
    stages = [(e.stage, e.queries) for e in events]
    assert ("white-box PGD on the victim", 0) not in stages and ("training", 60) not in stages
    assert ("training", 120) in stages
    [run] = resumed["runs"]
    assert run["points"][0] == first["runs"][0]["points"][0]          # the finished count is kept as it was
    assert [p["queries"] for p in run["points"]] == [60, 120] and not resumed["cancelled"]
    assert run["points"][1]["oracle_queries_so_far"] == 120 and run["oracle_queries"] == 120
    assert resumed["white_box"] == first["white_box"]


def test_copies_share_the_answers_and_transfer_is_crafted_on_their_mean(tmp_path):
    from visualizer.core.stealing.run import _Ensemble, _fooled, _load_substitute, pgd_params, predictions

    victim = as_classifier(train_tiny_mnist(), "tiny-victim")
    test = load_dataset(MNIST_SPEC, "test", preprocessing=victim.info.preprocessing, limit=80)
    config = StealConfig("tiny-victim", "label", (60,), MNIST_SPEC, "mnist-cnn", MNIST_SPEC, str(tmp_path),
                         epochs=1, test_limit=80, attack_steps=2, attack_limit=20, copies=2, attack_loss="margin",
                         attack_momentum=1.0)
    record = drive(run_steal(config, victim, test))
    [point] = record["runs"][0]["points"]
    assert record["runs"][0]["oracle_queries"] == 60                 # two copies, one set of answers
    assert point["copies"] == ["defence-none/substitute-60", "defence-none/substitute-60-seed1"]
    assert record["transfer_method"]["copies"] == 2 and record["attack"]["loss"] == "margin"
    copies = [_load_substitute(tmp_path / f, "mnist-cnn", "cpu") for f in point["copies"]]
    x, y = test.batch(torch.arange(80))
    keep = (predictions(victim, x) == y).nonzero().flatten()[:20]
    fooled = _fooled(_Ensemble(copies), victim, x[keep], y[keep], pgd_params(config))
    assert point["transfer"]["successes"] == int(fooled.sum())
    jsonschema.validate({**record, "files": {}}, steal_schema())
