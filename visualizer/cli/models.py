"""`visualizer models`: every model source, with the bundled models and whether their
weights are available offline."""

from __future__ import annotations

NAME = "models"
HELP = "list model sources and bundled models (and whether weights are available offline)"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    from visualizer.core.models.registry import describe_sources

    for entry in describe_sources():
        print(f"{entry['source']:12s} {entry['syntax']}")
        if entry.get("example"):
            print(f"{'':12s}   e.g. {entry['example']}")
        for item in entry.get("models", []):
            state = "available offline" if item["available"] else f"weights missing: {item.get('detail', '')}"
            print(f"{'':12s}   {item['name']:18s} {state}  {item.get('description', '')}")
    return 0
