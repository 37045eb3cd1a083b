"""The Samples menu is a gallery grouped by data set: MNIST and Fashion-MNIST submenus of
labelled test images first, then the photos; choosing one opens it at its own 28 px."""

from window_support import LONG


def test_samples_menu_groups_the_sets_and_opens_a_28px_digit(qtbot, window):
    menu = window.samples_menu
    subs = [a.menu() for a in menu.actions() if a.menu() is not None]
    assert [m.title() for m in subs][:2] == ["MNIST", "Fashion-MNIST"]
    mnist, fashion = subs[0], subs[1]
    assert [a.text() for a in mnist.actions()][3] == "3 (test image 18)" and len(mnist.actions()) == 10
    assert fashion.actions()[9].text().startswith("Ankle boot") and len(fashion.actions()) == 10
    assert all(not a.icon().isNull() for a in mnist.actions())
    assert "china.jpg" in [a.text() for a in menu.actions()]          # the photos stay, after the sets
    with qtbot.waitSignal(window.imageLoaded, timeout=LONG):
        mnist.actions()[3].trigger()
    assert (window.image.width, window.image.height) == (28, 28) and window.image.name == "3_idx18.png"
