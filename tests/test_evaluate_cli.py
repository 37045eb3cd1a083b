"""`visualizer evaluate` end to end on real MNIST with two tiny real models (TorchScript
archives, as users bring them): the files, the schema, the table's contents, --resume,
errors, and two processes under torchrun giving the same per-example records as one."""

import csv
import json
import os
import subprocess
import sys

import pytest

from mnist_fixtures import single_thread  # noqa: F401 (fixture)
from mnist_support import MNIST_DIR, MNIST_SPEC, ROBUST_EPS, save_torchscript, train_tiny_mnist
from support import ROOT
from visualizer.cli import main

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs the MNIST files in ../shared/data/mnist")

THREATS = ["clean", "pgd:linf:0.1,0.2:5", "spatial:worst-of-k:4"]
N = 24


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return [save_torchscript(train_tiny_mnist(), folder / "standard.pt"),
            save_torchscript(train_tiny_mnist(robust_eps=ROBUST_EPS), folder / "robust.pt")]


def _argv(archives, out, *extra):
    argv = ["evaluate", "--input-size", "28", "--mean", "0", "--std", "1", "--device", "cpu", "--data", MNIST_SPEC,
            "--limit", str(N), "--batch-size", "10", "--seed", "2", "--out", str(out)]
    for path in archives:
        argv += ["--model", f"torchscript:{path}"]
    for threat in THREATS:
        argv += ["--threat", threat]
    return argv + list(extra)


@pytest.fixture(scope="module")
def finished(archives, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "run"
    assert main(_argv(archives, out)) == 0
    return out


def test_writes_every_file_and_a_record_that_fits_its_schema(finished, capsys):
    import jsonschema

    from visualizer.core.schema import evaluation_schema

    record = json.loads((finished / "evaluation.json").read_text())
    jsonschema.validate(record, evaluation_schema())
    assert record["complete"] and record["examples"]["done"] == N and record["processes"] == 1
    assert len(record["results"]) == 2 * 4
    for stem in ("table", "curves", "gallery-01-standard.pt", "gallery-02-robust.pt"):
        found = sorted(p.suffix for p in finished.glob(f"{stem}*") if p.is_file())
        assert found == [".pdf", ".png", ".svg"], stem
    with open(finished / "per_example.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 4 * N
    for result in record["results"]:
        mine = [r for r in rows if r["model"] == result["model"] and r["threat"] == result["threat"]]
        assert sum(r["success"] == "0" for r in mine) == result["correct"]
    acc = {(r["model"].split("/")[-1], r["threat"]): r["accuracy"] for r in record["results"]}
    # The adversarially trained model holds up better under the same attack.
    assert acc[("robust.pt", "pgd:linf:0.1:5:1")] > acc[("standard.pt", "pgd:linf:0.1:5:1")]


def test_the_table_shows_every_cell(finished):
    from visualizer.core.figures.evaluation import curves_figure, table_figure

    record = json.loads((finished / "evaluation.json").read_text())
    texts = [t.get_text() for t in table_figure(record).axes[0].texts]
    for result in record["results"]:
        assert f"{100 * result['accuracy']:.1f}" in texts
        low, high = result["ci95"]
        assert f"[{100 * low:.1f}, {100 * high:.1f}]" in texts
    curves = curves_figure(record)
    assert [ax.get_label() for ax in curves.axes] == ["curve0"]      # one comma list of epsilons
    assert len(curves.axes[0].get_lines()) == 2                       # one line per model


def test_the_table_title_says_how_much_of_the_split_was_scored(finished):
    from visualizer.core.figures.evaluation import table_figure

    record = json.loads((finished / "evaluation.json").read_text())
    size = record["data"]["split_size"]
    assert (record["data"]["size"], size) == (N, 10_000)      # --limit N of the 10,000 test images

    def title(rec):
        return next(t.get_text() for t in table_figure(rec).axes[0].texts if t.get_text().startswith("Accuracy"))

    assert title(record).endswith(f"mnist test, first {N} of {size:,} examples")
    whole = dict(record, examples=dict(record["examples"], done=size))
    assert title(whole).endswith(f"mnist test, all {size:,} examples")


def test_resume_of_a_finished_run_rewrites_the_same_results(archives, finished, capsys):
    before = (finished / "per_example.csv").read_bytes()
    assert main(_argv(archives, finished, "--resume")) == 0
    assert (finished / "per_example.csv").read_bytes() == before
    assert main(_argv(archives, finished)) == 2
    assert "already holds files (a finished evaluation)" in capsys.readouterr().err
    assert main(_argv(archives, finished, "--resume", "--limit", str(N - 1))) == 2
    assert "other settings" in capsys.readouterr().err


def test_bad_input_is_one_line_and_writes_nothing(archives, tmp_path, capsys):
    assert main(_argv(archives, tmp_path / "a", "--threat", "pgd:linf:3")) == 2
    assert "error: " in capsys.readouterr().err and not (tmp_path / "a").exists()
    assert main(_argv(archives, tmp_path / "b")[:-2] + ["--data", f"mnist:{tmp_path}"]) == 2
    assert "no test images file" in capsys.readouterr().err
    for option in ("--limit", "--batch-size", "--threads"):   # 0 used to mean 'all' / crash later
        assert main(_argv(archives, tmp_path / "c", option, "0")) == 2
        assert f"argument {option}: must be at least 1, not 0" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


@pytest.mark.slow   # two fresh processes importing torch: about 30 s on a loaded 2-core machine
def test_two_processes_under_torchrun_give_the_records_of_one(archives, finished, tmp_path):
    out = tmp_path / "two"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "visualizer"] + _argv(archives, out), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "per_example.csv").read_bytes() == (finished / "per_example.csv").read_bytes()
    record = json.loads((out / "evaluation.json").read_text())
    assert record["processes"] == 2 and record["complete"]


def test_the_table_headers_never_touch_with_many_long_threat_names(finished):
    """Twelve columns with the long names real runs give ("HopSkipJump-300q" beside
    "AutoAttack", transfer from a long model id): no two texts of the table overlap, and the
    headers stay under their group's rule (they used to touch, and to cross it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from visualizer.core.figures.evaluation import table_figure

    record = json.loads((finished / "evaluation.json").read_text())
    base = record["threats"][1]
    names = ["Square-300q", "NES-300q", "APGD-CE", "APGD-T", "AutoAttack", "HopSkipJump-300q",
             "Transfer PGD-20 from mnist-standard", "Transfer PGD-20 from mnist-robust-l2", "PGD-40 \u00d72 L\u221e",
             "FGSM L\u221e", "Square-5000q", "HopSkipJump-1000q"]
    threats, results = [], []
    for k, name in enumerate(names):
        threats.append(dict(base, id=f"t{k}", label=name))
        results += [dict(r, threat=f"t{k}") for r in record["results"] if r["threat"] == base["id"]]
    fig = table_figure(dict(record, threats=threats, results=results))
    renderer = FigureCanvasAgg(fig).get_renderer()
    texts = [t for t in fig.axes[0].texts if t.get_text().strip()]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            assert min(a.x1, b.x1) - max(a.x0, b.x0) <= 0 or min(a.y1, b.y1) - max(a.y0, b.y0) <= 0, (ta, tb)
