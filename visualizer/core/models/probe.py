"""Test forward passes when a model is loaded, so a broken model fails at loading with a
clear message instead of in the middle of an attack, and what the network really returns
is known before anything is reported: logits, probabilities (a final softmax) or
log-probabilities (a final log-softmax), and whether it is a deterministic function."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

from visualizer.core.errors import ModelLoadError

# Rows within this of summing to 1 (probabilities) or of log-sum-exp 0 (log-probabilities).
SUM_TOLERANCE = 1e-3
# torch's convolution message when the input's channel count is not the layer's.
_CHANNELS = re.compile(r"expected input\[[^\]]*\] to have (\d+) channels, but got (\d+) channels")


@dataclass
class ProbeReport:
    outputs: str = "logits"              # one of wrapper.OUTPUT_KINDS
    deterministic: bool = True
    notes: list[str] = field(default_factory=list)
    scores: torch.Tensor | None = None   # the model's output on probe_batch (eval mode), as run


def short_error(exc: BaseException) -> str:
    """One line for the user. TorchScript wraps the model's own message under a generic
    header and a stack, so its last line is the informative one."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    return lines[-1] if "TorchScript interpreter" in lines[0] else lines[0]


def forward_error(exc: BaseException, shape: tuple[int, ...]) -> ModelLoadError:
    """The error for a network that failed on a test batch of ``shape`` (N, C, H, W),
    naming the cause when torch's message shows it: a channel count that is not the
    network's (--channels), otherwise the input size and channel count to check."""
    text = str(exc)
    if "per channel when training" in text:   # batch-norm in training mode, on a batch of one
        from visualizer.core.models.determinism import FIX

        return ModelLoadError(f"The model fails on a single image ({short_error(exc)}): it normalises with batch "
                              f"statistics, as batch-norm does in training mode, so it cannot classify one image "
                              f"alone. {FIX}.")
    found = _CHANNELS.search(text)
    if found:
        wanted, given = int(found.group(1)), int(found.group(2))
        return ModelLoadError(
            f"The model takes {wanted}-channel images but was given {given}-channel ones. "
            f"Pass --channels {wanted} (\"Channels\" in the window), with --mean/--std of one value or {wanted}."
            if wanted in (1, 3) else
            f"The model's first layer takes {wanted} channels; this tool feeds 1 (grayscale) or 3 (RGB).")
    return ModelLoadError(
        f"The model raised an error on a test image of shape {tuple(shape)}: {short_error(exc)}. "
        "Check its input size (--input-size) and channel count (--channels)."
    )


def probe_batch(model) -> torch.Tensor:
    """Two test images at the model's input shape: mid-grey and seeded noise."""
    c, s, _ = model.input_shape
    gen = torch.Generator().manual_seed(0)
    return torch.cat([torch.full((1, c, s, s), 0.5), torch.rand((1, c, s, s), generator=gen)]).to(model.device)


def probe(model) -> ProbeReport:
    """Classify the probe batch; raise ModelLoadError if the model cannot, return what its
    outputs are and the notes worth showing the user otherwise. The model must still
    return the network's raw scores (``info.outputs == "logits"``) when this runs; its
    buffers are as they were before when this returns."""
    from visualizer.core.models.determinism import check_determinism, restore_buffers, snapshot_buffers

    x = probe_batch(model)
    saved = snapshot_buffers(model)
    try:
        out = run(model, x)
        report = ProbeReport(scores=None if model.training else out)
        report.notes += check_determinism(model, x, out, saved, report)
    finally:
        restore_buffers(model, saved)
    report.notes += _output_notes(out.float(), report)
    return report


def run(model, x: torch.Tensor) -> torch.Tensor:
    """The model's scores on ``x``, checked to be one row of class scores per image."""
    try:
        with torch.no_grad():
            out = model(x)
    except Exception as exc:  # any failure inside user code: report it, do not crash
        raise forward_error(exc, tuple(x.shape)) from exc
    n, rows = model.info.num_classes, x.shape[0]
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (rows, n):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ModelLoadError(f"The model returned {shape} for {rows} test images; a classifier of {n} classes "
                             f"must return logits of shape ({rows}, {n}).")
    return out


def output_kind(out: torch.Tensor) -> str:
    """"probabilities" if every row is in [0, 1] and sums to 1, "log-probabilities" if every
    row is <= 0 and its exponentials sum to 1, else "logits"."""
    ones = torch.ones(out.shape[0], device=out.device)
    if out.min() >= 0 and out.max() <= 1 and torch.allclose(out.sum(dim=1), ones, atol=SUM_TOLERANCE):
        return "probabilities"
    if out.max() <= 0 and torch.allclose(out.logsumexp(dim=1), ones - 1, atol=SUM_TOLERANCE):
        return "log-probabilities"
    return "logits"


def _output_notes(out: torch.Tensor, report: ProbeReport) -> list[str]:
    kind = output_kind(out) if not torch.isnan(out).any() else "logits"
    finite = bool(torch.isfinite(out).all())
    # log(softmax(.)) can give -inf where a probability underflowed; anything else non-finite is broken.
    if not finite and not (kind == "log-probabilities" and torch.isfinite(out.max(dim=1).values).all()):
        return ["Warning: the model returns NaN or infinite scores on plain test images; its results "
                "cannot be trusted."]
    report.outputs = kind
    if kind == "logits":
        return []
    if kind == "log-probabilities":
        return [_LOG_NOTE] + ([] if finite else [_SATURATED])
    saturated = out.shape[1] > 1 and bool((out.topk(2, dim=1).values[:, 1] <= 0).any())
    return [_PROB_NOTE] + ([_SATURATED] if saturated else [])


_PROB_NOTE = ("The model's outputs are probabilities (each row sums to 1: it ends in a softmax), not logits: "
              "their log is used as the logits, so confidences are the model's own and attacks maximise the "
              "usual cross-entropy.")
_LOG_NOTE = ("The model's outputs are log-probabilities (it ends in a log-softmax); they are used as the logits, "
             "so confidences are the model's own.")
_SATURATED = ("Warning: the model's final softmax is saturated on plain test images (every other class's "
              "probability underflows to exactly 0), so gradients through it vanish and attacks can look "
              "weaker than they are (gradient masking). Remove the final softmax if you can.")
