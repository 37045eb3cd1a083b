"""The settings of a model-stealing experiment (``visualizer steal``), validated up front so a
bad value fails before anything loads or trains, with one message."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from visualizer.core.errors import ParameterError
from visualizer.core.numbers import parse_whole

DEFENCE_FORMS = ("none", "label", "rounded:D", "reverse-sigmoid[:BETA[:GAMMA]]")
# The copies' trainer seeds: substitute.thief_seed (salted sha256 of the thief's seed).
COPY_SEED_STREAM = "thief_seed-sha256-v1"
# Settings a fingerprint keeps only away from their default (runs saved before they existed
# resume), and those defaults (a refusal to resume names them rather than None).
FINGERPRINT_DEFAULTS = {"shifts": 0, "adversarial": "none", "copy_specs": [], "adversarial_queries": 0,
                        "query_select": "order", "pool": 0}


def parse_query_counts(text: str) -> list[int]:
    """``1000,5000`` -> [1000, 5000]: strictly increasing whole numbers >= 1."""
    tokens = [t.strip() for t in str(text or "").split(",")]
    if not text or not all(tokens):
        raise ParameterError(f"--queries {text!r}: write one or more query counts, e.g. 1000,5000.")
    counts = [parse_whole(token, "--queries") for token in tokens]
    if min(counts) < 1:
        raise ParameterError(f"--queries: every count must be at least 1, got {min(counts)}.")
    if counts != sorted(set(counts)):
        raise ParameterError(f"--queries {text!r}: list the counts in increasing order, each once.")
    return counts


def parse_defences(text: str | None) -> list[str]:
    """``none,label,rounded:1,reverse-sigmoid`` -> canonical defence texts, each checked."""
    from visualizer.core.blackbox import parse_defence, parse_oracle_spec

    out = []
    for token in [t.strip().lower() for t in str(text or "none").split(",")]:
        if token in ("", "none"):
            canonical = "none"
        elif token == "label":
            canonical = "label"
        elif token.startswith("rounded"):
            canonical = str(parse_oracle_spec(token))
        elif token.startswith("reverse-sigmoid"):
            canonical = str(parse_defence(token))
        else:
            raise ParameterError(f"Unknown defence {token!r}; write one or more of {', '.join(DEFENCE_FORMS)} "
                                 "(comma-separated to compare them).")
        if canonical not in out:
            out.append(canonical)
    return out


def defended_oracle(oracle: str, defence: str) -> tuple[str, str | None]:
    """(exposure spec, reverse-sigmoid defence or None) the victim answers with when the
    thief asks for ``oracle`` and the victim applies ``defence``: label-only and rounding
    cap what is revealed (a label-only thief stays label-only), reverse-sigmoid bends the
    probabilities before the exposure cut."""
    from visualizer.core.blackbox import parse_oracle_spec

    asked = parse_oracle_spec(oracle)
    if defence == "none":
        return str(asked), None
    if defence.startswith("reverse-sigmoid"):
        return str(asked), defence
    if defence == "label" or asked.kind == "label":
        return "label", None
    return defence, None              # rounded:D replaces probs / topk answers


@dataclass(frozen=True)
class StealConfig:
    """``queries``: increasing counts, one substitute each (trained on the first N answers);
    ``query_data``: a data-set spec, noise or jacobian; ``test_data``: where test accuracy
    and agreement are measured (its test split, first ``test_limit``); ``seed_size``: the
    Jacobian seed set; PGD ``attack_eps`` (L-inf, [0, 1] pixels) with ``attack_steps`` on the
    first ``attack_limit`` test images the victim classifies correctly."""

    victim: str
    oracle: str
    queries: tuple[int, ...]
    query_data: str
    arch: str
    test_data: str
    out: str
    defences: tuple[str, ...] = ("none",)
    seed: int = 0
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    test_limit: int | None = 2000
    seed_size: int = 100
    attack_eps: float = 0.2
    attack_steps: int = 20
    attack_limit: int = 500
    device: str = "cpu"
    # How PGD is crafted on the copy (and on the victim, for the white-box line): the loss
    # (ce, or margin with kappa, Carlini & Wagner 2017) and MI-FGSM momentum (Dong et al. 2018).
    attack_loss: str = "ce"
    attack_kappa: float | None = None
    attack_momentum: float = 0.0
    # Copies per query count, trained with seeds seed, seed+1, ... on the same answers (no
    # extra query); PGD for transfer is crafted on the mean of their logits (Liu et al. 2017).
    copies: int = 1
    # How every copy trains (``copies.CopyRecipe``): shifted versions of each answered image,
    # the trainer's adversarial recipe; ``copy_specs`` (--copy, one per copy) override them
    # and ``arch`` (a copy's own network).
    shifts: int = 0
    adversarial: str = "none"
    copy_specs: tuple[str, ...] = ()
    # The share of each query count's new queries sent as PGD adversarial versions of its new
    # images, crafted on a substitute trained on the answers before (``queries``).
    adversarial_queries: float = 0.0
    # Which images are asked after the first query count (``select``): in order, or those of a
    # pool of ``pool`` images (0: ten times the largest count) the substitute is least sure of.
    query_select: str = "order"
    pool: int = 0

    def __post_init__(self) -> None:
        from visualizer.core.blackbox import parse_oracle_spec

        parse_oracle_spec(self.oracle)
        for name in ("epochs", "batch_size", "seed_size", "attack_steps", "attack_limit", "copies"):
            if int(getattr(self, name)) < 1:
                raise ParameterError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}.")
        if self.test_limit is not None and self.test_limit < 1:
            raise ParameterError(f"--test-limit must be at least 1, not {self.test_limit}.")
        if not 0 < self.attack_eps <= 1:
            raise ParameterError(f"--attack-eps must be in (0, 1] (L-inf, pixel units), not {self.attack_eps}.")
        if not self.lr > 0:
            raise ParameterError(f"--lr must be positive, not {self.lr}.")
        from visualizer.core.attacks.params import AttackParams

        try:
            AttackParams(loss=self.attack_loss, kappa=self.attack_kappa, momentum=self.attack_momentum)
        except ParameterError as exc:
            raise ParameterError(f"--attack-loss / --attack-momentum: {exc}") from None
        from visualizer.core.stealing.queries import check_adversarial_share

        check_adversarial_share(self.adversarial_queries, self.query_data)
        from visualizer.core.stealing.select import check_selection

        if int(self.pool) != self.pool or self.pool < 0:
            raise ParameterError(f"--pool must be a whole number of images, not {self.pool}.")
        check_selection(self.query_select, self.pool, self.query_data, tuple(self.queries), self.adversarial_queries)
        recipes = self.recipes()     # each copy's recipe checked up front
        if any(r.pseudo for r in recipes) and self.query_select != "order":
            # pseudo labels the set's images after the asked ones, in order; chosen queries come
            # from those very images: some would train twice, with the victim's answer and a guess.
            raise ParameterError("--copy pseudo=N labels the --query-data images after the first N asked, in "
                                 "order; --query-select uncertainty asks some of those: use one of them.")
        if any(r.pseudo for r in recipes) and self.query_data in ("noise", "jacobian"):
            raise ParameterError(f"--copy pseudo=N labels more images of the --query-data set; {self.query_data} "
                                 "has none: give a data set (e.g. mnist:DIR).")
        if self.query_data == "jacobian" and self.seed_size > self.queries[0]:
            raise ParameterError(f"--seed-size {self.seed_size} is more than the smallest query count "
                                 f"{self.queries[0]}: the Jacobian seed set is labelled by the oracle too.")

    def recipes(self) -> list:
        """Each copy's ``CopyRecipe``, the first being the substitute (ParameterError if bad)."""
        from visualizer.core.stealing.copies import copy_recipes

        return copy_recipes(self.copies, self.copy_specs, self.epochs, self.seed, self.shifts, self.adversarial,
                            self.arch)

    def fingerprint(self) -> dict:
        """The settings a resumed run must share with the run it continues (all but --out);
        the copy-training fields only when set, so a run started before they existed resumes."""
        d = self.to_dict()
        d.pop("out")
        if self.query_select != "order":        # --pool 3000 and the default of 3000 are one pool
            from visualizer.core.stealing.select import pool_size

            d["pool"] = pool_size(self.pool, self.queries[-1])
        for key, default in FINGERPRINT_DEFAULTS.items():
            if d[key] == default:
                d.pop(key)
        # How copies are seeded decides them too: a state saved before copies had the thief's
        # own seed stream (it has no such key) trained with the victim's seeds, and a resumed
        # run mixing both would compare copies of two kinds without saying so.
        d["copy_seeds"] = COPY_SEED_STREAM
        return d

    def to_dict(self) -> dict:
        d = asdict(self)
        d["queries"], d["defences"], d["copy_specs"] = list(self.queries), list(self.defences), list(self.copy_specs)
        return d
