"""Transfer: how other models classify one model's adversarial example.

The adversarial image lives on the source model's input crop. Another model sees that same
crop, converted to its channel count and resized to its input size, so clean and
adversarial are compared on exactly the same pixels for every model."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from visualizer.core.images import quantize_8bit
from visualizer.core.results import top_k

LUMA = (0.299, 0.587, 0.114)


def adapt_input(x: torch.Tensor, channels: int, side: int) -> torch.Tensor:
    """N x C x H x W in [0, 1] -> N x channels x side x side."""
    if x.shape[1] == 3 and channels == 1:
        x = (x * torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    elif x.shape[1] == 1 and channels == 3:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-1] != side or x.shape[-2] != side:
        x = F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)
    return x


def transfer_predictions(run, models) -> list[dict]:
    """One row per other model: its top-1 on the source's clean crop and on the 8-bit
    adversarial image (what a saved PNG would give), and whether the prediction changed."""
    return transfer_from_images(run.model.info.model_id, run.result.clean, run.result.adversarial, models)


@torch.no_grad()
def transfer_from_images(source: str, clean, adversarial, models) -> list[dict]:
    """``transfer_predictions`` from the source model's id and its clean and adversarial
    model inputs (C x H x W or 1 x C x H x W, [0, 1]; tensors or arrays, e.g. a stored result's)."""
    clean, adv = (torch.as_tensor(a).detach() for a in (clean, adversarial))
    clean, adv = (a[None] if a.dim() == 3 else a for a in (clean, adv))
    adv = quantize_8bit(adv)
    rows = []
    for model in models:
        pre = model.info.preprocessing
        names = model.info.class_names
        xs = torch.cat([adapt_input(clean.to(model.device), pre.channels, pre.input_size),
                        adapt_input(adv.to(model.device), pre.channels, pre.input_size)])
        probs = model(xs).float().softmax(1).cpu()
        before, after = top_k(probs[0], names, 1)[0], top_k(probs[1], names, 1)[0]
        rows.append({"source": source, "model": model.info.model_id, "clean": before, "adversarial": after,
                     "changed": before["class"] != after["class"],
                     "clean_prob_of_clean_top1_after": float(probs[1, before["class"]])})
    return rows
