"""Small CNNs for 28x28 grayscale sets (MNIST, Fashion-MNIST), the networks ``visualizer
train`` builds for ``--arch mnist-cnn`` / ``mnist-cnn-wide``.

No batch norm and no dropout: the network is the same function in training and
evaluation mode, so an attack made during adversarial training is the attack made on the
finished model, and training is reproducible without any RNG beyond the data order.
Input: [0, 1] pixels as they are (no normalisation), the convention of Madry et al.'s
MNIST models and RobustBench.
"""

from __future__ import annotations

from torch import nn


class MnistCNN(nn.Module):
    """conv3x3(w) - conv3x3(w) - maxpool - conv3x3(2w) - conv3x3(2w) - maxpool - linear(hidden) - linear(classes),
    ReLU between. Input N x C x S x S (S divisible by 4), output N x num_classes logits."""

    def __init__(self, width: int = 32, hidden: int = 128, num_classes: int = 10, in_channels: int = 1,
                 input_size: int = 28):
        super().__init__()
        if input_size % 4:
            raise ValueError(f"input_size must be divisible by 4, got {input_size}")
        w = width
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, w, 3, padding=1), nn.ReLU(),
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


# name -> constructor keyword arguments (besides num_classes). 0.47M and 0.66M parameters:
# 1.9 MB and 2.6 MB as float32 safetensors, small enough to ship in the wheel.
VARIANTS = {
    "mnist-cnn": {"width": 32, "hidden": 128},
    "mnist-cnn-wide": {"width": 64, "hidden": 64},
}


def build_mnist_cnn(num_classes: int = 10, **kwargs) -> nn.Module:
    return MnistCNN(num_classes=num_classes, **kwargs)
