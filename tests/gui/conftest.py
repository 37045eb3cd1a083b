"""GUI tests: real widgets offscreen. A test that leaves a worker thread running fails."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
import torch  # noqa: E402
from support import digit_sample  # noqa: E402
from window_support import add_model, open_image  # noqa: E402


@pytest.fixture(autouse=True)
def no_threads_left_behind(request):
    yield
    from visualizer.gui.worker import running_workers

    leftover = running_workers()
    for w in leftover:          # stop them so one failure does not cascade into the next tests
        w.supersede()
        w.wait(30000)
    assert not leftover, f"{request.node.name} left {len(leftover)} worker thread(s) running"


@pytest.fixture(autouse=True)
def one_torch_thread():
    # Two cores: one for torch in the worker, one for the GUI thread and the test.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def form(qtbot):
    """The run-parameters panel on its own."""
    from visualizer.gui.params_form import ParamsForm

    f = ParamsForm()
    qtbot.addWidget(f)
    return f


@pytest.fixture
def settings(tmp_path):
    from visualizer.gui.qt import QtCore

    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    from visualizer.gui.main_window import MainWindow

    w = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    w.pool.shutdown()


@pytest.fixture
def make_window(qtbot, settings):
    """Windows of a given size, shown (``make_window(width, height)``), shut down after the test."""
    made = []

    def make(width, height):
        from visualizer.gui.main_window import MainWindow

        w = MainWindow(settings=settings, load_defaults=False)
        qtbot.addWidget(w)
        w.resize(width, height)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.pool.shutdown()


@pytest.fixture
def digits_window(qtbot, window):
    """The window with a digit scan and both bundled digit models loaded, the first selected."""
    open_image(qtbot, window, digit_sample())
    add_model(qtbot, window, "digits-standard")
    add_model(qtbot, window, "digits-robust")
    window.model_list.setCurrentRow(0)
    return window
