"""Help > Tutorial opens docs/tutorial.md offline, its figures loaded and scaled to fit."""

import re

import numpy as np
import pytest

from support import ROOT
from visualizer.gui.dialogs.tutorial import TutorialDialog, tutorial_path
from visualizer.gui.main_window import MainWindow
from visualizer.gui.qt import QtGui


@pytest.fixture
def window(qtbot, settings):
    w = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.pool.shutdown()


def image_links(markdown: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)


def test_help_tutorial_shows_the_text_and_its_figures(qtbot, window, tmp_path):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    action = next(a for a in help_menu.actions() if a.text() == "&Tutorial")
    action.trigger()
    dialog = window.findChild(TutorialDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)

    markdown = (ROOT / "docs" / "tutorial.md").read_text()
    heading = markdown.splitlines()[0].lstrip("# ")
    text = dialog.browser.toPlainText()
    assert heading in text and "Engstrom et al. 2018" in text
    assert "![" not in text and "**" not in text                 # rendered, not shown as source

    links = image_links(markdown)
    assert links and dialog.browser.image_names() == links
    for link in links:
        image = dialog.browser.image(link)
        assert not image.isNull() and image.width() >= 400, link

    # The figures shrink to the viewport (they are 1400 px wide), keeping their aspect.
    dialog.resize(700, 600)
    qtbot.wait(50)
    viewport = dialog.browser.viewport().width()
    for fmt, link in zip(dialog.browser.image_formats(), links):
        natural = dialog.browser.image(link).size()
        assert 0 < fmt.width() <= viewport
        assert fmt.height() == pytest.approx(fmt.width() * natural.height() / natural.width())

    # Scroll to the first figure and look at the pixels: a colourful figure, not a
    # broken-image placeholder.
    browser = dialog.browser
    cursor = browser.document().find("1. An imperceptible")
    browser.setTextCursor(cursor)
    browser.verticalScrollBar().setValue(browser.cursorRect().top() + browser.verticalScrollBar().value())
    qtbot.wait(50)
    grab = browser.viewport().grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB888)
    grab.save(str(tmp_path / "tutorial.png"))
    pixels = np.frombuffer(grab.constBits(), np.uint8).reshape(grab.height(), grab.bytesPerLine())[:, :grab.width() * 3]
    rgb = pixels.reshape(grab.height(), grab.width(), 3).reshape(-1, 3)
    colours = len(np.unique(rgb // 16, axis=0))
    saturated = ((rgb.max(axis=1).astype(int) - rgb.min(axis=1)) > 80).mean()
    assert colours > 200 and saturated > 0.05, (colours, saturated)
    dialog.close()


def test_tutorial_is_found_and_its_links_resolve():
    path = tutorial_path()
    assert path is not None
    for link in image_links(path.read_text()):
        assert (path.parent / link).is_file(), link


def test_missing_tutorial_says_so(qtbot, tmp_path, monkeypatch):
    import visualizer.gui.dialogs.tutorial as tutorial

    monkeypatch.setattr(tutorial, "tutorial_path", lambda: None)
    dialog = TutorialDialog()
    qtbot.addWidget(dialog)
    assert "not part of this installation" in dialog.browser.toPlainText()
