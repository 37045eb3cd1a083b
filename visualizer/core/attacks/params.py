"""Validated attack parameters. Everything the user types ends up here, checked, before it
reaches the attack loop."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from visualizer.core.errors import ParameterError
from visualizer.core.numbers import parse_number  # noqa: F401  (re-exported: its old home)

NORMS = ("linf", "l2")
METHODS = ("fgsm", "pgd")


TRANSFER_DEFAULTS = {"loss": "ce", "kappa": None, "momentum": 0.0, "diversity": 0.0}


def objective_name(targeted: bool) -> str:
    """What the attack loop maximises, as an axis label: the reference class's cross-entropy, or
    minus the target's (negative, rising to 0 as the target becomes certain)."""
    return "\u2212CE(target)" if targeted else "CE(reference)"
ONE_LEVEL = 1 / 255        # one 8-bit grey level in [0, 1] pixel units


@dataclass(frozen=True)
class AttackParams:
    """One gradient attack, fully resolved (defaults filled in, see ``resolved``).

    eps: for L-inf the largest per-pixel change in [0, 1] units; for L2 the L2 norm of the
    whole C x H x W perturbation at model-input size, in [0, 1] units.
    """

    method: str = "pgd"
    norm: str = "linf"
    eps: float = 4 / 255
    steps: int = 10
    step_size: float | None = None     # None -> 2.5 * eps / steps (Madry et al.)
    random_start: bool = False
    restarts: int = 1
    targeted: bool = False
    best_iterate: bool = True          # return the iterate with the highest loss (success first)
    early_stop: bool = False           # stop once every example succeeds
    seed: int = 0
    # Transfer options (core/attacks/transferability.py); the defaults are plain PGD.
    loss: str = "ce"                   # ce | margin (Carlini & Wagner 2017)
    kappa: float | None = None         # margin: stop pushing past this many logits (None: no cap)
    momentum: float = 0.0              # MI-FGSM decay mu (Dong et al. 2018); 0 = none
    diversity: float = 0.0             # input-diversity probability p (Xie et al. 2019); 0 = none

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ParameterError(f"Unknown attack {self.method!r}; choose one of {', '.join(METHODS)}.")
        if self.norm not in NORMS:
            raise ParameterError(f"Unknown norm {self.norm!r}; choose linf or l2.")
        if self.method == "fgsm" and self.norm != "linf":
            raise ParameterError("FGSM is defined for the L-inf norm only; use PGD for L2.")
        if not self.eps > 0:
            raise ParameterError(f"Epsilon must be positive, got {self.eps}.")
        if self.norm == "linf" and self.eps > 1:
            raise ParameterError(
                f"An L-inf epsilon of {self.eps} exceeds the whole [0, 1] pixel range; "
                "write budgets in [0, 1] units, e.g. 8/255 for 8 grey levels."
            )
        if int(self.steps) != self.steps or self.steps < 1:
            raise ParameterError(f"Steps must be a whole number of at least 1, got {self.steps}.")
        if self.step_size is not None and not self.step_size > 0:
            raise ParameterError(f"Step size must be positive, got {self.step_size}.")
        if int(self.restarts) != self.restarts or self.restarts < 1:
            raise ParameterError(f"Restarts must be a whole number of at least 1, got {self.restarts}.")
        self._check_transfer_options()
        self._refuse_contradictions()

    def _check_transfer_options(self) -> None:
        if self.loss not in ("ce", "margin"):
            raise ParameterError(f"Unknown attack loss {self.loss!r}; choose ce or margin.")
        if self.kappa is not None and (self.loss != "margin" or not self.kappa > 0):
            raise ParameterError(f"kappa {self.kappa} is the margin loss's confidence: a positive number of logits, "
                                 "with loss margin.")
        if not 0 <= self.momentum <= 10:
            raise ParameterError(f"Momentum must be a decay between 0 and 10 (MI-FGSM uses 1), not {self.momentum}.")
        if not 0 <= self.diversity <= 1:
            raise ParameterError(f"Input diversity is a probability in [0, 1], not {self.diversity}.")

    def _refuse_contradictions(self) -> None:
        """Requests that cannot mean what they say are refused, not silently changed: a
        result claiming five restarts or a random start must have had them."""
        if self.method == "fgsm":
            # FGSM is one full-budget step from the clean image (Goodfellow et al. 2015); a
            # random start (R+FGSM, Tramer et al. 2018), restarts or another step size would
            # make it a different attack, and ``resolved`` would drop them without a word.
            ignored = [name for name, given in (
                ("a random start", self.random_start), ("restarts", self.restarts != 1),
                ("a step size", self.step_size is not None and self.step_size != self.eps),
                ("early stopping", self.early_stop)) if given]
            if ignored:
                raise ParameterError(f"FGSM is one full-budget step from the clean image: {' and '.join(ignored)} "
                                     f"{'does' if len(ignored) == 1 else 'do'} not apply to it. Use PGD for those.")
        elif self.restarts > 1 and not self.random_start:
            # Without a random start PGD is deterministic: every restart repeats the first,
            # so the run would cost R times as much and report R restarts it never had.
            raise ParameterError(f"{self.restarts} restarts without a random start would repeat the same "
                                 "deterministic attack; turn on the random start or use 1 restart.")
        # Early stopping with best-iterate tracking off is allowed: the loop stops at the first
        # successful iterate, which is then also the last one, the one returned.

    def resolved(self) -> "AttackParams":
        """FGSM is one full-budget step from the clean image; PGD gets the default step size."""
        if self.method == "fgsm":
            return replace(self, steps=1, step_size=self.eps, random_start=False, restarts=1, best_iterate=False)
        if self.step_size is None:
            return replace(self, step_size=2.5 * self.eps / self.steps)
        return self

    def warnings(self) -> list[str]:
        """Legal but unusual choices: worth telling the user, not refusing."""
        out = []
        p = self.resolved()
        if p.method == "pgd" and p.step_size is not None and p.step_size > p.eps:
            out.append(f"Step size {p.step_size:.4g} is larger than epsilon {p.eps:.4g}: steps will mostly hit the boundary.")
        if p.method == "pgd" and p.step_size is not None and p.step_size * p.steps < p.eps:
            out.append("Steps x step size is smaller than epsilon: the attack cannot reach the edge of its budget.")
        if p.norm == "linf" and p.eps < ONE_LEVEL * (1 - 1e-6):
            # Legal (float-domain studies) but a saved 8-bit image cannot hold it: warn only.
            out.append(f"An L-inf epsilon of {p.eps * 255:.3g}/255 is below one 8-bit grey level (1/255): "
                       "an 8-bit image (the saved PNG) cannot hold this perturbation faithfully.")
        if p.norm == "l2" and p.eps > 100:
            out.append(f"An L2 epsilon of {p.eps:g} is very large for [0, 1] images.")
        return out

    def image_warnings(self, image_shape) -> list[str]:
        """``warnings()`` for images of ``image_shape`` (C x H x W, or N x C x H x W): an L2
        budget as large as the whole [0, 1] cube's diagonal, sqrt(C*H*W) (28 for one MNIST
        image), limits nothing: any image of that size is within it."""
        out = self.warnings()
        p = self.resolved()
        dims = 1
        for d in tuple(image_shape)[-3:]:
            dims *= int(d)
        if p.norm == "l2" and p.eps >= dims ** 0.5:
            out = [w for w in out if "very large" not in w]
            out.append(f"An L2 epsilon of {p.eps:g} is at least the largest L2 distance between two [0, 1] images "
                       f"of this size (sqrt({dims}) = {dims ** 0.5:.3g}): the budget limits nothing.")
        return out

    def to_dict(self) -> dict:
        """Every field, except the transfer options (loss, kappa, momentum, diversity) while
        they are at their defaults: plain PGD's records, card entries and resume fingerprints
        stay what they were before those options existed."""
        d = asdict(self)
        for name, default in TRANSFER_DEFAULTS.items():
            if d[name] == default:
                del d[name]
        return d
