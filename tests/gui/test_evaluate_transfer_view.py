"""The Evaluate tab's transfer view over a data set: a run with a transfer threat on the
bundled MNIST pair shows the transfer matrix (rows source, columns target) that
evaluation.json records, instead of a column of the accuracy table that never fills; a
cell of the plain threats still lists its own examples."""

import pytest

from mnist_support import MNIST_DIR, MNIST_SPEC
from window_support import LONG, add_model

pytestmark = pytest.mark.skipif(not MNIST_DIR.is_dir(), reason="needs the MNIST files in ../shared/data/mnist")


def evaluate_the_mnist_pair(qtbot, window, threats: str, limit: int):
    """Evaluate mnist-standard and mnist-robust-l2 on ``limit`` MNIST test images; the
    tab and its evaluation.json record's transfer matrices."""
    from visualizer.core.evaluation.output import evaluation_record

    add_model(qtbot, window, "mnist-standard")
    add_model(qtbot, window, "mnist-robust-l2")
    tab = window.workspace("evaluate")
    window.tabs.setCurrentWidget(tab.page)
    tab.setup.data_edit.setText(MNIST_SPEC)
    tab.setup.limit.setValue(limit)
    tab.setup.batch_size.setValue(limit)
    tab.setup.threats_edit.setText(threats)
    assert tab.setup.problem() is None, tab.setup.problem()
    window.last_error = None
    with qtbot.waitSignal(tab.runFinished, timeout=LONG):
        window.run(all_models=True)
    qtbot.waitUntil(lambda: not window.pool.busy(), timeout=LONG)
    assert window.last_error is None, window.last_error
    return tab, evaluation_record(tab.evaluation)["transfer"]


def test_a_transfer_threat_shows_its_matrix_in_the_results(qtbot, window):
    tab, [matrix] = evaluate_the_mnist_pair(qtbot, window, "transfer:fgsm:linf:0.2 fgsm:linf:0.1", 20)
    table = tab.transfer
    assert table.isVisible() and (table.rowCount(), table.columnCount()) == (2, 2)
    assert table.verticalHeaderItem(0).text().startswith("from ") and "robust" in table.horizontalHeaderItem(1).text()
    for i in range(2):
        for j in range(2):
            cell = matrix["cells"][i][j]
            assert table.item(i, j).text().startswith(f"{100 * cell['success_rate']:.1f}%")
    assert table.item(0, 0).font().bold() and not table.item(0, 1).font().bold()
    assert tab.transfer_title.isVisible() and "0.2" in tab.transfer_title.text()
    assert not tab.transfer_view.choice.isVisible()          # one matrix: nothing to choose
    # The accuracy table keeps the plain threat only, filled in; its cell lists that threat's examples.
    assert tab.table.columnCount() == 1 and "…" not in tab.table.text_at(0, 0)
    tab.table.cellChosen.emit(1, 0)
    assert "fgsm" in tab.examples_title.text().lower() and "transfer" not in tab.examples_title.text().lower()


def test_each_of_several_transfer_matrices_can_be_chosen(qtbot, window):
    # Two budgets, two matrices: only the first was reachable in the window before.
    tab, matrices = evaluate_the_mnist_pair(qtbot, window, "transfer:fgsm:linf:0.1,0.3", 12)
    assert [m["eps"] for m in matrices] == [0.1, 0.3]
    choice = tab.transfer_view.choice
    assert choice.isVisible() and [choice.itemText(i) for i in range(choice.count())] == [
        f"{m['label']}, \u03b5 = {m['eps']:g}" for m in matrices]
    for index, matrix in enumerate(matrices):
        choice.setCurrentIndex(index)
        assert f"\u03b5 = {matrix['eps']:g}" in tab.transfer_title.text()
        for i in range(2):
            for j in range(2):
                cell = matrix["cells"][i][j]
                assert tab.transfer.item(i, j).text().startswith(f"{100 * cell['success_rate']:.1f}%")
    # At eps 0.3 the crafted examples fool at least as many as at 0.1 (white-box diagonal).
    assert matrices[1]["cells"][0][0]["success_rate"] >= matrices[0]["cells"][0][0]["success_rate"]
