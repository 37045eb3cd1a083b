"""Class names of a checkpoint loaded without --labels: the trainer's labels.txt beside the
weights is used, and a grayscale 10-class network is not taken for a CIFAR-10 one (an MNIST
model loaded as ckpt: used to say "cat -> dog" about digits)."""

import shutil
from pathlib import Path

from visualizer.core.models.options import LoadOptions
from visualizer.core.models.registry import load_model

BUNDLED = Path(__file__).resolve().parents[1] / "resources" / "models"


def _load(path, **kw):
    return load_model(f"ckpt:{path}", LoadOptions(arch="mnist-cnn", device="cpu", **kw))


def test_grayscale_ten_class_checkpoint_gets_numbered_classes_not_cifar(tmp_path):
    weights = shutil.copy(BUNDLED / "fashion-standard.safetensors", tmp_path / "model.safetensors")
    names = _load(weights).info.class_names
    assert names == [f"class {i}" for i in range(10)] and "airplane" not in names


def test_the_trainers_labels_file_beside_the_weights_names_the_classes(tmp_path):
    weights = shutil.copy(BUNDLED / "fashion-standard.safetensors", tmp_path / "model.safetensors")
    garments = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                "Ankle boot"]
    (tmp_path / "labels.txt").write_text("\n".join(garments) + "\n")
    model = _load(weights)
    assert model.info.class_names == garments
    assert any("labels.txt" in note for note in model.info.notes)
    other = tmp_path / "digits.txt"
    other.write_text("\n".join(str(i) for i in range(10)) + "\n")
    assert _load(weights, labels=str(other)).info.class_names == [str(i) for i in range(10)]   # --labels wins


def test_the_projects_own_architecture_is_not_said_to_have_pretrained_weights(tmp_path):
    """The note a trained mnist-cnn loaded back got (the Train tab shows it in the status bar)
    spoke of "mnist-cnn's pretrained weights", which do not exist."""
    weights = shutil.copy(BUNDLED / "fashion-standard.safetensors", tmp_path / "model.safetensors")
    model = _load(weights)
    assert not any("pretrained" in note for note in model.info.notes)
    assert any("mnist-cnn, this project's own architecture, takes [0, 1] pixels" in n for n in model.info.notes)
    assert model.info.preprocessing.mean == (0.0,) and model.info.preprocessing.std == (1.0,)
