"""Which images a thief asks (``visualizer steal --query-select``): ``order`` asks the query
data set's images in order; ``uncertainty`` asks the first query count's images in order and
then, for each later count, the images of an unlabelled pool on which the substitute trained
at the count before is least sure: the smallest gap between its two largest softmax
probabilities (margin uncertainty sampling, Scheffer et al. 2001; for model extraction,
Pal et al. 2020's ActiveThief). Those images lie near the substitute's decision boundary, where
its guess of the victim is weakest, so each answer teaches it more than an image it already
classifies with confidence. It spends no extra query: the pool is never sent, only scored by
the thief's own substitute.
"""

from __future__ import annotations

import torch

from visualizer.core.errors import ParameterError

ORDER = "order"
UNCERTAINTY = "uncertainty"
SELECTIONS = (ORDER, UNCERTAINTY)
POOL_FACTOR = 10          # default pool: ten times the largest query count
SCORE_CHUNK = 1000


def check_selection(selection: str, pool: int, query_data: str, counts: tuple[int, ...],
                    adversarial_share: float) -> None:
    """ParameterError unless ``selection`` is one of SELECTIONS and, for ``uncertainty``, there
    are two or more query ``counts`` (the first is asked in order), the queries come from a
    data set (not ``noise`` or ``jacobian``), no share of them is adversarial, and ``pool`` (0:
    the default) is larger than the largest query count."""
    largest = counts[-1]
    if selection not in SELECTIONS:
        raise ParameterError(f"--query-select must be {' or '.join(SELECTIONS)}, not {selection!r}.")
    if selection == ORDER:
        if pool:
            raise ParameterError("--pool sets the images --query-select uncertainty chooses from; with "
                                 "--query-select order the images are asked in order: leave --pool out.")
        return
    if len(counts) < 2:
        raise ParameterError("--query-select uncertainty chooses the queries of each count after the first "
                             "(asked in order) with the substitute of the count before: give two or more "
                             "counts, e.g. --queries 1000,2000,3000,4000,5000.")
    if query_data in ("noise", "jacobian"):
        raise ParameterError(f"--query-select uncertainty chooses among the images of a data set; {query_data} "
                             "has none: give one as --query-data (e.g. mnist:DIR).")
    if adversarial_share:
        raise ParameterError("--query-select uncertainty and --adversarial-queries each decide what is asked "
                             "after the first query count: use one of them.")
    if pool and pool <= largest:
        raise ParameterError(f"--pool {pool} is not larger than the largest query count {largest}: the queries "
                             "are chosen from the pool, so it must hold more images than are asked.")


def pool_size(pool: int, largest: int) -> int:
    """The pool's image count: ``pool``, or POOL_FACTOR x the ``largest`` query count when 0
    (read as far as the data set goes)."""
    return pool or POOL_FACTOR * largest


@torch.no_grad()
def top2_margin(model, images: torch.Tensor, chunk: int = SCORE_CHUNK) -> torch.Tensor:
    """``model``'s softmax probability of its top class minus that of its second (N, in
    [0, 1]; 0 when it cannot tell them apart) for ``images`` (N x C x H x W, [0, 1])."""
    device = next(model.parameters()).device
    margins = []
    for start in range(0, len(images), chunk):
        p = model(images[start:start + chunk].to(device)).float().softmax(1)
        top = p.topk(2, dim=1).values
        margins.append((top[:, 0] - top[:, 1]).cpu())
    return torch.cat(margins) if margins else torch.empty(0)


def asked_mask(pool: torch.Tensor, asked: torch.Tensor) -> torch.Tensor:
    """Which of ``pool`` (N x C x H x W) are among the images already ``asked`` (M x C x H x
    W), compared bit for bit: a bool tensor (N). A resumed run knows its questions only as
    images, so this is how it finds them in the pool again."""
    held = {image.numpy().tobytes() for image in asked.cpu().contiguous()}
    return torch.tensor([image.numpy().tobytes() in held for image in pool.cpu().contiguous()], dtype=torch.bool)


def least_sure(model, pool: torch.Tensor, asked: torch.Tensor, count: int) -> torch.Tensor:
    """The indices (``count``, int64) of the pool images not yet ``asked`` (a bool mask) with
    the smallest top-2 margin under ``model``, least sure first; ties go to the earlier
    image. ParameterError when fewer than ``count`` are left."""
    left = int((~asked).sum())
    if left < count:
        raise ParameterError(f"The pool has {left} images not asked yet, and {count} more queries are to be "
                             "chosen: give a larger --pool.")
    margin = top2_margin(model, pool).masked_fill(asked, float("inf"))
    return torch.sort(margin, stable=True).indices[:count]
