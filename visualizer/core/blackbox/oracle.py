"""A prediction API over a model: the only thing black-box attacks and model thieves see.

An ``Oracle`` answers "what does the model say about these images?" at the level of detail
a threat model allows, and nothing more:

- ``probs``       the full probability vector (N x classes);
- ``topk:K``      the K largest probabilities, every other class 0 (N x classes);
- ``rounded:D``   every probability rounded to D decimals (N x classes);
- ``label``       the top-1 class alone (N, int64).

Accounting: one image is one query, whether it comes alone or in a batch. ``budget`` caps
the total; a call that would go past it raises ``QueryBudgetExhausted`` *before* anything
is computed or counted (all or nothing: no partial answers to lose). Callers that spend a
per-image budget (the query attacks) trim their batch with ``remaining`` first.

No leaks: answers are computed under ``torch.no_grad`` and detached, so they carry no
autograd graph (``requires_grad`` False, ``grad_fn`` None) and are probabilities, never
logits. The model is held only inside a closure, not as an attribute: ``vars(oracle)``
holds no ``nn.Module`` and no bound method of one. This is an API boundary for honest
experiments, not a sandbox against hostile Python in the same process.

Defence (optional, applied to the probabilities before the exposure level cuts them):
``reverse-sigmoid[:BETA[:GAMMA]]`` (Lee et al. 2019, "Defending against NN model stealing
attacks using deceptive perturbations"): p' = normalise(clip(p - BETA * (sigmoid(GAMMA *
logit(p)) - 1/2), 0, 1)). It keeps the answers valid probabilities while bending their
values, which poisons the soft labels a thief trains on (defaults BETA 1, GAMMA 0.1).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

import torch

from visualizer.core.errors import ParameterError, VisualizerError
from visualizer.core.numbers import parse_number, parse_whole

KINDS = ("probs", "topk", "rounded", "label")
SPEC_HELP = "probs, topk:K, rounded:D or label"
DEFENCE_HELP = "none or reverse-sigmoid[:BETA[:GAMMA]]"
# Probabilities are kept this far from 0 and 1 before the logit in reverse-sigmoid.
_PROB_CLIP = 1e-9


class QueryBudgetExhausted(VisualizerError):
    """The oracle's query budget would be exceeded; nothing of the refused call was counted."""


@dataclass(frozen=True)
class OracleSpec:
    """What the oracle reveals. ``k`` for topk, ``decimals`` for rounded."""

    kind: str = "probs"
    k: int | None = None
    decimals: int | None = None

    @property
    def scores(self) -> bool:
        """True when answers are probability vectors (every kind but ``label``)."""
        return self.kind != "label"

    def __str__(self) -> str:
        if self.kind == "topk":
            return f"topk:{self.k}"
        if self.kind == "rounded":
            return f"rounded:{self.decimals}"
        return self.kind


def parse_oracle_spec(text: str) -> OracleSpec:
    """``probs`` | ``topk:K`` (K >= 1) | ``rounded:D`` (0 <= D <= 8) | ``label``.
    Raises ParameterError on anything else."""
    parts = [p.strip() for p in str(text).strip().lower().split(":")]
    kind, args = parts[0], parts[1:]
    if kind in ("probs", "label") and not args:
        return OracleSpec(kind)
    if kind == "topk" and len(args) == 1:
        k = parse_whole(args[0], "topk K")
        if k < 1:
            raise ParameterError(f"topk needs K >= 1, got {k}.")
        return OracleSpec("topk", k=k)
    if kind == "rounded" and len(args) == 1:
        d = parse_whole(args[0], "rounded decimals")
        if not 0 <= d <= 8:
            raise ParameterError(f"rounded needs 0 to 8 decimals, got {d}.")
        return OracleSpec("rounded", decimals=d)
    raise ParameterError(f"Unknown oracle {text!r}; write {SPEC_HELP}.")


def check_oracle_fits(spec: "OracleSpec | str", num_classes: int, model_id: str = "the model") -> None:
    """Refuse ``topk:K`` with K above the model's class count: there is no top 11 of 10
    classes (it used to run as ``probs`` without a word). Raises ParameterError."""
    spec = spec if isinstance(spec, OracleSpec) else parse_oracle_spec(spec)
    if spec.kind == "topk" and spec.k > num_classes:
        raise ParameterError(f"Oracle {spec}: {model_id} has only {num_classes} classes; use topk:K with K up to "
                             f"{num_classes}, or probs for all of them.")


@dataclass(frozen=True)
class ReverseSigmoid:
    """Lee et al. 2019's reverse-sigmoid perturbation of probabilities (see module doc)."""

    beta: float = 1.0
    gamma: float = 0.1

    def __call__(self, probs: torch.Tensor) -> torch.Tensor:
        p = probs.clamp(_PROB_CLIP, 1 - _PROB_CLIP)
        bent = (p - self.beta * (torch.sigmoid(self.gamma * torch.logit(p)) - 0.5)).clamp_(0, 1)
        total = bent.sum(dim=1, keepdim=True)
        # All mass clipped away (extreme beta): fall back to the true answer rather than NaN.
        return torch.where(total > 0, bent / total.clamp_min(1e-30), probs)

    def __str__(self) -> str:
        return f"reverse-sigmoid:{self.beta:g}:{self.gamma:g}"


