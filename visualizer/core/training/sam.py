"""Sharpness-aware minimisation (SAM; Foret, Kleiner, Mobahi & Neyshabur 2021, "Sharpness-Aware
Minimization for Efficiently Improving Generalization", ICLR): each update uses the gradient
taken at the weights moved ``rho`` (L2, over all parameters together) up the loss's own
gradient, so training seeks weights whose whole neighbourhood has a low loss: a flat minimum.
A surrogate trained with a large ``rho`` transfers adversarial examples better (Gubri, Cordy &
Le Traon 2023, "Going Further: Flatness at the Rescue of Early Stopping for Adversarial Example
Transferability"; Zhang et al. 2023, "Why Does Little Robustness Help?").

One SAM step: ``loss.backward()``; ``moved = climb(params, rho)``; the loss and its gradient
again at the moved weights; ``come_back(params, moved)``; ``optimizer.step()``. Twice the cost
of a plain step.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def climb(params: list[torch.Tensor], rho: float) -> list[torch.Tensor | None]:
    """Move every parameter by ``rho * grad / ||grad||`` (the norm over all gradients together;
    a parameter without a gradient stays); returns each move (None where none) for
    ``come_back``. ``rho`` > 0, in weight units."""
    grads = [p.grad for p in params]
    norm = torch.linalg.vector_norm(torch.stack([g.detach().norm() for g in grads if g is not None]))
    scale = rho / (norm + 1e-12)
    moved: list[torch.Tensor | None] = []
    for p, g in zip(params, grads):
        if g is None:
            moved.append(None)
            continue
        step = g * scale
        p.add_(step)
        moved.append(step)
    return moved


@torch.no_grad()
def come_back(params: list[torch.Tensor], moved: list[torch.Tensor | None]) -> None:
    """Undo ``climb``: every parameter back where it was (its gradient, taken at the moved
    weights, stays for the optimiser's step)."""
    for p, step in zip(params, moved):
        if step is not None:
            p.sub_(step)
