"""Threat specs: what ``visualizer evaluate --threat`` accepts, parsed into validated objects.

    clean
    fgsm:linf:EPS
    pgd:NORM:EPS[:STEPS[:RESTARTS]]          NORM linf or l2; 20 steps, 1 random start
    apgd-ce:NORM:EPS[:STEPS[:RESTARTS]]      Croce & Hein 2020; 100 steps, 1 restart
    apgd-t:NORM:EPS[:STEPS[:TARGETS]]        targeted DLR loss; 100 steps, 9 target classes
    autoattack:NORM:EPS                      the authors' standard AutoAttack (pyautoattack)
    spatial:grid[:MAXROT:ROTS:MAXTRANS:TRANS]   Engstrom et al. 2018; 30 deg x 31, T x 5
    spatial:worst-of-k[:K]                   K random rotations+translations (10)
    transfer:pgd:NORM:EPS[:STEPS[:RESTARTS]]  crafted white-box on each loaded model (the
    transfer:fgsm:linf:EPS                   source), scored on every loaded model (Szegedy et al. 2013)
    square:NORM:EPS[:QUERIES]                Square Attack through a probabilities oracle (1000 queries)
    nes:NORM:EPS[:QUERIES]                   NES gradient estimate + PGD through a probabilities oracle
    hopskipjump:NORM:EPS[:QUERIES]           HopSkipJump through a label-only oracle

Query attacks see the model only through an oracle (core/blackbox); QUERIES is the budget per
example, the clean query included, and per_example.csv records each broken example's queries.

EPS is in [0, 1] pixel units (0.3, 8/255, ...). A comma list of EPS (``pgd:linf:0.1,0.2,0.3``)
makes one threat per value: the points of a curve. ``A+B`` is one threat made of several
attacks: an example is robust only if every one of them fails, and the cheap ones run first
on all examples, the costly ones only on the examples nothing broke yet.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from visualizer.core.attacks.apgd import APGDParams
from visualizer.core.attacks.params import AttackParams, parse_number
from visualizer.core.attacks.spatial import SpatialParams
from visualizer.core.errors import ParameterError

THREAT_FORMS = ("clean", "fgsm:linf:EPS", "pgd:NORM:EPS[:STEPS[:RESTARTS]]", "apgd-ce:NORM:EPS[:STEPS[:RESTARTS]]",
                "apgd-t:NORM:EPS[:STEPS[:TARGETS]]", "autoattack:NORM:EPS",
                "spatial:grid[:MAXROT:ROTS:MAXTRANS:TRANS]", "spatial:worst-of-k[:K]",
                "transfer:pgd:NORM:EPS[:STEPS[:RESTARTS]]", "transfer:fgsm:linf:EPS", "square:NORM:EPS[:QUERIES]",
                "nes:NORM:EPS[:QUERIES]", "hopskipjump:NORM:EPS[:QUERIES]")
QUERY_KINDS = ("square", "nes", "hopskipjump")
QUERY_BUDGET = 1000
# The oracle each query attack gets in an evaluation: the score-based ones full probabilities.
QUERY_ORACLES = {"square": "probs", "nes": "probs", "hopskipjump": "label"}
PGD_STEPS = 20
APGD_STEPS = 100
APGD_TARGETS = 9
NORM_NAMES = {"linf": "L\u221e", "l2": "L2"}
# Forward passes per example AutoAttack's standard version may spend (APGD-CE, APGD-T,
# FAB-T, Square): only used to run it after every cheaper attack of an ensemble.
AUTOATTACK_COST = 100 + 9 * 100 + 9 * 100 + 5000
FORWARD_ONLY = 1 / 3     # a forward pass costs about a third of a forward+backward pass


@dataclass(frozen=True)
class AttackSpec:
    """One attack of a threat. ``kind``: clean, fgsm, pgd, apgd-ce, apgd-t, autoattack,
    spatial-grid, spatial-worst-of-k, square, nes or hopskipjump; ``runs``: restarts (pgd,
    apgd-ce) or target classes (apgd-t); ``steps``: the query budget per example of a query attack."""

    kind: str
    text: str                          # canonical spec, e.g. pgd:linf:0.3:20:1
    norm: str | None = None
    eps: float | None = None
    eps_text: str | None = None
    steps: int | None = None
    runs: int | None = None
    spatial: SpatialParams | None = None
    inner: "AttackSpec | None" = None   # transfer: the white-box attack run on the source model

    @property
    def curve_text(self) -> str:
        """The spec with its epsilon left out: the specs of one curve share it."""
        return self.text if self.eps_text is None else self.text.replace(f":{self.eps_text}", ":*", 1)

    def cost(self) -> float:
        """Rough forward+backward passes per example: the order cheap-first runs in."""
        if self.kind == "clean":
            return 0.0
        if self.kind == "transfer":
            return self.inner.cost()
        if self.kind == "fgsm":
            return 2.0
        if self.kind in ("pgd", "apgd-ce", "apgd-t"):
            return float((self.steps + 1) * self.runs)
        if self.kind == "autoattack":
            return float(AUTOATTACK_COST)
        if self.kind in QUERY_KINDS:
            return self.steps * FORWARD_ONLY
        p = self.spatial
        count = p.rotations * p.translations ** 2 if p.mode == "grid" else p.k
        return count * FORWARD_ONLY

    def attack_params(self, seed: int) -> AttackParams:
        """FGSM / one PGD restart (restarts run as separate stages, see evaluation.ensemble)."""
        return AttackParams(method=self.kind, norm=self.norm, eps=self.eps, steps=self.steps or 1,
                            random_start=self.kind == "pgd", restarts=1, best_iterate=True,
                            early_stop=self.kind == "pgd", seed=seed)   # FGSM is one step: nothing to stop

    def apgd_params(self, seed: int) -> APGDParams:
        if self.kind == "apgd-ce":
            return APGDParams(norm=self.norm, eps=self.eps, steps=self.steps, loss="ce", restarts=self.runs, seed=seed)
        return APGDParams(norm=self.norm, eps=self.eps, steps=self.steps, loss="dlr-targeted",
                          target_classes=self.runs, seed=seed)

    def query_params(self, seed: int):
        """The query attack's parameters (square, nes, hopskipjump)."""
        from visualizer.core.blackbox.params import QueryAttackParams

        return QueryAttackParams(method=self.kind, norm=self.norm, eps=self.eps, queries=self.steps, seed=seed)

    def label(self) -> str:
        """Short text for table headers, e.g. 'PGD-20 L∞'."""
        if self.kind == "transfer":
            return f"Transfer {self.inner.label()}"
        name = {"clean": "Clean", "fgsm": "FGSM", "pgd": f"PGD-{self.steps}", "apgd-ce": "APGD-CE",
                "apgd-t": "APGD-T", "autoattack": "AutoAttack", "spatial-grid": "Rot+Trans grid",
                "spatial-worst-of-k": "Rot+Trans worst-of-k", "square": f"Square-{self.steps}q",
                "nes": f"NES-{self.steps}q", "hopskipjump": f"HopSkipJump-{self.steps}q"}[self.kind]
        if self.kind == "pgd" and self.runs and self.runs > 1:
            name += f" \u00d7{self.runs}"
        if self.kind == "spatial-worst-of-k":
            name = f"Rot+Trans worst-of-{self.spatial.k}"
        return f"{name} {NORM_NAMES[self.norm]}" if self.norm else name

    def resolved_parameters(self) -> dict:
        """Every setting the attack runs with (seeds are drawn per batch, see ensemble.stage_seed)."""
        if self.kind == "transfer":
            return {"crafted_with": self.inner.text, **self.inner.resolved_parameters()}
        if self.kind in ("fgsm", "pgd"):
            params = self.attack_params(0).resolved().to_dict()
            params.pop("seed")
            if self.kind == "pgd":
                params["restarts"] = self.runs    # run as separate stages on what earlier restarts left
            return params
        if self.kind in ("apgd-ce", "apgd-t"):
            params = self.apgd_params(0).to_dict()
            params.pop("seed")
            return params
        if self.kind in QUERY_KINDS:
            params = self.query_params(0).resolved().to_dict()
            params.pop("seed")
            return {**params, "oracle": QUERY_ORACLES[self.kind]}
        if self.kind == "autoattack":
            return {"implementation": "pyautoattack", "version": "standard", "norm": self.norm, "eps": self.eps,
                    "attacks": ["apgd-ce", "apgd-t", "fab-t", "square"]}
        if self.spatial is not None:
            params = self.spatial.to_dict()
            for name in ("seed", "chunk_size"):
                params.pop(name)
            return params
        return {}

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "spec": self.text, "norm": self.norm, "eps": self.eps, "eps_text": self.eps_text,
               "steps": self.steps, "runs": self.runs, "parameters": self.resolved_parameters()}
        if self.spatial is not None:
            out["spatial"] = self.spatial.to_dict()
        return out