def parse_defence(text: str | None) -> ReverseSigmoid | None:
    """None / ``none`` -> no defence; ``reverse-sigmoid[:BETA[:GAMMA]]`` (BETA, GAMMA > 0)."""
    if text is None or str(text).strip().lower() in ("", "none"):
        return None
    parts = [p.strip() for p in str(text).strip().lower().split(":")]
    if parts[0] != "reverse-sigmoid" or len(parts) > 3:
        raise ParameterError(f"Unknown defence {text!r}; write {DEFENCE_HELP}.")
    beta = parse_number(parts[1], "reverse-sigmoid beta") if len(parts) > 1 else 1.0
    gamma = parse_number(parts[2], "reverse-sigmoid gamma") if len(parts) > 2 else 0.1
    if not (beta > 0 and gamma > 0):
        raise ParameterError(f"reverse-sigmoid needs beta > 0 and gamma > 0, got {beta:g} and {gamma:g}.")
    return ReverseSigmoid(beta, gamma)


def _expose(probs: torch.Tensor, spec: OracleSpec) -> torch.Tensor:
    """Cut full probabilities (N x classes) down to what ``spec`` reveals."""
    if spec.kind == "label":
        return probs.argmax(dim=1)
    if spec.kind == "topk":
        top = probs.topk(min(spec.k, probs.shape[1]), dim=1)
        return torch.zeros_like(probs).scatter_(1, top.indices, top.values)
    if spec.kind == "rounded":
        return probs.round(decimals=spec.decimals)
    return probs


def _answerer(model, spec: OracleSpec, defence, chunk: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """The closure that alone holds the model: images in, exposed answers out, no graph."""
    def answer(images: torch.Tensor) -> torch.Tensor:
        outs = []
        with torch.no_grad():
            for start in range(0, images.shape[0], chunk):
                logits = model(images[start:start + chunk])
                if logits.dim() != 2 or logits.shape[0] != min(chunk, images.shape[0] - start):
                    raise VisualizerError(f"The model returned shape {tuple(logits.shape)}, not (batch, classes).")
                probs = logits.float().softmax(dim=1)
                if defence is not None:
                    probs = defence(probs)
                outs.append(_expose(probs, spec))
        return torch.cat(outs).detach()
    return answer


class Oracle:
    """Query access to a ClassifierModel at one exposure level (see module doc).

    ``oracle(images)``: images N x C x H x W, [0, 1] pixels, at ``input_shape``, on any device
    (moved to the model's). Returns, on the model's device, N x classes float32 probabilities
    (probs/topk/rounded) or N int64 labels (label). Raises QueryBudgetExhausted (see above),
    ParameterError for images of the wrong shape or outside [0, 1].
    """

    def __init__(self, model, spec: str | OracleSpec = "probs", budget: int | None = None,
                 defence: str | ReverseSigmoid | None = None, chunk: int = 256):
        self.spec = spec if isinstance(spec, OracleSpec) else parse_oracle_spec(spec)
        self.defence = defence if isinstance(defence, ReverseSigmoid) or defence is None else parse_defence(defence)
        if budget is not None and (int(budget) != budget or budget < 0):
            raise ParameterError(f"A query budget must be a whole number >= 0, got {budget}.")
        self.budget = None if budget is None else int(budget)
        # Public metadata a prediction API would publish anyway.
        self.model_id = model.info.model_id
        self.class_names = list(model.info.class_names)
        check_oracle_fits(self.spec, len(self.class_names), self.model_id)
        self.input_shape = tuple(model.input_shape)
        self.device = model.device
        self._answer = _answerer(model, self.spec, self.defence, max(1, int(chunk)))
        self._queries = 0
        self._lock = threading.Lock()   # the steal experiment may query from worker threads

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def queries(self) -> int:
        """Images answered so far (one image, one query)."""
        return self._queries

    @property
    def remaining(self) -> int | None:
        """Queries left under the budget (None: unlimited)."""
        return None if self.budget is None else self.budget - self._queries

    def _check(self, images: torch.Tensor) -> None:
        if not isinstance(images, torch.Tensor) or images.dim() != 4 or tuple(images.shape[1:]) != self.input_shape:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
            raise ParameterError(f"The oracle takes N x {' x '.join(map(str, self.input_shape))} images, got {shape}.")
        low, high = torch.aminmax(images) if images.numel() else (0, 0)   # one pass, one host sync
        if not (low >= 0 and high <= 1):
            raise ParameterError("The oracle takes pixels in [0, 1]; clip the images first.")

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        self._check(images)
        n = images.shape[0]
        with self._lock:
            if self.budget is not None and self._queries + n > self.budget:
                raise QueryBudgetExhausted(
                    f"Query budget exhausted: {n} more image(s) asked, {self.budget - self._queries} of "
                    f"{self.budget} queries left.")
            self._queries += n
        return self._answer(images.detach().to(self.device, torch.float32))

    def top1(self, images: torch.Tensor) -> torch.Tensor:
        """The predicted class per image (N, int64) at any exposure level; costs N queries."""
        answers = self(images)
        return answers if not self.spec.scores else answers.argmax(dim=1)

    def describe(self) -> dict:
        """What the records store about this oracle."""
        return {"oracle": str(self.spec), "defence": str(self.defence) if self.defence else None,
                "budget": self.budget, "queries": self._queries}
