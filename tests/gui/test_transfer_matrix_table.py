"""The Transfer table showing an evaluation record's transfer matrix (rows sources, columns
targets) from a real evaluation of two tiny MNIST models, offscreen; then back to one image's
rows. A preview is written to <tmp>/transfer-matrix-table.png for a human to look at."""

import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mnist_support import MNIST_DIR, MNIST_SPEC, ROBUST_EPS, as_classifier, one_thread, train_tiny_mnist  # noqa: E402

from visualizer.core.attacks.loop import drive  # noqa: E402
from visualizer.core.data import load_dataset  # noqa: E402
from visualizer.core.evaluation import evaluate, parse_threats  # noqa: E402
from visualizer.core.evaluation.output import evaluation_record  # noqa: E402
from visualizer.gui.panels.transfer_table import COLUMNS, TransferTable  # noqa: E402

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs the MNIST files in ../shared/data/mnist")


def test_table_shows_a_matrix_then_one_image_rows_again(qtbot):
    with one_thread():
        models = [as_classifier(train_tiny_mnist(), "standard"),
                  as_classifier(train_tiny_mnist(robust_eps=ROBUST_EPS), "robust")]
        data = [load_dataset(MNIST_SPEC, "test", preprocessing=m.info.preprocessing, limit=20) for m in models]
        ev = drive(evaluate(models, data, parse_threats(["transfer:fgsm:linf:0.2"]), batch_size=20))
    [matrix] = evaluation_record(ev)["transfer"]
    table = TransferTable()
    qtbot.addWidget(table)
    table.show_matrix(matrix)
    assert (table.rowCount(), table.columnCount()) == (2, 2)
    assert table.horizontalHeaderItem(1).text() == "on robust" and table.verticalHeaderItem(0).text() == "from standard"
    cell = matrix["cells"][0][1]
    assert table.item(0, 1).text().startswith(f"{100 * cell['success_rate']:.1f}%")
    assert table.item(1, 1).font().bold() and not table.item(0, 1).font().bold()
    table.resize(620, 140)
    table.grab().save(str(Path(tempfile.gettempdir()) / "transfer-matrix-table.png"))
    table.show_rows([{"source": "a", "model": "b", "clean": {"label": "3", "prob": 0.9},
                      "adversarial": {"label": "8", "prob": 0.6}, "changed": True}])
    assert table.columnCount() == len(COLUMNS) and table.item(0, 4).text() == "yes"
