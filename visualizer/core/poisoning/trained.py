"""A poisoned model after training: loaded back from the files the trainer wrote (so what
is measured is what a user would load), measured, and its model card told how its training
data was poisoned."""

from __future__ import annotations

from pathlib import Path

import torch

from visualizer.core.data.dataset import Dataset
from visualizer.core.errors import OutputError
from visualizer.core.models.arch import resolve_arch
from visualizer.core.training import outputs
from visualizer.core.training.network import PixelClassifier, build_network


def load_trained(folder: Path, arch: str, num_classes: int, device) -> PixelClassifier:
    """The network in ``folder/model.safetensors`` (eval mode, on ``device``)."""
    from safetensors.torch import load_file

    model = build_network(resolve_arch(arch), num_classes, seed=0)
    try:
        model.net.load_state_dict(load_file(str(folder / outputs.WEIGHTS)))
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"{folder / outputs.WEIGHTS} cannot be read back: {exc}") from None
    return model.to(device).eval()


@torch.no_grad()
def predictions(model: torch.nn.Module, data: Dataset, device, batch_size: int = 500) -> torch.Tensor:
    """Top-1 class (N,) of every example of ``data``, on the CPU."""
    out = []
    for start in range(0, len(data), batch_size):
        x, _ = data.batch(slice(start, start + batch_size), device)
        out.append(model(x).argmax(1).cpu())
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)


@torch.no_grad()
def evaluate_backdoor(model: torch.nn.Module, test: Dataset, triggered: Dataset, target: int, device,
                      shown: torch.Tensor, examples_clean: torch.Tensor) -> dict:
    """Clean accuracy on ``test``, and the attack success rate: the fraction of ``triggered``
    (test images of the other classes, trigger stamped) classified as ``target``, beside the
    ``clean_target_rate`` (those classes' clean test images classified as ``target``); also the
    predictions on the figure's examples (``shown`` into ``triggered``, and their clean
    versions ``examples_clean``, K x C x H x W pixels)."""
    clean = predictions(model, test, device)
    attacked = predictions(model, triggered, device)
    others = clean[test.labels.cpu() != target]
    return {
        "clean_accuracy": float((clean == test.labels.cpu()).float().mean()) if len(clean) else None,
        "clean_images": len(test),
        "attack_success_rate": float((attacked == target).float().mean()) if len(attacked) else None,
        # The same share without the trigger: an ASR means a backdoor only when this is low.
        "clean_target_rate": float((others == target).float().mean()) if len(others) else None,
        "triggered_images": len(triggered),
        "example_predictions": {"clean": model(examples_clean.to(device)).argmax(1).cpu().tolist(),
                                "triggered": attacked[shown].tolist()},
    }


def note_poisoning(folder: Path, card: dict, config, rate: float, poisoned) -> None:
    """Add what was done to the training data to the model card (model.json)."""
    card["poisoning"] = {"attack": config.attack, "trigger": config.trigger.spec(), "target": config.target,
                         "rate": rate, "poisons": int(len(poisoned.poison_index)),
                         "note": "trained on deliberately poisoned data: a backdoored model, for study only"}
    card["description"] = (f"BACKDOORED ({config.attack}, {len(poisoned.poison_index)} poisons, trigger "
                           f"{config.trigger.spec()} -> class {config.target}). " + card["description"])
    outputs.write_json(folder / outputs.CARD, card, "the model card")

