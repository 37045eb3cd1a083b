"""Transfer: how other models classify one model's adversarial example.

The adversarial image lives on the source model's input crop. Another model sees that same
crop, converted to its channel count and resized to its input size by the same 8-bit
pipeline every model input goes through (``model_input.preprocess``), so clean and
adversarial are compared on exactly the same pixels for every model."""

from __future__ import annotations

import torch

from visualizer.core.images import image_from_array
from visualizer.core.model_input import preprocess
from visualizer.core.models.wrapper import Preprocessing
from visualizer.core.results import top_k


def adapt_input(x: torch.Tensor, pre: Preprocessing) -> torch.Tensor:
    """1 x C x H x W in [0, 1] (C = 1 or 3, 8-bit levels) -> 1 x pre.channels x S x S 8-bit
    levels, S = pre.input_size: the whole crop resized (shorter side to S, centre square)."""
    levels = torch.round(x[0].detach().cpu().float() * 255).to(torch.uint8).permute(1, 2, 0).numpy()
    image = image_from_array(levels)
    square = Preprocessing(input_size=pre.input_size, resize_size=pre.input_size, interpolation=pre.interpolation,
                           channels=pre.channels, mean=pre.mean, std=pre.std)
    return preprocess(image, square)[0]


def transfer_predictions(run, models) -> list[dict]:
    """One row per other model: its top-1 on the source's clean crop and on the saved 8-bit
    adversarial image (``run.adversarial_quantized``), and whether the prediction changed."""
    return transfer_from_images(run.model.info.model_id, run.result.clean, run.adversarial_quantized, models)


@torch.no_grad()
def transfer_from_images(source: str, clean, adversarial, models) -> list[dict]:
    """``transfer_predictions`` from the source model's id and its clean and adversarial
    model inputs (C x H x W or 1 x C x H x W, [0, 1]; tensors or arrays, e.g. a stored result's,
    whose adversarial image is the saved 8-bit one; ``adapt_input`` rounds to 8 bits anyway)."""
    clean, adv = (torch.as_tensor(a).detach() for a in (clean, adversarial))
    clean, adv = (a[None] if a.dim() == 3 else a for a in (clean, adv))
    rows = []
    for model in models:
        pre = model.info.preprocessing
        names = model.info.class_names
        xs = torch.cat([adapt_input(clean, pre), adapt_input(adv, pre)]).to(model.device)
        probs = model(xs).float().softmax(1).cpu()
        before, after = top_k(probs[0], names, 1)[0], top_k(probs[1], names, 1)[0]
        rows.append({"source": source, "model": model.info.model_id, "clean": before, "adversarial": after,
                     "changed": before["class"] != after["class"],
                     "clean_prob_of_clean_top1_after": float(probs[1, before["class"]])})
    return rows
