"""Helpers shared by test modules (conftest files are for fixtures; two of them exist, so
plain helpers live here to keep imports unambiguous)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sklearn_sample(name: str) -> Path:
    import sklearn.datasets

    return Path(sklearn.datasets.__file__).parent / "images" / name


def digit_sample() -> Path:
    """A bundled digit scan: the bundled digit models are the fastest real models here."""
    from visualizer.core.resources import sample_images

    return next(p for p in sample_images() if p.name.startswith("digit-"))


def shared_data(name: str) -> Path:
    """A real data set in the shared data folder beside the checkout (../shared/data/NAME:
    the standard MNIST and Fashion-MNIST idx files, see SOURCE.md there)."""
    return ROOT.parent / "shared" / "data" / name
