"""The small CNN behind the bundled ``digits-standard`` and ``digits-robust`` demo models,
and, at 28 px and wider, the ``mnist-cnn`` architectures ``visualizer train`` builds for
MNIST-like sets (the ``MNIST_VARIANTS`` below).

No batch norm and no dropout: adversarial training then needs no care about train/eval
statistics, the network behaves the same under attack as in training, and training draws
no random numbers beyond the data order and the attack's starts.
"""

from __future__ import annotations

from torch import nn


class DigitsCNN(nn.Module):
    """Two conv blocks (each two 3x3 convs and a 2x2 max-pool), then two linear layers.

    Input: N x 1 x S x S normalised pixels (S divisible by 4). Output: N x 10 logits.
    """

    def __init__(self, input_size: int = 32, width: int = 16, hidden: int = 128, num_classes: int = 10):
        super().__init__()
        if input_size % 4:
            raise ValueError(f"input_size must be divisible by 4, got {input_size}")
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        side = input_size // 4
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(2 * w * side * side, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def build_digits_cnn(**kwargs) -> nn.Module:
    """Keyword arguments: ``input_size``, ``width``, ``hidden``, ``num_classes`` (see DigitsCNN)."""
    return DigitsCNN(**kwargs)


# ``--arch`` name -> DigitsCNN arguments for 28x28 grayscale sets, fed [0, 1] pixels as
# they are (the convention of Madry et al.'s MNIST models and of RobustBench). 0.47M and
# 0.66M parameters: 1.9 MB and 2.6 MB as float32 safetensors, small enough for the wheel.
MNIST_VARIANTS = {
    "mnist-cnn": {"input_size": 28, "width": 32, "hidden": 128},
    "mnist-cnn-wide": {"input_size": 28, "width": 64, "hidden": 64},
}
