"""One test forward pass when a model is loaded, so a broken model fails at loading with a
clear message instead of in the middle of an attack, and a model that returns
probabilities instead of logits is flagged (its saturated softmax masks gradients and makes
attacks look weaker than they are)."""

from __future__ import annotations

import torch

from visualizer.core.errors import ModelLoadError


def short_error(exc: BaseException) -> str:
    """One line for the user. TorchScript wraps the model's own message under a generic
    header and a stack, so its last line is the informative one."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[-1] if "TorchScript interpreter" in lines[0] else lines[0]


def probe(model) -> list[str]:
    """Run two test images (mid-grey and seeded noise); raise ModelLoadError if the model
    cannot classify them, return warnings worth showing the user otherwise."""
    c, s, _ = model.input_shape
    gen = torch.Generator().manual_seed(0)
    x = torch.cat([torch.full((1, c, s, s), 0.5), torch.rand((1, c, s, s), generator=gen)]).to(model.device)
    try:
        with torch.no_grad():
            out = model(x)
    except Exception as exc:  # any failure inside user code: report it, do not crash
        raise ModelLoadError(
            f"The model raised an error on a test image of shape {tuple(x.shape)}: {short_error(exc)}. "
            "Check its input size (--input-size) and channel count."
        ) from exc
    n = model.info.num_classes
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, n):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ModelLoadError(f"The model returned {shape} for 2 test images; a classifier of {n} classes must "
                             f"return logits of shape (2, {n}).")
    notes = []
    out = out.float()
    if not torch.isfinite(out).all():
        notes.append("Warning: the model returns NaN or infinite scores on plain test images; its results "
                     "cannot be trusted.")
    elif out.min() >= 0 and out.max() <= 1 and torch.allclose(out.sum(dim=1), torch.ones(2, device=out.device), atol=1e-3):
        notes.append("Warning: the model's outputs look like probabilities (each row sums to 1), not logits. "
                     "Attacks maximise cross-entropy on logits; through a final softmax the gradients saturate "
                     "and attacks look weaker than they are (gradient masking). Remove the final softmax if you can.")
    return notes
