"""``autoattack:NORM:EPS``: the authors' own AutoAttack (PyPI ``pyautoattack``, Croce & Hein),
standard version (APGD-CE, APGD-T, FAB-T, Square), so the numbers are the ones RobustBench
reports. Imported only when such a threat runs; it is an optional dependency
(``pip install adversarial-visualizer[autoattack]``).

Its sub-attacks run one at a time through its own ``run_standard_evaluation`` (each on the
examples the earlier ones left standing, exactly as its ensemble does), so progress and
cancel work between sub-attacks. Its own checks (a randomised or dynamic model, probability
outputs, zero gradients, Square beating the white-box attacks, too few classes) are logged
by it; they are collected here and become warnings of the record.
"""

from __future__ import annotations

import contextlib
import logging
import warnings as _warnings
from typing import Generator

import torch

from visualizer.core.cancel import CancelToken, is_cancelled
from visualizer.core.errors import ParameterError

LOGGER = "auto-attack"
NORMS = {"linf": "Linf", "l2": "L2"}


def load_autoattack():
    """The AutoAttack class, or a ParameterError saying how to install it."""
    try:
        from pyautoattack import AutoAttack
    except ImportError as exc:
        raise ParameterError(
            f"The autoattack threat runs the authors' AutoAttack, which is not installed ({exc}). "
            "Install it with: pip install pyautoattack  (or: pip install 'adversarial-visualizer[autoattack]'); "
            "apgd-ce and apgd-t are the project's own APGD and need nothing extra.") from None
    return AutoAttack


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def collected_warnings():
    """Its logger's warnings (and Python warnings it raises) into a list, not onto stderr."""
    logger = logging.getLogger(LOGGER)
    handler = _Collect()
    old_propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            yield handler.messages
        handler.messages.extend(str(w.message) for w in caught)
    finally:
        logger.removeHandler(handler)
        logger.propagate = old_propagate


def autoattack_stages(model, x: torch.Tensor, y: torch.Tensor, norm: str, eps: float, seed: int,
                      cancel: CancelToken | None = None) -> Generator:
    """Run the standard AutoAttack on ``x`` (m x C x H x W in [0, 1], correctly classified)
    and return a StageOutcome; yields a StageProgress per sub-attack."""
    from visualizer.core.evaluation.ensemble import StageOutcome, StageProgress

    auto_attack = load_autoattack()
    from pyautoattack import checks

    adversarial = x.detach().clone()
    standing = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
    accuracy = {"clean": 1.0}
    with collected_warnings() as collected:
        aa = auto_attack(model, norm=NORMS[norm], eps=eps, version="standard", seed=seed, device=x.device)
        names = list(aa.attacks_to_run)
        for i, name in enumerate(names):
            if is_cancelled(cancel):
                return StageOutcome(adversarial, None, None, [], True)
            rows = standing.nonzero().flatten()
            if rows.numel():
                aa.attacks_to_run = [name]
                x_adv, y_adv = aa.run_standard_evaluation(x[rows], y[rows], batch_size=int(rows.numel()))
                fooled = (y_adv.to(y.device) != y[rows])
                adversarial[rows[fooled]] = x_adv[fooled].to(x)
                standing[rows[fooled]] = False
            accuracy[name] = float(standing.float().mean())
            yield StageProgress("autoattack", i + 1, len(names))
        checks.check_square_sr(accuracy, logger=logging.getLogger(LOGGER))
    notes = []
    for message in collected:
        text = f"AutoAttack: {message}"
        if text not in notes:
            notes.append(text)
    return StageOutcome(adversarial, None, None, notes, False)
