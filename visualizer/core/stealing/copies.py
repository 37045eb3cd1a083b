"""How each stolen copy is trained (``visualizer steal --copy``): several copies trained on the
same oracle answers cost no extra query, and PGD crafted on the mean of their logits
transfers better than from one copy (Liu et al. 2017), the more so when the copies differ.

A copy's recipe: ``epochs``, ``seed``, ``shifts`` (K randomly shifted versions, up to 2 px,
of every answered image join it, with the same answer) and ``adversarial`` (a ``visualizer
train --adversarial`` recipe; a small eps makes a slightly robust copy, whose gradients
line up better with the victim's: Springer, Mitchell & Kenyon 2021) and ``pseudo`` (N more
images of the query data set, never sent to the oracle, labelled by the copies trained
before this one: semi-supervised pseudo-labelling, Lee 2013, as Jagielski et al. 2020 use it
for high-fidelity extraction) and ``arch`` (the copy's network, e.g. ``mnist-cnn-wide``: an
ensemble of different architectures transfers better than one of siblings, Liu et al. 2017,
Tramèr et al. 2018).

``--copy`` text: comma-separated ``key=value`` fields, any of ``epochs=16``, ``seed=1``,
``shifts=3``, ``adversarial=pgd:l2:1.0:2``, ``pseudo=15000``, ``arch=mnist-cnn-wide``; unnamed
fields take the command's ``--epochs``, ``--seed`` + the copy's index, ``--shifts``,
``--adversarial`` and ``--arch``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from visualizer.core.errors import ParameterError
from visualizer.core.numbers import parse_whole

COPY_FIELDS = ("epochs", "seed", "shifts", "adversarial", "pseudo", "arch")
MAX_SHIFTS = 20


@dataclass(frozen=True)
class CopyRecipe:
    """One copy's training: ``epochs`` >= 1, ``seed``, ``shifts`` in [0, 20] shifted versions
    of each image, ``adversarial`` the trainer's recipe spec ("none": standard training),
    ``pseudo`` >= 0 unlabelled images labelled by the earlier copies, ``arch`` the network
    (an ``--arch`` name, stored as the resolved name; None: the command's ``--arch``).
    ParameterError for a bad field, an unknown architecture included."""

    epochs: int
    seed: int
    shifts: int = 0
    adversarial: str = "none"
    pseudo: int = 0
    arch: str | None = None

    def __post_init__(self) -> None:
        from visualizer.core.training.recipe import parse_adversarial

        if self.epochs < 1:
            raise ParameterError(f"A copy's epochs must be at least 1, not {self.epochs}.")
        if not 0 <= self.shifts <= MAX_SHIFTS:
            raise ParameterError(f"A copy's shifts must be 0 to {MAX_SHIFTS} shifted versions of each image, "
                                 f"not {self.shifts}.")
        if self.pseudo < 0:
            raise ParameterError(f"A copy's pseudo must be 0 or more unlabelled images, not {self.pseudo}.")
        # The canonical spec (exact eps, default steps written out), so records and resumes compare equal.
        recipe = parse_adversarial(self.adversarial, "A copy's adversarial recipe")
        object.__setattr__(self, "adversarial", recipe.spec())
        if self.arch is not None:
            from visualizer.core.models.arch import resolve_arch

            object.__setattr__(self, "arch", resolve_arch(str(self.arch)).label)

    def describe(self) -> str:
        from visualizer.core.training.recipe import parse_adversarial

        parts = ([self.arch] if self.arch else []) + [f"{self.epochs} epochs", f"seed {self.seed}"]
        if self.shifts:
            parts.append(f"+{self.shifts} shifted versions of each image")
        if self.adversarial != "none":
            parts.append(parse_adversarial(self.adversarial).describe())
        if self.pseudo:
            parts.append(f"+{self.pseudo} unlabelled images labelled by the copies before it")
        return ", ".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


def parse_copy(text: str, default: CopyRecipe) -> CopyRecipe:
    """``epochs=16,shifts=3`` -> a CopyRecipe whose unnamed fields are ``default``'s."""
    fields = default.to_dict()
    usage = "write key=value fields separated by commas, keys among " + ", ".join(COPY_FIELDS)
    for part in [p.strip() for p in str(text or "").split(",") if p.strip()]:
        key, sep, value = (s.strip() for s in part.partition("="))
        key = key.lower()
        if not sep or key not in COPY_FIELDS or not value:
            raise ParameterError(f"--copy {text!r}: {part!r} is not a field; {usage} "
                                 "(e.g. epochs=16,shifts=3, adversarial=pgd:l2:1.0:2 or arch=mnist-cnn-wide).")
        fields[key] = value if key in ("adversarial", "arch") else parse_whole(value, f"--copy {key}")
    try:
        return CopyRecipe(**fields)
    except ParameterError as exc:
        raise ParameterError(f"--copy {text!r}: {exc}") from None


def copy_recipes(count: int, texts: tuple[str, ...], epochs: int, seed: int, shifts: int = 0,
                 adversarial: str = "none", arch: str | None = None) -> list[CopyRecipe]:
    """The copies to train: one per ``--copy`` text when given, else ``count`` alike copies;
    copy i defaults to seed ``seed + i`` and to ``arch``. ParameterError for a bad text, an
    unknown architecture or a ``count`` other than 1 that disagrees with the number of texts."""
    if texts and count not in (1, len(texts)):
        raise ParameterError(f"--copies {count} disagrees with the {len(texts)} --copy recipes given; "
                             "leave --copies out (each --copy is one copy).")
    n = len(texts) or count
    recipes = [parse_copy(texts[i] if texts else "", CopyRecipe(epochs, seed + i, shifts, adversarial, arch=arch))
               for i in range(n)]
    if recipes[0].pseudo:
        raise ParameterError(f"--copy {texts[0]!r}: the first copy has no earlier copy to label its pseudo images; "
                             "give pseudo=N to a later --copy.")
    for i, recipe in enumerate(recipes):
        # the same recipe on the same answers trains the same network (pseudo labels differ: more copies label them)
        if not recipe.pseudo and recipe in recipes[:i]:
            j = recipes.index(recipe)
            raise ParameterError(f"--copy {texts[i]!r} (copy {i + 1}) trains the same copy as --copy {texts[j]!r} "
                                 f"(copy {j + 1}): {recipe.describe()}; on the same answers that is one network "
                                 "twice, adding nothing to the mean of the copies' logits. Give it another seed, "
                                 "or leave it out.")
    return recipes
