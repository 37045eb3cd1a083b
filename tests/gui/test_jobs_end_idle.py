"""Every job's end returns the window to idle, however it ended: a result, an error, Cancel,
or a newer run superseding it. Idle means the progress bar no longer busy and its text no
longer saying what runs ("Ready", "Cancelled" or what finished; never "Done" before anything
ran, issue 16), Cancel (button and Esc action) disabled, Run enabled. Each kind of job is
run several times in a row: the window once decided it was idle on a timer that could fire
while the job's thread was still finishing (issue 16: Transfer left the window busy about half the time)."""

import pytest

from support import digit_sample
from window_support import LONG, add_model, choose, open_image, set_field

ROUNDS = 4


def idle(qtbot, w):
    qtbot.waitUntil(lambda: not w.pool.busy(), timeout=LONG)
    qtbot.wait(50)     # anything queued behind the job's end has been delivered
    assert not w.cancel_button.isEnabled() and not w.act_cancel.isEnabled()
    text = w.progress_label.text()
    assert text in ("Ready", "Cancelled") or " finished in " in text, text
    assert w.progress.maximum() > 0 and w.progress.value() in (w.progress.minimum() - 1, w.progress.maximum())


def attack(qtbot, w, steps="3"):
    choose(w.form, "pgd-linf")
    set_field(w.form, "steps", steps)
    w.run(all_models=True)


def transfer(qtbot, w):
    if "attack" not in w.columns[0].results:
        attack(qtbot, w)
        idle(qtbot, w)
    w.model_list.setCurrentRow(0)
    w.run_transfer()


def long_attack_cancelled(qtbot, w):
    attack(qtbot, w, steps="100000")
    qtbot.waitUntil(lambda: w.progress.maximum() >= 100000 and w.progress.value() >= 2, timeout=LONG)
    w.cancel()


def attack_superseded(qtbot, w):
    attack(qtbot, w, steps="100000")
    set_field(w.form, "steps", "2")
    w.run(all_models=True)


def sweep(qtbot, w):
    choose(w.form, "spatial-grid")
    set_field(w.form, "rotations", "3")
    set_field(w.form, "translations", "3")
    w.run()


def saliency(qtbot, w):
    choose(w.form, "saliency")
    w.run(all_models=True)


def broken_image(qtbot, w, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with qtbot.waitSignal(w.errorShown, timeout=LONG):
        w.open_image(bad)


JOBS = {
    "image": lambda qtbot, w, tmp_path: w.open_image(digit_sample()),
    "broken image": broken_image,
    "model": lambda qtbot, w, tmp_path: w.load_model("digits-standard", {"device": "cpu"}),
    "model cancelled": lambda qtbot, w, tmp_path: (w.load_model("digits-standard", {"device": "cpu"}), w.cancel()),
    "missing model": lambda qtbot, w, tmp_path: w.load_model(f"ckpt:{tmp_path / 'missing.pt'}",
                                                             {"arch": "preact-resnet18"}),
    "attack": lambda qtbot, w, tmp_path: attack(qtbot, w),
    "attack cancelled": lambda qtbot, w, tmp_path: long_attack_cancelled(qtbot, w),
    "attack superseded": lambda qtbot, w, tmp_path: attack_superseded(qtbot, w),
    "sweep": lambda qtbot, w, tmp_path: sweep(qtbot, w),
    "saliency": lambda qtbot, w, tmp_path: saliency(qtbot, w),
    "transfer": lambda qtbot, w, tmp_path: transfer(qtbot, w),
}


@pytest.mark.parametrize("kind", list(JOBS))
def test_every_job_returns_the_window_to_idle(qtbot, window, tmp_path, kind):
    w = window
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "digits-standard")
    add_model(qtbot, w, "digits-robust")
    idle(qtbot, w)
    for _ in range(ROUNDS):
        JOBS[kind](qtbot, w, tmp_path)
        idle(qtbot, w)
        assert w.run_all_button.isEnabled()


def test_a_tabs_own_cancel_reads_cancelled_not_finished(qtbot, window):
    """The Train tab, the Poison panel and the Black box tab cancel their own slot (not the
    window's Cancel): the dock then said "... finished in N s" after a cancelled run."""
    w = window
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "digits-standard")
    idle(qtbot, w)
    attack(qtbot, w, steps="100000")
    qtbot.waitUntil(lambda: w.progress.maximum() >= 100000 and w.progress.value() >= 2, timeout=LONG)
    for slot in list(w.jobs.pool.running()):
        w.jobs.cancel(slot)
    idle(qtbot, w)
    assert w.progress_label.text() == "Cancelled"
    attack(qtbot, w, steps="2")      # the next spell, not cancelled, reads finished again
    idle(qtbot, w)
    assert " finished in " in w.progress_label.text()


def test_saliency_replaces_the_previous_runs_status_line(qtbot, window):
    w = window
    open_image(qtbot, w, digit_sample())
    add_model(qtbot, w, "digits-standard")
    idle(qtbot, w)
    sweep(qtbot, w)
    idle(qtbot, w)
    assert w.statusBar().currentMessage().startswith("Sweep on")
    saliency(qtbot, w)
    idle(qtbot, w)
    assert w.statusBar().currentMessage().startswith("Saliency on digits-standard")
