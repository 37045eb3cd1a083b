"""What a training run is: the adversarial recipe (``--adversarial``) and every setting that
decides the weights (``TrainConfig``). A resumed run must match the interrupted one's
config, so the config is also the checkpoint's fingerprint.

Recipes (eps in [0, 1] pixel units, fractions such as 8/255 accepted):
    none                    standard training (cross-entropy on clean images)
    pgd:linf:EPS[:STEPS]    PGD adversarial training, Madry et al. 2018: random start, STEPS steps
    pgd:l2:EPS[:STEPS]      of size 2.5 * eps / STEPS, training on the last iterate
    fgsm-rs:linf:EPS        fast adversarial training, Wong, Rice & Kolter 2020: uniform random start
                            in the eps ball, one signed-gradient step of 1.25 * eps, projected
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from visualizer.core.attacks.params import AttackParams, parse_number
from visualizer.core.errors import ParameterError
from visualizer.core.numbers import parse_whole

DEFAULT_PGD_STEPS = 7          # Madry et al.'s CIFAR-10 setting; their MNIST runs used 40
EVALUATION_ONLY = ("eval_attack", "eval_attack_limit")   # read once training ends
FGSM_RS_STEP = 1.25            # Wong et al. 2020: alpha = 1.25 eps
RECIPE_FORMS = ("none", "pgd:linf:EPS[:STEPS]", "pgd:l2:EPS[:STEPS]", "fgsm-rs:linf:EPS")


@dataclass(frozen=True)
class AdversarialRecipe:
    """How each training batch is perturbed before the weight update (method "none": not)."""

    method: str = "none"        # none | pgd | fgsm-rs
    norm: str | None = None     # linf | l2
    eps: float = 0.0
    steps: int = 0

    @property
    def adversarial(self) -> bool:
        return self.method != "none"

    def attack(self, eps: float, seed: int) -> AttackParams:
        """The project's attack parameters for one batch at budget ``eps`` (ramped during
        warm-up), seeded per batch so the random starts are reproducible."""
        if self.method == "fgsm-rs":
            return AttackParams(method="pgd", norm="linf", eps=eps, steps=1, step_size=FGSM_RS_STEP * eps,
                                random_start=True, best_iterate=False, seed=seed)
        return AttackParams(method="pgd", norm=self.norm, eps=eps, steps=self.steps, random_start=True,
                            best_iterate=False, seed=seed)

    def spec(self) -> str:
        if self.method == "none":
            return "none"
        if self.method == "fgsm-rs":
            return f"fgsm-rs:linf:{self.eps!r}"   # repr: the exact float, so the spec reproduces it
        return f"pgd:{self.norm}:{self.eps!r}:{self.steps}"

    def describe(self) -> str:
        if self.method == "none":
            return "standard training"
        name = {"linf": "L-inf", "l2": "L2"}[self.norm]
        if self.method == "fgsm-rs":
            return f"FGSM-RS adversarial training, {name} eps {self.eps:g} (Wong et al. 2020)"
        return f"PGD-{self.steps} adversarial training, {name} eps {self.eps:g} (Madry et al. 2018)"


def parse_adversarial(text: str, option: str | None = None) -> AdversarialRecipe:
    """``none``, ``pgd:NORM:EPS[:STEPS]`` or ``fgsm-rs:linf:EPS``; raises ParameterError,
    naming ``option`` (``--adversarial``, ``--watch``, ...) and the recipe in every refusal
    (several options take recipes, and the eps checks alone said neither)."""
    try:
        return _parse_recipe(text)
    except ParameterError as exc:
        message = str(exc) if repr(text) in str(exc) else f"{text!r}: {exc}"
        raise ParameterError(f"{option} {message}" if option else message) from None


def _parse_recipe(text: str) -> AdversarialRecipe:
    parts = [p.strip() for p in (text or "").strip().split(":")]
    method = parts[0].lower()
    usage = f"write one of {', '.join(RECIPE_FORMS)} (e.g. pgd:linf:0.3:40 or fgsm-rs:linf:8/255)"
    if method == "none" and len(parts) == 1:
        return AdversarialRecipe()
    if method not in ("pgd", "fgsm-rs") or len(parts) < 3:
        raise ParameterError(f"Unknown adversarial recipe {text!r}: {usage}.")
    norm = parts[1].lower()
    if norm not in ("linf", "l2") or (method == "fgsm-rs" and norm != "linf"):
        raise ParameterError(f"{text!r}: {method} takes the norm {'linf' if method == 'fgsm-rs' else 'linf or l2'}, "
                             f"not {parts[1]!r}.")
    eps = parse_number(parts[2], "The recipe's eps")
    if method == "fgsm-rs":
        if len(parts) != 3:
            raise ParameterError(f"{text!r}: FGSM-RS takes one step; write fgsm-rs:linf:EPS.")
        steps = 1
    else:
        if len(parts) > 4:
            raise ParameterError(f"Too many fields in {text!r}: {usage}.")
        # The grammar of every count (1e1 and 20/2 are 10), as the README promises.
        steps = parse_whole(parts[3], "The number of steps") if len(parts) == 4 else DEFAULT_PGD_STEPS
    recipe = AdversarialRecipe(method, norm, eps, steps)
    recipe.attack(eps, 0)   # the attack's own checks: eps > 0, L-inf eps <= 1, steps >= 1
    return recipe


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights (plus where to write them)."""

    data: str
    arch: str
    out: str
    adversarial: AdversarialRecipe = field(default_factory=AdversarialRecipe)
    epochs: int = 1
    seed: int = 0
    split: str = "train"
    test_data: str | None = None      # default: the same spec's test split, else a held-out part
    holdout: float = 0.1              # fraction held out when the data has no test split
    limit: int | None = None          # first N training examples
    eval_limit: int | None = None     # first N test examples for clean accuracy
    eval_attack: str = "auto"         # auto | none | pgd:NORM:EPS[:STEPS] for the card's robust accuracy
    eval_attack_limit: int = 1000
    batch_size: int = 128             # global: split across torchrun processes
    lr: float = 1e-3                  # Adam, one-cycle peak
    eps_warmup: float = 0.0           # epochs over which eps ramps linearly from 0 to its value
    attack_mode: str = "eval"         # the model's mode while the attack runs: eval | train
    sam: float = 0.0                  # SAM's rho (sam.py): 0 plain steps

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}.")
        if not 0 < self.holdout < 1:
            raise ParameterError(f"--holdout must be a fraction between 0 and 1, not {self.holdout}.")
        if not self.lr > 0:
            raise ParameterError(f"--lr must be positive, not {self.lr}.")
        if self.eps_warmup < 0:
            raise ParameterError(f"--eps-warmup must be 0 or more epochs, not {self.eps_warmup}.")
        if self.eps_warmup > 0 and not self.adversarial.adversarial:
            raise ParameterError(f"--eps-warmup ramps the eps of adversarial training up; standard training "
                                 "(--adversarial none) has none. Give --adversarial, or leave --eps-warmup out.")
        if not self.sam >= 0:
            raise ParameterError(f"SAM's rho must be 0 (off) or positive, not {self.sam}.")
        if self.attack_mode not in ("eval", "train"):
            raise ParameterError(f"--attack-mode must be eval or train, not {self.attack_mode!r}.")
        for name in ("limit", "eval_limit", "eval_attack_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ParameterError(f"--{name.replace('_', '-')} must be at least 1, not {value}.")

    def eval_params(self) -> AttackParams | None:
        """The attack behind the card's robust accuracy: the project's scored PGD (best
        iterate, no random start, as `visualizer attack` runs it); "auto" is the training
        threat with 20 steps, nothing for standard training."""
        text = self.eval_attack.strip().lower()
        if text == "none" or (text == "auto" and not self.adversarial.adversarial):
            return None
        if text == "auto":
            r = self.adversarial
            return AttackParams(method="pgd", norm=r.norm, eps=r.eps, steps=20)
        recipe = parse_adversarial(text, "--eval-attack")
        if recipe.method != "pgd":
            raise ParameterError(f"--eval-attack takes none, auto or pgd:NORM:EPS[:STEPS], not {self.eval_attack!r}.")
        return AttackParams(method="pgd", norm=recipe.norm, eps=recipe.eps,
                            steps=recipe.steps if text.count(":") == 3 else 20)

    def fingerprint(self) -> dict:
        """The settings a resumed run must share with the run it continues: those that decide
        the weights and the per-epoch history. The card's final attack (``eval_attack*``) runs
        after training, so a resumed run may choose another."""
        d = self.to_dict()
        for key in ("out",) + EVALUATION_ONLY:
            d.pop(key)
        return d

    def to_dict(self) -> dict:
        d = asdict(self)
        d["adversarial"] = self.adversarial.spec()
        if not self.sam:   # records of plain training stay as they were before SAM existed
            d.pop("sam")
        return d
