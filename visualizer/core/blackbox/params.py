"""Validated parameters of a query (black-box) attack: what the user types, checked before
any query is spent."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from visualizer.core.errors import ParameterError

QUERY_METHODS = ("square", "nes", "hopskipjump")
# Oracles each method can work with: the score-based ones need probabilities.
NEEDS_SCORES = ("square", "nes")
# The method settings each attack reads; one given to another method would be silently
# ignored, so it is refused.
METHOD_SETTINGS = {"square": ("p_init",), "nes": ("samples", "sigma", "step_size"), "hopskipjump": ("samples",)}


@dataclass(frozen=True)
class QueryAttackParams:
    """One query attack, fully resolved by ``resolved``.

    eps: L-inf largest per-pixel change, or L2 norm of the whole perturbation, in [0, 1]
    pixel units at model-input size. queries: the per-image query budget (every oracle
    query counts, the clean one included). Method settings (None: the paper's default):

    - square: ``p_init`` the first square's share of the image (0.05 L-inf, 0.1 L2,
      Andriushchenko et al. 2020, halved on their schedule as queries are spent);
    - nes: ``samples`` queries per gradient estimate (antithetic pairs, even, 50),
      ``sigma`` the sampling radius in pixel units (0.001), ``step_size`` the PGD step
      (eps / 5) (Ilyas et al. 2018);
    - hopskipjump: ``samples`` the first gradient estimate's probes (100, growing as
      sqrt(iteration)) (Chen et al. 2020); untargeted only.

    Raises ParameterError for anything out of range, and for a setting the method does not
    read (``METHOD_SETTINGS``).
    """

    method: str = "square"
    norm: str = "linf"
    eps: float = 8 / 255
    queries: int = 1000
    targeted: bool = False
    seed: int = 0
    p_init: float | None = None
    samples: int | None = None
    sigma: float | None = None
    step_size: float | None = None

    def __post_init__(self) -> None:
        if self.method not in QUERY_METHODS:
            raise ParameterError(f"Unknown query attack {self.method!r}; choose one of {', '.join(QUERY_METHODS)}.")
        if self.norm not in ("linf", "l2"):
            raise ParameterError(f"Unknown norm {self.norm!r}; choose linf or l2.")
        if not self.eps > 0 or (self.norm == "linf" and self.eps > 1):
            raise ParameterError(f"Epsilon must be positive (at most 1 for L-inf), got {self.eps}.")
        if int(self.queries) != self.queries or self.queries < 2:
            raise ParameterError(f"The query budget must be a whole number of at least 2, got {self.queries}.")
        ignored = [name for name in ("p_init", "samples", "sigma", "step_size")
                   if getattr(self, name) is not None and name not in METHOD_SETTINGS[self.method]]
        if ignored:
            flags = " and ".join(f"--{name.replace('_', '-')}" for name in ignored)
            takes = ", ".join(f"--{name.replace('_', '-')}" for name in METHOD_SETTINGS[self.method])
            raise ParameterError(f"{flags} {'does' if len(ignored) == 1 else 'do'} not apply to the query attack "
                                 f"{self.method} (its settings: {takes}).")
        if self.p_init is not None and not 0 < self.p_init <= 1:
            raise ParameterError(f"p_init must be in (0, 1], got {self.p_init}.")
        if self.samples is not None and (int(self.samples) != self.samples or self.samples < 2):
            raise ParameterError(f"Samples must be a whole number of at least 2, got {self.samples}.")
        if self.method == "nes" and self.samples is not None and self.samples % 2:
            raise ParameterError(f"NES samples come in antithetic pairs: give an even number, not {self.samples}.")
        for name in ("sigma", "step_size"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ParameterError(f"{name.replace('_', ' ').capitalize()} must be positive, got {value}.")
        if self.targeted and self.method == "hopskipjump":
            raise ParameterError("The targeted HopSkipJump needs a starting image of the target class; "
                                 "only the untargeted attack is offered.")

    def resolved(self) -> "QueryAttackParams":
        if self.method == "square":
            return replace(self, p_init=self.p_init or (0.05 if self.norm == "linf" else 0.1))
        if self.method == "nes":
            return replace(self, samples=self.samples or 50, sigma=self.sigma or 1e-3,
                           step_size=self.step_size or self.eps / 5)
        return replace(self, samples=self.samples or 100)

    def warnings(self) -> list[str]:
        p = self.resolved()
        out = []
        if p.method == "nes" and p.queries < p.samples + 2:
            out.append(f"A budget of {p.queries} queries is less than one NES step ({p.samples + 1} queries after "
                       "the clean one): the attack cannot move.")
        return out

    def to_dict(self) -> dict:
        return asdict(self)


def query_loss_name(method: str) -> str:
    """What a query attack's loss is, for axes and progress text: HopSkipJump tracks eps minus
    the distance to the clean image (positive inside the budget), the others the margin."""
    return "\u03b5 \u2212 distance" if method == "hopskipjump" else "margin"