@dataclass(frozen=True)
class Threat:
    """An ensemble of attacks (often one). ``text`` is its canonical id."""

    attacks: tuple[AttackSpec, ...]
    source: str | None = None          # transfer: the id of the model the examples are crafted on
    # transfer: the source's display name (presentation.display_names: a checkpoint's file or
    # trainer-folder name, not its whole path), used in the threat's id and label
    source_name: str | None = None
    text: str = field(init=False)

    def __post_init__(self) -> None:
        text = "+".join(a.text for a in self.attacks)
        object.__setattr__(self, "text", text if self.source is None else f"{text}@{self.shown_source}")

    @property
    def shown_source(self) -> str | None:
        return self.source_name or self.source

    @property
    def run_order(self) -> list[AttackSpec]:
        return sorted(self.attacks, key=lambda a: a.cost())

    @property
    def eps(self) -> float | None:
        values = {a.eps for a in self.attacks}
        return values.pop() if len(values) == 1 else None

    @property
    def norm(self) -> str | None:
        values = {a.norm for a in self.attacks}
        return values.pop() if len(values) == 1 else None

    @property
    def curve(self) -> str | None:
        """Threats that differ only in epsilon share this key (None: not on a curve)."""
        if self.eps is None:
            return None
        text = "+".join(a.curve_text for a in self.attacks)
        return text if self.source is None else f"{text}@{self.shown_source}"

    @property
    def is_transfer(self) -> bool:
        return any(a.kind == "transfer" for a in self.attacks)

    @property
    def is_clean(self) -> bool:
        return all(a.kind == "clean" for a in self.attacks)

    @property
    def kinds(self) -> set[str]:
        return {a.kind for a in self.attacks}

    def label(self) -> str:
        text = " + ".join(a.label() for a in self.attacks)
        return text if self.source is None else f"{text} from {self.shown_source}"

    def seed_key(self) -> int:
        """A stable number for this threat's random streams (independent of its position)."""
        return zlib.crc32(self.text.encode())

    def to_dict(self) -> dict:
        return {"id": self.text, "label": self.label(), "eps": self.eps, "norm": self.norm, "curve": self.curve,
                "source": self.source, "attacks": [a.to_dict() for a in self.attacks]}


