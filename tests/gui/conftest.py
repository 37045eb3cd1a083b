"""GUI tests: real widgets offscreen. A test that leaves a worker thread running fails."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_threads_left_behind(request):
    yield
    from visualizer.gui.worker import running_workers

    leftover = running_workers()
    for w in leftover:          # stop them so one failure does not cascade into the next tests
        w.supersede()
        w.wait(30000)
    assert not leftover, f"{request.node.name} left {len(leftover)} worker thread(s) running"


@pytest.fixture
def settings(tmp_path):
    from visualizer.gui.qt import QtCore

    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.IniFormat)
