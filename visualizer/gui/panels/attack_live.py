"""The live part of an attack column (attack_view.py): drawing the iterates while the attack
runs, about 20 progress events a second, without stalling the GUI thread."""

from __future__ import annotations

import time

import numpy as np

from visualizer.core.formatting import prob_text
from visualizer.gui.qt import QtCore


STATUS_INTERVAL_S = 0.25    # the running status line's text at most this often (it is read, not watched)


class AttackLive:
    """Mixed into AttackView: ``show_progress`` and the drawing it defers."""

    def _init_live(self) -> None:
        self._live_turn = 0                                   # progress events shown (see show_progress)
        self._live = None                                     # the last progress event's data
        self._pending: dict = {}                              # what of it is not drawn yet
        self._catch_up = QtCore.QTimer(self)
        self._catch_up.setSingleShot(True)
        self._catch_up.setInterval(120)                       # progress comes every 50 ms while it runs
        self._catch_up.timeout.connect(self._draw_pending)
        self._status_shown_at = 0.0                           # perf_counter of the last running status text

    def show_progress(self, step: int, total: int, loss: float, ref_prob: float, target_prob: float | None,
                      top5: list[dict], adversarial: np.ndarray | None = None) -> None:
        """One live iterate. ``step`` is the x position (iterate over all restarts, i.e.
        ``AttackStep.done - 1``; 0 is the starting point), ``total`` the iterates the whole
        attack will evaluate (so the last is ``total - 1``, where the x axis ends)."""
        # Half the column per event, in turns: the images, then the plot and top-5 (each at
        # 10 per second). Redrawing all of it at once took the GUI thread 15-25 ms per event,
        # plus its waits for the worker's GIL at each of its many calls into Python. The half
        # left out is drawn if no event follows soon (the last one, or a pause).
        self._live_turn += 1
        # The last iterate: all of it. (The first was drawn whole too: images, plot, axes and
        # top-5 at once made the longest GUI event of an attack, 40-50 ms of CPU on a quiet machine.)
        first = step >= total - 1
        can_show = adversarial is not None and self._clean is not None
        images = can_show and (first or self._live_turn % 2 == 0)
        plot = first or not images
        self.history.append(step, loss, ref_prob, target_prob, total, redraw=plot)
        self._live = (step, total, top5, adversarial)
        # The status line is a word-wrapped label: new text re-lays out the column (about 1 ms
        # per event), so it changes a few times a second, and the catch-up shows the last one.
        status = (f"Running: iterate {step} of {total - 1} \u00b7 loss {loss:.3g} \u00b7 "
                  f"P(reference) {prob_text(ref_prob)}")
        now = time.perf_counter()
        show_status = first or now - self._status_shown_at >= STATUS_INTERVAL_S
        self._pending = {"plot": not plot, "images": can_show and not images,
                         "status": None if show_status else status}
        if images:
            self._draw_live_images()
        if plot:
            self._draw_live_plot()
        self._catch_up.start()
        if show_status:
            self._status_shown_at = now
            self.status_label.setText(status)

    def _draw_live_images(self) -> None:
        _step, _total, top5, adversarial = self._live
        adv = np.asarray(adversarial, dtype=np.float32)
        self._show_adversarial(adv[0] if adv.ndim == 4 else adv, top5)

    def _draw_live_plot(self) -> None:
        step, total, top5, _adversarial = self._live
        self.history.redraw_curves()
        self.bars_after.set_entries(top5, self._reference, self._target)
        self.bars_after.set_title(f"Top-5 at iterate {step}/{total - 1}")

    def _draw_pending(self) -> None:
        """The half of the last progress event's drawing left for later (see show_progress)."""
        pending, self._pending = self._pending, {}
        if self._live is None:
            return
        if pending.get("plot"):
            self._draw_live_plot()
        if pending.get("images") and self._clean is not None:
            self._draw_live_images()
        if pending.get("status"):
            self._status_shown_at = time.perf_counter()
            self.status_label.setText(pending["status"])

    def _stop_live(self) -> None:
        self._catch_up.stop()
        self._live, self._pending, self._live_turn = None, {}, 0
        self._status_shown_at = 0.0
