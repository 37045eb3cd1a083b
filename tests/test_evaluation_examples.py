"""An evaluated example as the window's image (core/evaluation/examples.py): the picture the
data set holds, which the window's preprocessing turns into exactly the model input the
evaluation's batch held (MNIST idx files and an image folder, with the bundled 32x32 digit
model); and the evaluation's files written as one step (output.export_evaluation)."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mnist_support import MNIST_DIR, MNIST_SPEC
from visualizer.core.data import load_dataset
from visualizer.core.errors import DataError, OutputError
from visualizer.core.evaluation.examples import example_image
from visualizer.core.images import preprocess


@pytest.fixture(scope="module")
def digits():
    from visualizer.core.models.registry import LoadOptions, load_model

    return load_model("digits-standard", LoadOptions(device="cpu"))


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs the MNIST files")
def test_an_mnist_example_preprocesses_to_the_evaluated_input(digits):
    pre = digits.info.preprocessing
    data = load_dataset(MNIST_SPEC, "test", preprocessing=pre, class_names=digits.info.class_names, limit=12)
    for index in (0, 7, 11):
        image, encoded = example_image(data, index)
        assert image.name == f"mnist-test #{index}" and (image.width, image.height) == (28, 28)
        x, _ = preprocess(image, pre)
        assert torch.equal(x, data.batch([index])[0])
        stored = data.images[index, 0].numpy()
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(encoded))), stored)    # lossless for a session
    with pytest.raises(DataError, match="not in"):
        example_image(data, 12)


def test_a_folder_example_is_its_file(digits, tmp_path):
    rng = np.random.default_rng(0)
    files = {}
    for label in ("3", "8"):
        (tmp_path / label).mkdir()
        for k in range(2):
            path = tmp_path / label / f"{k}.png"
            Image.fromarray(rng.integers(0, 256, (40, 30), dtype=np.uint8)).save(path)
            files[path] = path.read_bytes()
    pre = digits.info.preprocessing
    data = load_dataset(f"folder:{tmp_path}", preprocessing=pre, class_names=digits.info.class_names)
    assert data.paths is None          # decoded up front: the file is found again by listing
    for index in range(len(data)):
        image, encoded = example_image(data, index)
        assert encoded == files[Path(image.path)]
        assert torch.equal(preprocess(image, pre)[0], data.batch([index])[0])


@pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs the MNIST files")
def test_export_evaluation_is_one_step(digits, tmp_path):
    from visualizer.cli.common import drive
    from visualizer.core.evaluation import evaluate, parse_threats
    from visualizer.core.evaluation.output import export_evaluation

    data = load_dataset(MNIST_SPEC, "test", preprocessing=digits.info.preprocessing,
                        class_names=digits.info.class_names, limit=4)
    ev = drive(evaluate([digits], [data], parse_threats(["clean"]), batch_size=4), lambda _e: None)
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="already holds files"):
        export_evaluation(out, ev, dpi=50)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    with pytest.raises(OutputError, match="holds notes.txt, which no earlier run"):   # not an earlier run's
        export_evaluation(out, ev, overwrite=True, dpi=50)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    (out / "notes.txt").unlink()
    export_evaluation(out, ev, dpi=50)
    (out / "per_example.csv").write_text("an older export's")
    record = export_evaluation(out, ev, overwrite=True, dpi=50)      # an earlier export: replaced in one step
    assert record["examples"]["done"] == 4 and (out / "evaluation.json").is_file()
    assert (out / "per_example.csv").read_text() != "an older export's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
