"""What a model thief sends the oracle: images at the victim's input shape, pixels in [0, 1].

- ``SPEC`` (a data-set spec): unlabelled images of another data set, its training split in
  its own order (Fashion-MNIST images to steal an MNIST model, as in Orekondy et al. 2019's
  "Knockoff Nets" setting); the labels on disk are never read.
- ``noise``: uniform random pixels, seeded.
- ``jacobian``: Papernot et al. 2017's Jacobian-based data-set augmentation. A small seed set
  of in-distribution images (the first ``seed_size`` training images of the test data) is
  labelled by the oracle and grown round by round: each round adds, for every image x held,
  x + lambda * sign(d F_sub[O(x)](x) / dx), the direction in which the current substitute's
  score for the oracle's answer changes most; lambda flips sign every ``JACOBIAN_FLIP``
  rounds (their "periodic step size"), and the set doubles each round until the budget.

Adversarial queries (``--adversarial-queries SHARE``, with a data set or noise): of each query
count's new queries, the share SHARE are not new images but PGD adversarial versions of that
count's new images, crafted on a substitute trained on every answer held so far (the attack
the experiment measures transfer with). Their answers tell the thief where the victim's
boundary lies in the very region the transfer attack probes: adversarial examples as queries,
as in Papernot et al. 2017's Jacobian augmentation (at the attack's eps rather than a fixed
step), Yu et al. 2020 (CloudLeak) and Pal et al. 2020 (ActiveThief).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from visualizer.core.errors import DataError, ParameterError

JACOBIAN_LAMBDA = 0.1
JACOBIAN_FLIP = 3
QUERY_FORMS = ("SPEC (another data set's images, e.g. fashion-mnist:DIR)", "noise", "jacobian")


@dataclass(frozen=True)
class QuerySource:
    """``kind``: data, noise or jacobian; ``spec``: the data set (data only)."""

    kind: str
    spec: str | None = None

    def __str__(self) -> str:
        return self.spec if self.kind == "data" else self.kind


def parse_query_source(text: str) -> QuerySource:
    """``noise`` | ``jacobian`` | a data-set spec (checked when read). Raises ParameterError."""
    raw = (text or "").strip()
    if not raw:
        raise ParameterError(f"An empty --query-data; write one of: {', '.join(QUERY_FORMS)}.")
    if raw.lower() in ("noise", "jacobian"):
        return QuerySource(raw.lower())
    from visualizer.core.data.spec import parse_data_spec

    try:
        return QuerySource("data", str(parse_data_spec(raw)))
    except DataError as exc:
        raise ParameterError(f"--query-data {raw!r}: {exc} Or write noise or jacobian.") from None


def first_images(spec: str, most: int, pre) -> torch.Tensor:
    """The first ``most`` training images of ``spec`` at the victim's input (``pre``), or all
    it holds when fewer: N x C x S x S float32 in [0, 1]."""
    from visualizer.core.data import load_dataset

    data = load_dataset(spec, "train", preprocessing=pre, limit=most)
    held = len(data)
    return torch.cat([data.batch(torch.arange(i, min(i + 1000, held)))[0] for i in range(0, held, 1000)])


def data_queries(spec: str, count: int, pre, needed_for: str = "the largest query count") -> torch.Tensor:
    """The first ``count`` training images of ``spec`` at the victim's input (``pre``):
    count x C x S x S float32 in [0, 1]. Raises DataError when it holds fewer, naming what
    ``needed_for`` them."""
    images = first_images(spec, count, pre)
    if len(images) < count:
        raise DataError(f"--query-data {spec} holds {len(images)} training images; {needed_for} needs {count}.")
    return images


def check_query_set(source: str, count: int, pre, needed_for: str = "the largest query count",
                    at_most: bool = False, fix: str = "Ask fewer queries.") -> None:
    """Refuse, before anything is asked or written, a query set that cannot be made: one
    that would not fit in memory (``count`` x C x S x S float32 images at the victim's input,
    held with their answers), or a data set that does not exist or holds fewer than
    ``count`` training images (``at_most``: as many as it holds will do). ``fix``: what the
    memory message advises. Raises ParameterError or DataError."""
    from visualizer.core.device import available_memory_bytes

    if source not in ("noise", "jacobian"):
        from visualizer.core.data import load_dataset

        held = len(load_dataset(source, "train", preprocessing=pre, limit=count))
        if at_most:
            count = held
        elif held < count:
            raise DataError(f"--query-data {source} holds {held} training images; {needed_for} needs {count}.")
    needed = 2 * count * pre.channels * pre.input_size ** 2 * 4         # the images, and one copy while joined
    available = available_memory_bytes()
    if available is not None and needed > available:
        raise ParameterError(f"{needed_for}: the {count} query images alone take {needed / 1e9:.1f} GB at the "
                             f"victim's input, more than the {available / 1e9:.1f} GB of memory available. {fix}")


def noise_queries(count: int, shape: tuple[int, int, int], seed: int) -> torch.Tensor:
    """``count`` x C x H x W uniform random pixels in [0, 1] from ``seed``."""
    return torch.rand((count, *shape), generator=torch.Generator().manual_seed(seed))


def jacobian_augment(substitute: torch.nn.Module, images: torch.Tensor, answers: torch.Tensor, step: float,
                     count: int) -> torch.Tensor:
    """Papernot et al. 2017, Algorithm 1's augmentation for the first ``count`` of ``images``
    (N x C x H x W, [0, 1]; ``answers`` N oracle labels): x + step * sign(grad_x
    substitute(x)[answer]), clipped to [0, 1]. One forward+backward pass of the substitute
    per image; no oracle query."""
    was_training = substitute.training
    substitute.eval()
    x = images[:count].detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = substitute(x)
        score = logits.gather(1, answers[:count].view(-1, 1).to(logits.device)).sum()
        grad, = torch.autograd.grad(score, x)
    substitute.train(was_training)
    return (images[:count] + step * grad.sign()).clamp(0, 1).detach()


def jacobian_step(round_index: int) -> float:
    """lambda of a round: JACOBIAN_LAMBDA, negated every JACOBIAN_FLIP rounds."""
    return JACOBIAN_LAMBDA * (-1) ** (round_index // JACOBIAN_FLIP)


def seed_images(spec: str, count: int, pre) -> torch.Tensor:
    """The Jacobian seed set: the first ``count`` training images of ``spec`` (the thief's
    small in-distribution sample; its labels come from the oracle, not from disk)."""
    if count < 1:
        raise ParameterError(f"--seed-size must be at least 1, not {count}.")
    return data_queries(spec, count, pre)


MAX_ADVERSARIAL_SHARE = 0.5


def natural_total(count: int, counts: tuple[int, ...], share: float) -> int:
    """How many of the first ``count`` queries are plain images (data-set or noise) when, of
    each query count's new queries (``counts`` increasing, ``count`` 0 or one of them), the
    share ``share`` are adversarial versions of them: floor(share * new) adversarial each step."""
    natural, held = 0, 0
    for step in [c for c in counts if c <= count]:
        new = step - held
        natural += new - int(new * share)
        held = step
    return natural


def check_adversarial_share(share: float, query_data: str) -> None:
    """ParameterError unless ``share`` is in [0, 0.5] (each adversarial query perturbs one of
    the same step's new images) and, when above 0, the queries are a data set or noise."""
    if not 0 <= share <= MAX_ADVERSARIAL_SHARE:
        raise ParameterError(f"--adversarial-queries must be a share from 0 to {MAX_ADVERSARIAL_SHARE} of each query "
                             f"count's new queries, not {share}.")
    if share and query_data == "jacobian":
        raise ParameterError("--adversarial-queries needs images to perturb: give a data set or noise as "
                             "--query-data, not jacobian (which makes its own augmented queries).")
