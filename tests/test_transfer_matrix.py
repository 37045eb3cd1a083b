"""Transfer over a data set (`evaluate --threat transfer:...`) on real MNIST with tiny real
models: the spec, the matrix's shape, its diagonal equal to the white-box attack, an
identical copy of the source being fooled exactly as the source is, the schema and files."""

import csv
import json

import jsonschema
import pytest

from mnist_fixtures import single_thread  # noqa: F401 (fixture)
from mnist_support import MNIST_DIR, MNIST_SPEC, ROBUST_EPS, as_classifier, save_torchscript, train_tiny_mnist
from visualizer.cli import main
from visualizer.core.attacks.loop import drive
from visualizer.core.data import load_dataset
from visualizer.core.errors import ParameterError
from visualizer.core.evaluation import evaluate, parse_threat, parse_threats
from visualizer.core.evaluation.output import write_evaluation
from visualizer.core.schema import evaluation_schema

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs the MNIST files in ../shared/data/mnist")
N = 30


def test_transfer_spec_parses_into_one_threat_per_epsilon_around_a_white_box_attack():
    threats = parse_threat("transfer:pgd:linf:0.1,0.2:5")
    assert [t.text for t in threats] == ["transfer:pgd:linf:0.1:5:1", "transfer:pgd:linf:0.2:5:1"]
    attack = threats[0].attacks[0]
    assert attack.kind == "transfer" and attack.inner.text == "pgd:linf:0.1:5:1" and attack.eps == 0.1
    assert threats[0].is_transfer and threats[0].curve == "transfer:pgd:linf:*:5:1"
    assert parse_threat("transfer:fgsm:linf:0.3")[0].attacks[0].inner.kind == "fgsm"


@pytest.mark.parametrize("spec, words", [
    ("transfer:apgd-ce:linf:0.3", "transfer:pgd:NORM:EPS"),
    ("transfer", "transfer:pgd:NORM:EPS"),
    ("transfer:pgd:l3:0.3", "linf or l2"),
    ("transfer:pgd:linf:0.3+clean", "stands alone"),
])
def test_bad_transfer_specs_give_one_message(spec, words):
    with pytest.raises(ParameterError, match=words.replace("[", r"\[")):
        parse_threat(spec)


def _run(models, threats):
    datasets = [load_dataset(MNIST_SPEC, "test", preprocessing=m.info.preprocessing, class_names=m.info.class_names,
                             limit=N) for m in models]
    return drive(evaluate(models, datasets, parse_threats(threats), batch_size=16, seed=1))


def test_one_model_is_refused_with_a_message():
    with pytest.raises(ParameterError, match="at least two models"):
        _run([as_classifier(train_tiny_mnist(), "a")], ["transfer:pgd:linf:0.1:3"])


@pytest.fixture(scope="module")
def three_models():
    """standard, an identical copy of it under another id, and the adversarially trained one."""
    net = train_tiny_mnist()
    return [as_classifier(net, "standard"), as_classifier(net, "standard-copy"),
            as_classifier(train_tiny_mnist(robust_eps=ROBUST_EPS), "robust")]


@pytest.fixture(scope="module")
def record(three_models, tmp_path_factory):
    ev = _run(three_models, ["pgd:linf:0.15:5", "transfer:pgd:linf:0.15:5"])
    out = tmp_path_factory.mktemp("transfer")
    return write_evaluation(out, ev, dpi=60), out


def test_matrix_has_a_row_per_source_and_a_column_per_target(record):
    rec, _ = record
    jsonschema.validate(rec, evaluation_schema())
    [matrix] = rec["transfer"]
    assert matrix["attack"] == "transfer:pgd:linf:0.15:5:1"
    assert matrix["sources"] == matrix["targets"] == ["standard", "standard-copy", "robust"]
    assert [len(row) for row in matrix["cells"]] == [3, 3, 3]
    assert all(cell["n"] == N for row in matrix["cells"] for cell in row)


