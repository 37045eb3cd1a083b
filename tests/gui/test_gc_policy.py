"""Garbage collection in the window: only on the GUI thread (a collection on a worker
destroyed Qt objects off their thread and deadlocked), off what is alive when the window
goes idle (a full collection during an export stalled the window for 0.6 s), and a discarded
network held in a reference cycle (timm's lite0 is one) still freed. Real window, real model."""

import gc
import threading
import weakref

import pytest

from support import digit_sample
from visualizer.gui import gc_policy
from visualizer.gui.worker import call_in_worker
from window_support import LONG, add_model, choose, open_image, run_and_wait, sample, set_field


@pytest.fixture
def policy_on():
    gc_policy.enable()
    yield
    gc_policy.enable(False)


def test_idle_state_is_frozen_and_a_discarded_network_is_freed(qtbot, window, policy_on):
    w = window
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "lite0-imagenet")
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert gc.get_freeze_count() > 100_000                  # modules, the window, the network
    net = weakref.ref(w.columns[0].model.net)
    w.remove_selected_model()
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert net() is not None                                # kept for Undo
    open_image(qtbot, w, sample("flower.jpg"))              # Undo can no longer bring it back
    assert net() is None
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    assert gc.get_freeze_count() > 100_000                  # frozen again once idle


def test_off_outside_the_app(qtbot, window):
    gc.unfreeze()
    open_image(qtbot, window, digit_sample())
    assert not gc_policy.enabled() and gc.get_freeze_count() == 0


def test_a_model_removed_for_good_is_freed(qtbot, window):
    """Each job's callbacks (which hold the model) were kept alive by the finished worker's
    own connections, a cycle through Qt: no removed model was ever freed."""
    w = window
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "digits-standard")
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", "2")
    run_and_wait(qtbot, w)
    model = weakref.ref(w.columns[0].model)
    w.remove_selected_model()
    open_image(qtbot, w, sample("flower.jpg"))             # Undo can no longer bring it back
    qtbot.wait(50)                                         # its panels' deferred deletion
    gc.collect()
    assert model() is None


class Cycle:
    """Garbage only the cyclic collector frees; says on which thread it was freed."""

    def __init__(self, freed_on_gui_thread: list):
        self.me, self.freed = self, freed_on_gui_thread

    def __del__(self):
        self.freed.append(threading.current_thread() is threading.main_thread())


def test_garbage_is_collected_on_the_gui_thread_only(qtbot, window):
    freed = []
    Cycle(freed)
    allocated = []
    # Enough new containers that an automatic collection would run on the worker. They stay
    # alive (returned, kept in `allocated`): freed, they would take the collector's count back
    # below its threshold and the GUI thread's timer would have no reason to collect either.
    window.jobs.start("allocate", call_in_worker(lambda: [[[], []] for _ in range(200_000)]),
                      on_finished=allocated.append)
    qtbot.waitUntil(lambda: bool(allocated) and not window.pool.busy(), timeout=LONG)
    qtbot.waitUntil(lambda: bool(freed), timeout=5000)        # the GUI thread's collector, within a second
    assert freed == [True] and not gc.isenabled()


def test_garbage_a_job_left_in_a_cycle_is_freed_not_frozen(policy_on):
    """Going idle froze everything tracked, garbage included: each export's matplotlib figure
    (a reference cycle) stayed in memory until a model was discarded."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1], [1, 0])
    left = weakref.ref(figure)
    del figure                          # garbage now, in cycles: only the collector frees it
    gc_policy.settle()                  # the jobs have ended
    gc.collect()
    assert left() is None