def _whole(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ParameterError(f"{what} must be a whole number, not {text!r}.") from None
    if value < 1:
        raise ParameterError(f"{what} must be at least 1, got {value}.")
    return value


def _eps_values(text: str, spec: str) -> list[tuple[float, str]]:
    tokens = [t.strip() for t in text.split(",")]
    if not all(tokens):
        raise ParameterError(f"{spec}: an empty epsilon in {text!r}; write e.g. 0.1,0.2,0.3.")
    return [(parse_number(t, f"{spec}: epsilon"), t) for t in tokens]


def _gradient_attack(kind: str, fields: list[str], spec: str) -> list[AttackSpec]:
    max_fields = {"fgsm": 2, "autoattack": 2, **{k: 3 for k in QUERY_KINDS}}.get(kind, 4)
    if len(fields) < 2 or len(fields) > max_fields:
        form = next(f for f in THREAT_FORMS if f.startswith(kind + ":"))
        raise ParameterError(f"{spec!r}: write {form}.")
    norm = fields[0].strip().lower()
    if norm not in NORM_NAMES:
        raise ParameterError(f"{spec!r}: the norm must be linf or l2, not {fields[0]!r}.")
    if kind == "fgsm" and norm != "linf":
        raise ParameterError(f"{spec!r}: FGSM is defined for L-inf only; use pgd:l2 for L2.")
    default_steps, default_runs = {"pgd": (PGD_STEPS, 1), "apgd-ce": (APGD_STEPS, 1), "apgd-t": (APGD_STEPS, APGD_TARGETS),
                                   "fgsm": (1, 1), "autoattack": (None, None),
                                   **{k: (QUERY_BUDGET, None) for k in QUERY_KINDS}}[kind]
    steps_name = "queries" if kind in QUERY_KINDS else "steps"
    steps = _whole(fields[2], f"{spec}: {steps_name}") if len(fields) > 2 else default_steps
    runs_name = "targets" if kind == "apgd-t" else "restarts"
    runs = _whole(fields[3], f"{spec}: {runs_name}") if len(fields) > 3 else default_runs
    out = []
    for eps, token in _eps_values(fields[1], spec):
        tail = "" if kind in ("fgsm", "autoattack") else f":{steps}" if kind in QUERY_KINDS else f":{steps}:{runs}"
        attack = AttackSpec(kind, f"{kind}:{norm}:{token}{tail}", norm, eps, token, steps, runs)
        # Build the parameter objects once so every bad value is reported now, not mid-run.
        if kind in ("fgsm", "pgd"):
            attack.attack_params(0)
        elif kind.startswith("apgd"):
            attack.apgd_params(0)
        elif kind in QUERY_KINDS:
            attack.query_params(0)
        elif not eps > 0 or (norm == "linf" and eps > 1):
            raise ParameterError(f"{spec!r}: epsilon must be positive (at most 1 for L-inf), got {eps}.")
        out.append(attack)
    return out


def _spatial_attack(fields: list[str], spec: str) -> list[AttackSpec]:
    mode = fields[0].strip().lower() if fields else ""
    numbers = [f.strip() for f in fields[1:]]
    if mode == "grid":
        if len(numbers) > 4:
            raise ParameterError(f"{spec!r}: write spatial:grid[:MAXROT:ROTS:MAXTRANS:TRANS].")
        names = ("maximum rotation", "rotations", "maximum translation", "translations")
        values = {}
        for name, token in zip(names, numbers):
            values[name] = _whole(token, f"{spec}: {name}") if name in ("rotations", "translations") else \
                parse_number(token, f"{spec}: {name}")
        params = SpatialParams(mode="grid", max_rotation=values.get("maximum rotation", 30.0),
                               rotations=values.get("rotations", 31), max_translation=values.get("maximum translation"),
                               translations=values.get("translations", 5))
        text = "spatial:grid" + "".join(f":{t}" for t in numbers)
        return [AttackSpec("spatial-grid", text, spatial=params)]
    if mode in ("worst-of-k", "random"):
        if len(numbers) > 1:
            raise ParameterError(f"{spec!r}: write spatial:worst-of-k[:K].")
        k = _whole(numbers[0], f"{spec}: K") if numbers else 10
        return [AttackSpec("spatial-worst-of-k", f"spatial:worst-of-k:{k}", spatial=SpatialParams(mode="random", k=k))]
    raise ParameterError(f"{spec!r}: the spatial attack is spatial:grid[:MAXROT:ROTS:MAXTRANS:TRANS] or "
                         "spatial:worst-of-k[:K].")


def _transfer_attack(rest: str, spec: str) -> list[AttackSpec]:
    """transfer:ATTACK, ATTACK a pgd or fgsm spec: one AttackSpec per epsilon."""
    head = rest.partition(":")[0].strip().lower()
    if head not in ("pgd", "fgsm"):
        raise ParameterError(f"{spec!r}: write transfer:pgd:NORM:EPS[:STEPS[:RESTARTS]] or transfer:fgsm:linf:EPS "
                             "(the white-box attack crafted on each source model).")
    return [AttackSpec("transfer", f"transfer:{a.text}", a.norm, a.eps, a.eps_text, a.steps, a.runs, inner=a)
            for a in _member(rest)]


def _member(text: str) -> list[AttackSpec]:
    """One attack, with a comma list of epsilons giving one AttackSpec per value. Every
    refusal names the threat it is about (with several --threat values, which one)."""
    try:
        return _member_specs(text)
    except ParameterError as exc:
        if text.strip() in str(exc):
            raise
        raise ParameterError(f"{text.strip()!r}: {exc}") from None


def _member_specs(text: str) -> list[AttackSpec]:
    head, _, rest = text.strip().partition(":")
    kind = head.strip().lower()
    fields = rest.split(":") if rest else []
    if kind == "clean":
        if fields:
            raise ParameterError(f"{text!r}: 'clean' takes no parameters.")
        return [AttackSpec("clean", "clean")]
    if kind in ("fgsm", "pgd", "apgd-ce", "apgd-t", "autoattack", *QUERY_KINDS):
        return _gradient_attack(kind, fields, text.strip())
    if kind == "spatial":
        return _spatial_attack(fields, text.strip())
    if kind == "transfer":
        return _transfer_attack(rest, text.strip())
    raise ParameterError(f"Unknown threat {text.strip()!r}; write one of: {', '.join(THREAT_FORMS)} "
                         "(join several with + to need all of them to fail).")


def parse_threat(text: str) -> list[Threat]:
    """One ``--threat`` value -> its threats (several for a comma list of epsilons).

    In an ensemble ``A+B`` every member with an epsilon list must list the same number of
    values; they are taken in step. Raises ParameterError with the accepted forms."""
    if not text or not text.strip():
        raise ParameterError(f"An empty threat; write one of: {', '.join(THREAT_FORMS)}.")
    members = [_member(part) for part in text.split("+")]
    if len(members) > 1 and any(m[0].kind == "transfer" for m in members):
        raise ParameterError(f"{text!r}: a transfer threat stands alone; give it as its own --threat.")
    lengths = {len(m) for m in members if len(m) > 1}
    if len(lengths) > 1:
        raise ParameterError(f"{text!r}: the attacks joined by + list different numbers of epsilons.")
    count = lengths.pop() if lengths else 1
    return [Threat(tuple(m[i] if len(m) > 1 else m[0] for m in members)) for i in range(count)]


def parse_threats(texts: list[str]) -> list[Threat]:
    """Every ``--threat`` value, in order, duplicates dropped."""
    out: list[Threat] = []
    for text in texts:
        for threat in parse_threat(text):
            if threat.text not in {t.text for t in out}:
                out.append(threat)
    if not out:
        raise ParameterError(f"No threat given; write one of: {', '.join(THREAT_FORMS)}.")
    return out


def check_threats_fit(threats: list[Threat], models) -> None:
    """Refuse, before any work, a threat a model's classes or input size cannot serve: apgd-t's
    TARGETS above the model's class count less one (it has no 10th class to aim at besides the
    true one: the run quietly took 9), its targeted DLR loss on fewer than 4 classes, or a
    spatial grid's maximum translation of the model's whole input side or more.
    ``models``: loaded ClassifierModels. Raises ParameterError naming threat and model."""
    for threat in threats:
        for attack in threat.attacks:
            spec = attack.inner if attack.kind == "transfer" else attack
            if spec is not None and spec.spatial is not None:      # a shift beyond the frame: an empty image
                for model in models:
                    try:
                        spec.spatial.check_fits(model.info.preprocessing.input_size, f"{model.info.model_id}'s input")
                    except ParameterError as exc:
                        raise ParameterError(f"{attack.text}: {exc}") from None
            if spec is None or spec.kind != "apgd-t":
                continue
            for model in models:
                classes, name = model.info.num_classes, model.info.model_id
                if classes < 4:
                    raise ParameterError(f"{attack.text}: the targeted DLR loss needs at least 4 classes; {name} "
                                         f"has {classes}.")
                if spec.runs is not None and spec.runs > classes - 1:
                    raise ParameterError(f"{attack.text}: {spec.runs} target classes, but {name} has {classes} "
                                         f"classes: at most {classes - 1} besides the true one.")
