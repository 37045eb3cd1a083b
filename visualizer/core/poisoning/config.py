"""What a poisoning experiment is: every setting of ``visualizer poison`` in one object,
checked before any work."""

from __future__ import annotations

from dataclasses import dataclass

from visualizer.core.errors import ParameterError
from visualizer.core.poisoning.clean_label import DEFAULT_EPS, DEFAULT_STEPS
from visualizer.core.poisoning.trigger import Trigger

ATTACKS = ("badnets", "clean-label")
DEFAULT_RATES = (0.0, 0.001, 0.005, 0.01, 0.05)
FIGURE_EXAMPLES = 8


@dataclass
class PoisonConfig:
    data: str                          # data-set spec (its train split is poisoned, its test split measures)
    attack: str                        # badnets | clean-label
    trigger: Trigger
    target: int | str                  # class index, or a class name (resolved when the data is read)
    arch: str
    out: str
    rates: tuple[float, ...] = DEFAULT_RATES
    epochs: int = 1
    seed: int = 0
    limit: int | None = None           # first N training images
    eval_limit: int | None = None      # first N test images
    batch_size: int = 128
    lr: float = 1e-3
    detect: bool = False
    detect_eps: float | None = None    # None: the true poisoned fraction of the most poisoned class
    detect_directions: int = 10        # top singular vectors scored (1: Tran et al.; bench/POISON.md)
    perturb_eps: float = DEFAULT_EPS   # clean-label PGD, L-inf, [0, 1] pixels
    perturb_steps: int = DEFAULT_STEPS
    robust_model: str | None = None    # for the record; the model itself is passed to the sweep

    def __post_init__(self) -> None:
        if self.attack not in ATTACKS:
            raise ParameterError(f"Unknown poisoning attack {self.attack!r}; choose {' or '.join(ATTACKS)}.")
        if not self.rates:
            raise ParameterError("--rates needs at least one poison rate.")
        for rate in self.rates:
            if not 0 <= rate < 1:
                raise ParameterError(f"Poison rates are fractions of the training set in [0, 1), not {rate:g} "
                                     "(write 0.01 for 1%).")
        if len(set(self.rates)) != len(self.rates):
            raise ParameterError("--rates lists a rate twice.")
        self.rates = tuple(sorted(self.rates))
        if self.detect_eps is not None and not 0 < self.detect_eps < 1:
            raise ParameterError(f"--detect-eps must be a fraction in (0, 1), not {self.detect_eps:g}.")
        if self.detect_directions < 1:
            raise ParameterError(f"--detect-directions must be at least 1, not {self.detect_directions}.")
        if not 0 < self.perturb_eps <= 1:
            raise ParameterError(f"--perturb-eps must be in (0, 1] (pixels in [0, 1]), not {self.perturb_eps:g}.")
        if self.perturb_steps < 1:
            raise ParameterError(f"--perturb-steps must be at least 1, not {self.perturb_steps}.")


def resolve_target(target: int | str, data: str, what: str = "--target", class_names: list[str] | None = None
                   ) -> int:
    """The target class's index in ``data``'s classes (data_class_names: no image is read;
    ``class_names``: those names already read), so a class the data does not have is
    refused before any work. Raises ParameterError starting with ``what`` ("--target: Class
    index 12 is out of range: the data has 10 classes (0-9)."), or DataError when the data's
    folder or file is missing."""
    from visualizer.core.data.dataset import data_class_names
    from visualizer.core.models.wrapper import class_index

    if not str(target).strip():
        raise ParameterError(f"{what}: choose the class the trigger should produce (its index or its name).")
    try:
        return class_index(target, class_names if class_names is not None else data_class_names(data),
                           owner="the data")
    except ParameterError as exc:
        raise ParameterError(f"{what}: {exc}") from None
