"""Is the loaded model a deterministic function of its input?

Evaluation assumes it is: the clean prediction, every attack step and the final score must
see the same function. A network that is not gives different clean predictions run to run
and drifts while it is attacked. The usual cause is a network exported in training mode:
``torch.jit.trace`` bakes dropout and batch-norm's training branch into the graph, so
``.eval()`` on the loaded archive no longer turns them off. (Python modules and scripted
TorchScript are switched to evaluation mode by the wrapper, which does fix them.)

Three checks on the load-time probe batch: the same batch twice gives the same outputs;
a forward pass leaves the buffers (batch-norm running statistics) unchanged; an image's
output does not depend on the other images in its batch. Any failure is a *warning*, not
a refusal (except a model that cannot classify a single image at all): randomised defences are stochastic on purpose and are legitimate objects of
study (attacked with expectation over transformation), and the user may still want to see
an accidentally exported model; the warning says how to fix it and travels into every
result. The probe restores the buffers it changed, so loading never alters the model.
"""

from __future__ import annotations

import torch
from torch import nn

# Repeat runs of the same batch use the same kernels and agree to rounding; a batch of one
# may use other kernels (TF32 on recent GPUs differs by ~1e-3 relative), so it gets more room.
REPEAT_TOLERANCE = 1e-4
BATCH_TOLERANCE = 1e-2
FIX = "Re-export it after calling model.eval() (torch.jit.trace bakes training-mode layers into the file)"


def snapshot_buffers(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: b.detach().clone() for name, b in model.named_buffers()}


def restore_buffers(model: nn.Module, saved: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name in saved and not torch.equal(b, saved[name]):
                b.copy_(saved[name])


def changed_buffers(model: nn.Module, saved: dict[str, torch.Tensor]) -> list[str]:
    return [name for name, b in model.named_buffers() if name in saved and not torch.equal(b, saved[name])]


def training_layers(net: nn.Module) -> list[str]:
    """Names of the submodules (of types whose forward depends on it) left in training mode,
    e.g. ["dropout (Dropout)", "bn1 (BatchNorm2d)"]. Works for Python and TorchScript modules."""
    found = []
    for name, module in net.named_modules():
        kind = getattr(module, "original_name", None) or type(module).__name__   # scripted: the Python class
        if getattr(module, "training", False) and ("Dropout" in kind or "Norm" in kind):
            found.append(f"{name or '(top level)'} ({kind})")
    return found


def training_mode_note(net: nn.Module) -> str | None:
    """A note for a network that arrived in training mode (before the wrapper evaluates it)."""
    layers = training_layers(net)
    if not layers:
        return None
    shown = ", ".join(layers[:4]) + (f" and {len(layers) - 4} more" if len(layers) > 4 else "")
    return (f"The network was saved in training mode ({len(layers)} dropout/normalisation layers: {shown}); "
            "it is used in evaluation mode, as every evaluation should be.")


def _differ(a: torch.Tensor, b: torch.Tensor, tolerance: float) -> bool:
    a, b = a.float(), b.float()
    if torch.isnan(a).any() or torch.isnan(b).any():
        return not torch.equal(torch.isnan(a), torch.isnan(b))
    scale = max(1.0, float(a.abs().nan_to_num(posinf=0, neginf=0).max()))
    return float((a - b).nan_to_num(nan=0.0, posinf=0.0, neginf=0.0).abs().max()) > tolerance * scale


def check_determinism(model, x: torch.Tensor, first: torch.Tensor, saved: dict[str, torch.Tensor],
                      report) -> list[str]:
    """Warnings for a model that is not a deterministic function, given the probe batch ``x``,
    its first output ``first`` and the buffers ``saved`` before that forward pass. Sets
    ``report.deterministic``."""
    from visualizer.core.models.probe import run

    problems = []
    changed = changed_buffers(model, saved)
    if changed:
        problems.append(f"a forward pass changes its own state ({len(changed)} buffers such as {changed[0]}: "
                        "batch-norm statistics updated in training mode), so it drifts with every image it sees")
    again = run(model, x)
    if _differ(first, again, REPEAT_TOLERANCE):
        problems.append("two forward passes on the same images gave different outputs (dropout or another random "
                        "layer is active)")
    alone = run(model, x[1:])   # a model that cannot classify one image alone is refused here (probe.py)
    if _differ(first[1:], alone, BATCH_TOLERANCE):
        problems.append("an image's output depends on the other images in its batch (batch-norm using "
                        "batch statistics, as in training mode)")
    report.deterministic = not problems
    if not problems:
        return []
    return [f"Warning: the model is not a deterministic function: {'; '.join(problems)}. Its clean predictions "
            f"can change from run to run and attacks chase a moving target. {FIX}. If it is a randomised "
            "defence, expect single-sample gradients to underestimate its robustness."]
