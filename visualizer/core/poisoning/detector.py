"""Spectral signatures (Tran, Li & Madry 2018, "Spectral signatures in backdoor attacks"):
poisons leave a trace in a network's learned representation that is strong along the top
singular vector of each class's centred activations. For every class (by training label),
each example's score is its squared projection on that vector; the highest-scoring
1.5 x eps x n_c examples of each class are removed (eps an upper bound on the poisoned
fraction of a class, 1.5 the paper's margin), and the network is retrained without them.

Activations are the input of the network's last linear layer (the penultimate layer), read
with a forward hook, so any architecture with a linear head works.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from visualizer.core.data.dataset import Dataset
from visualizer.core.errors import ParameterError

REMOVAL_MARGIN = 1.5      # Tran et al.: remove 1.5 eps n_c per class


def last_linear(model: nn.Module) -> nn.Linear:
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ParameterError("The spectral-signature detector reads the input of the network's last linear "
                             "layer; this network has none.")
    return layers[-1]


@torch.no_grad()
def penultimate_activations(model: nn.Module, data: Dataset, device: torch.device | str = "cpu",
                            batch_size: int = 500) -> torch.Tensor:
    """N x D float32 (on the CPU): the input of ``model``'s last linear layer for every
    example of ``data``, in order, with the model in eval mode."""
    captured: list[torch.Tensor] = []
    handle = last_linear(model).register_forward_hook(
        lambda module, inputs, output: captured.append(inputs[0].detach().flatten(1).float().cpu()))
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(data), batch_size):
            x, _ = data.batch(slice(start, start + batch_size), device)
            model(x)
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(captured)


def spectral_scores(activations: torch.Tensor, directions: int = 1) -> torch.Tensor:
    """Scores (N,) of one class's activations (N x D): the squared projection of each
    centred row on the top right singular vector of the centred matrix (Tran et al.), or
    with ``directions`` k > 1 the sum of squared projections on the top k. On a one-epoch
    MNIST model the poisons' offset was spread over the top several directions (see the
    README), where the top one alone caught few of them."""
    centred = activations.double() - activations.double().mean(0, keepdim=True)
    if len(centred) < 2:
        return torch.zeros(len(centred), dtype=torch.float64)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    return ((centred @ vh[:directions].T) ** 2).sum(1)


def flag_per_class(activations: torch.Tensor, labels: torch.Tensor, eps: float, directions: int = 1
                   ) -> torch.Tensor:
    """Sorted indices of the examples flagged: in each class c (n_c examples by ``labels``),
    the ceil(1.5 eps n_c) with the highest spectral scores (over ``directions`` top singular
    vectors). ``eps`` in [0, 1)."""
    if directions < 1:
        raise ParameterError(f"The detector needs at least 1 singular direction, not {directions}.")
    if not 0 <= eps < 1:
        raise ParameterError(f"The detector's eps (an upper bound on the poisoned fraction of a class) must be "
                             f"in [0, 1), not {eps}.")
    flagged = []
    for c in labels.unique().tolist():
        members = torch.nonzero(labels == c).flatten()
        # the small slack keeps float noise (1.5 * 0.1 * 220 = 33.000000000000004) from adding one
        remove = min(len(members), math.ceil(REMOVAL_MARGIN * eps * len(members) - 1e-9))
        if remove == 0:
            continue
        scores = spectral_scores(activations[members], directions)
        flagged.append(members[scores.topk(remove).indices])
    if not flagged:
        return torch.zeros(0, dtype=torch.long)
    return torch.cat(flagged).sort().values


def precision_recall(flagged: torch.Tensor, poisons: torch.Tensor) -> dict:
    """Precision (poisons among the flagged) and recall (flagged among the poisons) of two
    index sets; None where a denominator is 0."""
    flagged_set, poison_set = set(flagged.tolist()), set(poisons.tolist())
    hits = len(flagged_set & poison_set)
    return {"flagged": len(flagged_set), "poisons": len(poison_set), "true_positives": hits,
            "precision": hits / len(flagged_set) if flagged_set else None,
            "recall": hits / len(poison_set) if poison_set else None}


def largest_class_fraction(labels: torch.Tensor, poisons: torch.Tensor) -> float:
    """The poisoned fraction of the most poisoned class (by training label): the eps of Tran
    et al.'s experiments, where the budget is known to the experimenter."""
    if len(poisons) == 0:
        return 0.0
    poisoned_labels = labels[poisons]
    return max(float((poisoned_labels == c).sum()) / float((labels == c).sum())
               for c in poisoned_labels.unique().tolist())


def most_suspect(activations: torch.Tensor, labels: torch.Tensor, flagged: torch.Tensor, directions: int = 1,
                 count: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``count`` flagged examples that stand out most, and their scores: each flagged
    example's spectral score divided by the mean score of its class (scores of different
    classes have different scales; this ratio does not), highest first. Returns (indices
    (K,) int64, relative scores (K,) float64), K <= ``count``."""
    if len(flagged) == 0 or count < 1:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.float64)
    relative = torch.zeros(len(labels), dtype=torch.float64)
    for c in labels[flagged].unique().tolist():
        members = torch.nonzero(labels == c).flatten()
        scores = spectral_scores(activations[members], directions)
        relative[members] = scores / scores.mean().clamp_min(1e-12)
    order = relative[flagged].argsort(descending=True)[:count]
    return flagged[order], relative[flagged][order]
