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


def digit_attack_artifacts():
    """What Export writes for a real FGSM attack on the bundled digits model and digit scan."""
    from visualizer.core.artifacts import attack_artifacts
    from visualizer.core.attacks import AttackParams, drive
    from visualizer.core.images import load_image
    from visualizer.core.models.registry import LoadOptions, load_model
    from visualizer.core.runs import attack_run

    model = load_model("digits-standard", LoadOptions(device="cpu"))
    run = drive(attack_run(model, load_image(digit_sample()), AttackParams(method="fgsm", eps=0.1)), lambda e: None)
    return attack_artifacts(run)
