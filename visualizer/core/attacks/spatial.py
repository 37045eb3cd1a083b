"""The spatial attack of Engstrom et al. (2018): rotations x translations, as a full grid or
worst-of-k random draws. All transforms of all images are evaluated in batches ("chunks")
sized by measurement (core/attacks/chunking.py): as fast as the device goes, within memory,
returning to the caller about twice a second (progress, cancel).

Per image the chosen transform is the misclassified one with the highest cross-entropy if
any, else the one with the highest cross-entropy.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Callable, Generator

import torch
import torch.nn.functional as F

from visualizer.core.attacks.chunking import ChunkSizer, first_chunk
from visualizer.core.attacks.transforms import rotate_translate
from visualizer.core.cancel import CancelToken, is_cancelled
from visualizer.core.errors import ParameterError

_OOM_ERRORS = tuple(e for e in (getattr(torch, "OutOfMemoryError", None), getattr(torch.cuda, "OutOfMemoryError", None)) if e)


def default_max_translation(side: int) -> float:
    """3 px at 28/32 px, 24 px at 224 px: the authors' 3/28 of the side."""
    return float(round(3 / 28 * side))


@dataclass(frozen=True)
class SpatialParams:
    mode: str = "grid"                  # grid | random
    max_rotation: float = 30.0          # degrees, range is [-max, +max]
    rotations: int = 31                 # grid points in the rotation range
    max_translation: float | None = None  # pixels; None -> default_max_translation(input side)
    translations: int = 5               # grid points per translation axis
    k: int = 10                         # random mode: draws per image
    seed: int = 0
    chunk_size: int | None = None       # transforms per forward pass; None -> adaptive

    def __post_init__(self) -> None:
        if self.mode not in ("grid", "random"):
            raise ParameterError(f"Sweep mode must be 'grid' or 'random', not {self.mode!r}.")
        if not 0 <= self.max_rotation <= 180:
            raise ParameterError(f"Maximum rotation must be between 0 and 180 degrees, got {self.max_rotation}.")
        if self.max_translation is not None and self.max_translation < 0:
            raise ParameterError(f"Maximum translation must be >= 0 pixels, got {self.max_translation}.")
        for name in ("rotations", "translations", "k"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ParameterError(f"{name} must be a whole number of at least 1, got {value}.")
        if self.chunk_size is not None and self.chunk_size < 1:
            raise ParameterError("chunk_size must be at least 1.")
        self._refuse_degenerate()

    def _refuse_degenerate(self) -> None:
        """A sweep whose transforms are all the unchanged image, or repeat one value along an
        axis, is refused: its "worst of N transforms" and "evaluated" would claim a search
        that never happened. (max_translation None is the model's default, > 0 from 5 px.)"""
        no_rotation, no_shift = self.max_rotation == 0, self.max_translation == 0
        if self.mode == "random":
            if no_rotation and no_shift:
                raise ParameterError("With a maximum rotation and a maximum shift of 0, every one of the k draws is "
                                     "the unchanged image: nothing would be swept.")
            return
        if no_rotation and self.rotations > 1:
            raise ParameterError(f"A maximum rotation of 0 makes all {self.rotations} rotations 0 degrees: use 1 "
                                 "rotation for none, or a positive maximum.")
        if no_shift and self.translations > 1:
            raise ParameterError(f"A maximum shift of 0 makes all {self.translations} shifts per axis 0 px: use 1 "
                                 "shift for none, or a positive maximum.")
        if self.rotations == 1 and self.translations == 1:
            raise ParameterError("1 rotation and 1 shift per axis is only the unchanged image: nothing would be "
                                 "swept. Use more rotations or shifts.")

    def check_fits(self, input_side: int, what: str = "the model's input") -> None:
        """Refuse a maximum shift of ``input_side`` pixels (the model input's side) or more: a
        shift that large moves the whole image out of the frame, so those transforms score
        an empty input, not a shifted picture. Raises ParameterError naming both sizes."""
        if self.max_translation is not None and self.max_translation >= input_side:
            raise ParameterError(
                f"A maximum translation of {self.max_translation:g} px shifts the whole image out of "
                f"{what} ({input_side} x {input_side} px): every shift of {input_side} px or more shows an empty "
                f"frame. Use less than {input_side} px (the default is {default_max_translation(input_side):g}).")

    def resolved(self, input_side: int) -> "SpatialParams":
        if self.max_translation is None:
            return replace(self, max_translation=default_max_translation(input_side))
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SweepProgress:
    done: int      # transforms evaluated (over all images)
    total: int
    chunk_size: int


@dataclass
class SweepResult:
    """Grid mode: ``true_prob``, ``loss``, ``pred`` are N x R x Tx x Ty over
    ``rotations`` x ``translations_x`` x ``translations_y``. Random mode: N x k, with the
    drawn transforms in ``samples`` (N x k x 3: angle, tx, ty). Cells not evaluated
    (cancelled sweep) hold NaN (pred -1)."""

    params: SpatialParams
    labels: torch.Tensor
    rotations: torch.Tensor | None
    translations_x: torch.Tensor | None
    translations_y: torch.Tensor | None
    samples: torch.Tensor | None
    true_prob: torch.Tensor
    loss: torch.Tensor
    pred: torch.Tensor
    worst_transform: torch.Tensor       # N x 3 (angle, tx, ty)
    worst_index: torch.Tensor           # N, flat index into the per-image transform list
    worst_images: torch.Tensor          # N x C x H x W
    worst_pred: torch.Tensor
    worst_true_prob: torch.Tensor
    worst_loss: torch.Tensor
    fooled: torch.Tensor                # N bool: some evaluated transform is misclassified
    fooled_fraction: torch.Tensor       # N: share of evaluated transforms misclassified
    cancelled: bool
    evaluated: int
    wall_time_s: float


def transform_list(params: SpatialParams, n_images: int, device=None) -> tuple[torch.Tensor, dict]:
    """N x M x 3 transforms (angle, tx, ty) for every image, plus the grid axes (grid mode)."""
    p = params
    if p.mode == "grid":
        rot = torch.linspace(-p.max_rotation, p.max_rotation, p.rotations) if p.rotations > 1 else torch.zeros(1)
        tr = torch.linspace(-p.max_translation, p.max_translation, p.translations) if p.translations > 1 else torch.zeros(1)
        a, x, y = torch.meshgrid(rot, tr, tr, indexing="ij")   # rotation-major: matches R x Tx x Ty
        grid = torch.stack([a.flatten(), x.flatten(), y.flatten()], dim=1)
        return grid.unsqueeze(0).expand(n_images, -1, -1), {"rotations": rot, "translations_x": tr, "translations_y": tr.clone()}
    gen = torch.Generator().manual_seed(int(p.seed))
    u = torch.rand((n_images, p.k, 3), generator=gen) * 2 - 1
    scale = torch.tensor([p.max_rotation, p.max_translation, p.max_translation])
    return u * scale, {}


def spatial_sweep(
    model: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    labels: torch.Tensor,
    params: SpatialParams,
    cancel: CancelToken | None = None,
) -> Generator[SweepProgress, None, SweepResult]:
    started = time.perf_counter()
    n, c, h, w = images.shape
    p = params.resolved(min(h, w))
    transforms, axes = transform_list(p, n)
    m = transforms.shape[1]
    total = n * m
    labels = labels.to(images.device)
    flat_t = transforms.reshape(-1, 3)
    loss = torch.full((total,), float("nan"))
    prob = torch.full((total,), float("nan"))
    pred = torch.full((total,), -1, dtype=torch.long)
    sizer = ChunkSizer(p.chunk_size or first_chunk(h, w), fixed=p.chunk_size is not None)
    pos = 0
    cancelled = False
    while pos < total:
        if is_cancelled(cancel):
            cancelled = True
            break
        end = min(total, pos + sizer.size)
        t0 = time.perf_counter()
        try:
            batch_loss, batch_prob, batch_pred = _evaluate_chunk(model, images, labels, flat_t, pos, end, m)
        except _OOM_ERRORS:
            if not sizer.out_of_memory():
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            continue   # the same transforms again, in smaller chunks
        loss[pos:end], prob[pos:end], pred[pos:end] = batch_loss, batch_prob, batch_pred
        # _evaluate_chunk copies its results to the CPU, so this clock includes the GPU work.
        sizer.record(end - pos, time.perf_counter() - t0)
        pos = end
        yield SweepProgress(pos, total, sizer.size)

    loss_nm, prob_nm, pred_nm = loss.view(n, m), prob.view(n, m), pred.view(n, m)
    evaluated = ~torch.isnan(loss_nm)
    wrong = evaluated & (pred_nm != labels.cpu().view(-1, 1))
    score = torch.where(evaluated, loss_nm, torch.full_like(loss_nm, -float("inf")))
    # Where some transform is misclassified, only misclassified ones compete (by loss).
    any_wrong = wrong.any(dim=1, keepdim=True)
    ranked = torch.where(any_wrong & ~wrong, torch.full_like(score, -float("inf")), score)
    worst_index = ranked.argmax(dim=1)
    rows = torch.arange(n)
    worst_t = transforms[rows, worst_index]
    with torch.no_grad():
        worst_images = rotate_translate(images, worst_t[:, 0], worst_t[:, 1], worst_t[:, 2])
    count = evaluated.sum(dim=1).clamp_min(1)
    shape = (n, p.rotations, p.translations, p.translations) if p.mode == "grid" else (n, m)
    return SweepResult(
        params=p,
        labels=labels.cpu(),
        rotations=axes.get("rotations"),
        translations_x=axes.get("translations_x"),
        translations_y=axes.get("translations_y"),
        samples=transforms.clone() if p.mode == "random" else None,
        true_prob=prob_nm.reshape(shape),
        loss=loss_nm.reshape(shape),
        pred=pred_nm.reshape(shape),
        worst_transform=worst_t,
        worst_index=worst_index,
        worst_images=worst_images.detach(),
        worst_pred=pred_nm[rows, worst_index],
        worst_true_prob=prob_nm[rows, worst_index],
        worst_loss=loss_nm[rows, worst_index],
        fooled=wrong.any(dim=1),
        fooled_fraction=wrong.sum(dim=1) / count,
        cancelled=cancelled,
        evaluated=int(evaluated.sum()),
        wall_time_s=time.perf_counter() - started,
    )


def _evaluate_chunk(model, images, labels, flat_t, start, end, per_image):
    idx = torch.arange(start, end)
    img_idx = idx // per_image
    t = flat_t[start:end]
    with torch.no_grad():
        batch = rotate_translate(images[img_idx.to(images.device)], t[:, 0], t[:, 1], t[:, 2])
        logits = model(batch)
        y = labels[img_idx.to(labels.device)]
        loss = F.cross_entropy(logits, y, reduction="none")
        probs = logits.softmax(dim=1)
        prob = probs.gather(1, y.view(-1, 1)).squeeze(1)
        pred = logits.argmax(dim=1)
    return loss.float().cpu(), prob.float().cpu(), pred.cpu()
