"""`visualizer models`: every model source, with the bundled models and whether their
weights are available offline, and where the bundled sample images are (the tutorial's
commands name them; an installed copy keeps them inside the package)."""

from __future__ import annotations

NAME = "models"
HELP = ("list model sources (bundled, torchvision, timm, checkpoint files with --arch, including your own "
        "py:FILE.py:NAME architecture, TorchScript) and whether bundled weights are available offline")


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    import textwrap

    from visualizer.core.models.registry import describe_sources
    from visualizer.core.resources import resource_path, sample_images, sample_sets

    for entry in describe_sources():
        print(f"{entry['source']:12s} {entry['syntax']}")
        if entry.get("example"):
            print(f"{'':12s}   e.g. {entry['example']}")
        if entry.get("description"):
            print(textwrap.fill(entry["description"], width=100, initial_indent=" " * 15,
                                subsequent_indent=" " * 15))
        if entry.get("architectures"):
            print(f"{'':12s}   --arch: {', '.join(entry['architectures'])}")
        for item in entry.get("models", []):
            state = "available offline" if item["available"] else f"weights missing: {item.get('detail', '')}"
            print(f"{'':12s}   {item['name']:18s} {state}  {item.get('description', '')}")
    print(f"{'samples':12s} {resource_path('samples')}")
    print(textwrap.fill(", ".join(p.name for p in sample_images()), width=100, initial_indent=" " * 15,
                        subsequent_indent=" " * 15))
    for title, images in sample_sets():
        print(f"{'':12s}   {title}: {images[0].parent}/ ({len(images)} labelled test images, e.g. {images[0].name})")
    return 0
