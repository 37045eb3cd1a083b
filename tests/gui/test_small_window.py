"""The window in small sizes (issue 16: at 1000 x 700 the form showed 2.5 rows): the main
fields of every kind of run are in view without scrolling, rarely changed options fold into
"More options" (titled with what is set there), the image and model sections fold and stay
folded, and long names are elided with the whole text as tooltip instead of widening the
dock. Real window offscreen, real digits models."""

import pytest

from support import digit_sample
from visualizer.gui.qt import QtCore, QtWidgets
from window_support import add_model, choose, open_image, set_field

SIZES = [(1000, 700), (1280, 720)]
KINDS = {"fgsm": None, "pgd-linf": None, "pgd-l2": None, "spatial-grid": None, "spatial-random": None,
         "saliency": "smoothgrad"}


def in_view(widget, scroll):
    """The widget lies inside the scroll area's visible part."""
    top_left = widget.mapTo(scroll.viewport(), QtCore.QPoint(0, 0))
    return scroll.viewport().rect().contains(QtCore.QRect(top_left, widget.size()))


def main_rows(form):
    layout = form._form
    fields = [layout.itemAt(r, QtWidgets.QFormLayout.ItemRole.FieldRole) for r in range(layout.rowCount())]
    return [f.widget() for f in fields if f is not None and layout.isRowVisible(f.widget())]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_fields_are_in_view_without_scrolling(qtbot, make_window, size):
    w = make_window(*size)
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "digits-standard")
    assert w.dock.width() <= 0.3 * w.width()
    scroll = w.dock.form_scroll
    for key, method in KINDS.items():
        choose(w.form, key)
        if method:
            w.form.method.setCurrentIndex(w.form.method.findData(method))
        w.form.targeted.setChecked(key.startswith("pgd"))     # the target row shows only when asked for
        qtbot.wait(20)
        rows = main_rows(w.form)
        assert len(rows) >= 4, key
        assert all(in_view(row, scroll) for row in rows), key
        assert in_view(w.form.more, scroll) or not w.form.more.isVisible()
        assert scroll.verticalScrollBar().maximum() == 0, key
    assert w.run_button.isVisible() and w.cancel_button.isVisible()


def test_more_options_fold_say_what_is_set_and_open_on_a_mistake(qtbot, window):
    form = window.form
    choose(form, "pgd-linf")
    more = form.more
    assert more.isVisible() and not more.isExpanded() and more.text() == "More options"
    form.random_start.setChecked(True)
    form.seed.setValue(7)
    assert more.text() == "More options: random start, seed 7"
    set_field(form, "restarts", "0")                     # invalid: the section opens to show why
    assert more.isExpanded() and not form.is_valid()
    assert form.fields["restarts"].note.isVisibleTo(form)
    choose(form, "spatial-grid")                         # nothing of the grid sweep is in there
    assert not more.isVisible()


def test_sections_fold_and_stay_folded(qtbot, window, settings):
    dock = window.dock
    assert dock.image_section.isExpanded() and dock.models_section.isExpanded()
    qtbot.mouseClick(dock.image_section.toggleButton(), QtCore.Qt.MouseButton.LeftButton)
    assert not dock.image_section.isExpanded()
    assert dock.image_section.content().height() == 0 or dock.image_section.content().maximumHeight() == 0

    from visualizer.gui.main_window import MainWindow

    again = MainWindow(settings=settings, load_defaults=False)
    qtbot.addWidget(again)
    assert not again.dock.image_section.isExpanded() and again.dock.models_section.isExpanded()


def test_long_names_are_elided_not_widening_the_dock(qtbot, window, tmp_path):
    w = window
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "digits-standard")
    width = w.dock.minimumSizeHint().width()
    long = tmp_path / ("a-scan-with-a-very-long-file-name-" * 4 + ".png")
    long.write_bytes(digit_sample().read_bytes())
    open_image(qtbot, w, long)
    qtbot.wait(20)
    assert w.dock.minimumSizeHint().width() == width
    assert w.image_workspace.image_name.toolTip() == long.name
    assert len(w.dock.image_section.text()) < 40 and w.dock.image_section.text().endswith("\u2026")
    item = w.model_list.item(0)
    assert item.text() in item.toolTip()                 # the whole line, even where the list elides it


def test_three_attack_columns_fit_1280_px_with_their_titles_elided_not_cut(qtbot, make_window):
    """A column's model name and threat model set its width: three needed 1422 px. Now they
    elide, the whole text in their tooltips."""
    from window_support import run_and_wait

    w = make_window(1280, 720)
    open_image(qtbot, w, digit_sample())
    for spec in ("digits-standard", "digits-robust", "digits-standard"):
        add_model(qtbot, w, spec)
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "2")
    run_and_wait(qtbot, w, all_models=True, count=3)
    qtbot.wait(50)
    assert w.width() <= 1280
    views = list(w.workspace("attack").views.values())
    assert len(views) == 3
    for view in views:
        threat = view.threat_label
        assert threat.text().startswith("PGD") and threat.text() in threat.toolTip()
        assert view.title_label.text().startswith("digits-") and view.title_label.toolTip() == view.title_label.text()
        assert view.title_label.width() >= view.title_label.sizeHint().width() - 1   # the name is whole