def test_diagonal_is_the_white_box_attack(record):
    rec, _ = record
    [matrix] = rec["transfer"]
    white = {r["model"]: r for r in rec["results"] if r["threat"] == "pgd:linf:0.15:5:1"}
    for i, model in enumerate(matrix["sources"]):
        cell = matrix["cells"][i][i]
        assert cell["correct"] == white[model]["correct"]
        assert cell["success_rate"] == pytest.approx(white[model]["attack_success_rate"])


def test_an_identical_copy_is_fooled_exactly_as_its_source(record):
    rec, out = record
    [matrix] = rec["transfer"]
    cells = matrix["cells"]
    assert cells[0][1]["correct"] == cells[0][0]["correct"] == cells[1][0]["correct"]
    # ...per example, too: the same rows in per_example.csv
    with open(out / "per_example.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["threat"] == "transfer:pgd:linf:0.15:5:1@standard"]
    by_model = {m: [r["prediction"] for r in rows if r["model"] == m] for m in ("standard", "standard-copy")}
    assert by_model["standard"] == by_model["standard-copy"] and len(by_model["standard"]) == N
    # The robust model resists what was crafted on the standard one more than the copy does.
    assert cells[0][2]["accuracy"] > cells[0][1]["accuracy"]


def test_transfer_matrix_figure_is_written_and_the_table_leaves_transfer_out(record):
    rec, out = record
    assert sorted(rec["files"]["transfer_matrix"]) == ["transfer_matrix.pdf", "transfer_matrix.png",
                                                       "transfer_matrix.svg"]
    svg = (out / "transfer_matrix.svg").read_text()
    assert "source (crafted on)" in svg and "standard-copy" in svg
    assert "Transfer" not in (out / "table.svg").read_text()


def test_models_of_different_input_sizes_share_the_crafted_examples():
    """A 28x28 model and the 32x32 bundled digits model: what is crafted on one is brought to
    the other's input by the 8-bit pipeline."""
    from visualizer.core.models.registry import LoadOptions, load_model

    models = [as_classifier(train_tiny_mnist(), "tiny-28"), load_model("digits-standard", LoadOptions(device="cpu"))]
    ev = _run(models, ["transfer:fgsm:linf:0.2"])
    rows = ev.cell_rows(1, 0)            # digits-standard scoring what the 28x28 model crafted
    assert ev.threats[0].source == "tiny-28" and len(rows["index"]) == N
    assert max(v for v in rows["linf"] if v is not None) > 0.1      # perturbed, after resizing
    assert set(rows["attack"]) <= {"", "clean", "transfer"}


def test_cli_refuses_one_model_and_writes_the_matrix_for_two(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["evaluate", "--device", "cpu", "--data", MNIST_SPEC, "--limit", "12", "--threat",
            "transfer:fgsm:linf:0.2", "--out", str(out), "--dpi", "72"]
    assert main(base + ["--model", "digits-standard"]) == 2
    assert "at least two models" in capsys.readouterr().err
    assert main(base + ["--model", "digits-standard", "--model", "digits-robust"]) == 0
    rec = json.loads((out / "evaluation.json").read_text())
    jsonschema.validate(rec, evaluation_schema())
    assert [len(r) for r in rec["transfer"][0]["cells"]] == [2, 2]
    assert (out / "transfer_matrix.png").is_file()


def test_transfer_threat_ids_name_checkpoints_by_display_name_not_path():
    from visualizer.core.evaluation.threats import parse_threat
    from visualizer.core.evaluation.transfer import expand_transfer

    ids = ["ckpt:/home/u/runs/mnist-standard/model.safetensors", "ckpt:/home/u/runs/mnist-2ep/model.safetensors"]
    threats = expand_transfer(parse_threat("transfer:pgd:linf:0.2"), ids)
    assert [t.text for t in threats] == ["transfer:pgd:linf:0.2:20:1@mnist-standard", "transfer:pgd:linf:0.2:20:1@mnist-2ep"]
    assert [t.source for t in threats] == ids                          # the link to models[].id and results[].model
    assert threats[0].label().endswith("from mnist-standard") and "/" not in threats[1].to_dict()["curve"]
