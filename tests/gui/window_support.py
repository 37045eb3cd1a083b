"""Driving the real window in tests like a user would (helpers shared by the window test
files; the fixtures that build windows are in conftest.py)."""

from visualizer.core.resources import sample_images

LONG = 120_000   # ms: generous waits; CI machines are slow and shared


def sample(name):
    return next(p for p in sample_images() if p.name == name)


def retype(qtbot, edit, text):
    """Like a user: select all, then type (textChanged fires per key)."""
    edit.selectAll()
    edit.del_()
    qtbot.keyClicks(edit, text)


def choose(form, key):
    form.attack.setCurrentIndex(form.attack.findData(key))


def set_field(form, name, text):
    form.fields[name].edit.setText(text)


def open_image(qtbot, w, path):
    with qtbot.waitSignal(w.imageLoaded, timeout=LONG):
        w.open_image(path)


def add_model(qtbot, w, spec, options=None):
    with qtbot.waitSignal(w.modelLoaded, timeout=LONG):
        index = w.load_model(spec, {"device": "cpu"} if options is None else options)
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    return index


def run_and_wait(qtbot, w, all_models=False, count=1):
    finished = []
    w.last_error = None                  # only an error from this run counts
    w.runFinished.connect(finished.append)
    w.run(all_models=all_models)
    qtbot.waitUntil(lambda: len(finished) >= count and not w.pool.busy(), timeout=LONG)
    w.runFinished.disconnect(finished.append)
    assert w.last_error is None, w.last_error
    return finished


def run_sweep(qtbot, w, rotations=7, translations=3):
    """A rotation x translation grid sweep on the selected model; its record."""
    choose(w.form, "spatial-grid")
    set_field(w.form, "rotations", str(rotations))
    set_field(w.form, "translations", str(translations))
    run_and_wait(qtbot, w)
    return w.columns[w.model_list.currentRow()].results["sweep"].record


def export_and_wait(qtbot, w, choice):
    """Export as File > Export does (in a worker) and wait for it: what was written, or None."""
    with qtbot.waitSignal(w.exportFinished, timeout=LONG) as blocker:
        w.export_to(choice)
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    return blocker.args[0]


def shown(qtbot, widget, width, height):
    """``widget`` alone on screen at ``width`` x ``height``, closed after the test."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget
