"""MNIST digits fed to a Fashion-MNIST model, or garments to an MNIST model: both sets have
ten classes, so `visualizer evaluate` used to run and report near-chance accuracy as if it
meant something. The model's class names say which set it was trained on: refused."""

import pytest
from support import shared_data

from visualizer.cli import main

MNIST, FASHION = shared_data("mnist"), shared_data("fashion-mnist")


@pytest.mark.skipif(not (MNIST.is_dir() and FASHION.is_dir()), reason="needs MNIST and Fashion-MNIST")
@pytest.mark.parametrize("model, data, words", [
    ("mnist-standard", f"fashion-mnist:{FASHION}", "the model's classes are mnist's"),
    ("fashion-standard", f"mnist:{MNIST}", "the model's classes are fashion-mnist's"),
    # another class count: the line says which model would fit, not only the two counts
    ("lite0-imagenet", f"mnist:{MNIST}", "the model 1000: it was not trained on mnist. Choose a model trained on it"),
    ("lite0-imagenet", f"fashion-mnist:{FASHION}", "e.g. fashion-standard"),
])
def test_the_other_data_set_is_refused_in_one_line(tmp_path, capsys, model, data, words):
    out = tmp_path / "eval"
    rc = main(["evaluate", "--model", model, "--data", data, "--limit", "4", "--threat", "clean", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and words in err and err.count("\n") == 1, err
    assert not out.exists()


@pytest.mark.skipif(not MNIST.is_dir(), reason="needs MNIST")
def test_the_models_own_data_set_still_runs(tmp_path, capsys):
    assert main(["evaluate", "--model", "mnist-standard", "--data", f"mnist:{MNIST}", "--limit", "4",
                 "--threat", "clean", "--out", str(tmp_path / "eval")]) == 0, capsys.readouterr().err
