"""Class-name lists: ImageNet-1k (shipped with torchvision), CIFAR-10, digits, or a text file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from visualizer.core.errors import ModelLoadError

CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DIGITS = [str(d) for d in range(10)]


@lru_cache(maxsize=1)
def imagenet_classes() -> list[str]:
    # torchvision ships the 1,000 names with its weight enums; no download involved.
    from torchvision.models import ResNet50_Weights

    return list(ResNet50_Weights.IMAGENET1K_V2.meta["categories"])


def labels_from_file(path: str | Path) -> list[str]:
    """One class name per line (blank lines ignored), or a JSON list of names."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ModelLoadError(f"The labels file {p} is not text (UTF-8); it should hold one class name a line.") from exc
    except OSError as exc:
        reason = "it does not exist" if isinstance(exc, FileNotFoundError) else exc.strerror or str(exc)
        raise ModelLoadError(f"Cannot read the labels file {p}: {reason}.") from exc
    if text.lstrip().startswith("["):
        import json

        try:
            names = [str(n) for n in json.loads(text)]
        except (ValueError, TypeError) as exc:
            raise ModelLoadError(f"The labels file {p} looks like JSON but is not a list of names: {exc}") from exc
    else:
        names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise ModelLoadError(f"The labels file {p} holds no class names.")
    return names


def resolve_labels(spec: str | None, num_classes: int | None = None) -> list[str]:
    """``imagenet``, ``cifar10``, ``digits``, a file path, or None (numbered classes)."""
    if spec is None:
        if num_classes is None:
            raise ModelLoadError("Give either a labels source or the number of classes.")
        names = [f"class {i}" for i in range(num_classes)]
    elif spec.lower() == "imagenet":
        names = imagenet_classes()
    elif spec.lower() == "cifar10":
        names = list(CIFAR10)
    elif spec.lower() == "digits":
        names = list(DIGITS)
    else:
        names = labels_from_file(spec)
    if num_classes is not None and len(names) != num_classes:
        raise ModelLoadError(
            f"The labels ({spec}) name {len(names)} classes but the model has {num_classes} outputs."
        )
    return names
