"""A tiny real MNIST classifier for the evaluation tests, trained in a few seconds on the
real MNIST files in ../shared/data/mnist (no bundled model reads 28x28 MNIST; the bundled
digits models are trained on scikit-learn's 8x8 digits and get about 35-50% here)."""

from __future__ import annotations

import contextlib
import functools
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
if not MNIST_DIR.is_dir():   # a worktree beside main: ../shared is one level further up
    MNIST_DIR = Path("/work/shared/data/mnist")
MNIST_SPEC = f"mnist:{MNIST_DIR}"
# The adversarially trained tiny model the evaluation tests share: ~90% clean; under L-inf
# attacks of 0.15 about 68% (APGD), of 0.2 about 8% (APGD) against 63% (FGSM).
ROBUST_EPS = 0.2


@contextlib.contextmanager
def one_thread():
    """Tiny models run fastest on one thread; two threads on a loaded 2-core machine spend
    most of their time waiting for each other (measured: 10-50x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def tiny_mnist_net() -> nn.Module:
    """Two strided 3x3 convolutions and a linear layer: 1 x 28 x 28 -> 10 logits."""
    return nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


@functools.lru_cache(maxsize=None)
def train_tiny_mnist(examples: int = 8000, epochs: int = 2, seed: int = 0, robust_eps: float | None = None) -> nn.Module:
    """About 89% test accuracy after ~3 s on one CPU thread; trained once per test session
    (callers share the network: do not change it). ``robust_eps``: L-inf adversarial
    training with FGSM from a random start (Wong et al. 2020), about twice the time: a model
    on which attacks have to work, so their differences show."""
    from visualizer.core.data import load_dataset

    data = load_dataset(MNIST_SPEC, "train", limit=examples)
    x, y = data.batch(slice(0, len(data)))
    torch.manual_seed(seed)
    net = tiny_mnist_net()
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=order)
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            inputs = x[idx]
            if robust_eps is not None:
                inputs = _fgsm_random_start(net, inputs, y[idx], robust_eps)
            loss = F.cross_entropy(net(inputs), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def _fgsm_random_start(net, x, y, eps):
    delta = (torch.rand_like(x) * 2 - 1) * eps
    delta.requires_grad_(True)
    grad, = torch.autograd.grad(F.cross_entropy(net((x + delta).clamp(0, 1)), y), delta)
    delta = (delta + 1.25 * eps * grad.sign()).clamp(-eps, eps)
    return (x + delta).clamp(0, 1).detach()


def as_classifier(net: nn.Module, model_id: str = "tiny-mnist"):
    """The net as the engine's ClassifierModel: 28x28 grayscale pixels in [0, 1]."""
    from visualizer.core.data import MNIST_CLASSES
    from visualizer.core.models.wrapper import ClassifierModel, ModelInfo, Preprocessing

    pre = Preprocessing(input_size=28, resize_size=28, channels=1, mean=(0.0,), std=(1.0,))
    return ClassifierModel(net, ModelInfo(model_id, "checkpoint", "tiny-mnist-cnn", pre, list(MNIST_CLASSES)))


def save_torchscript(net: nn.Module, path: Path) -> Path:
    """A TorchScript archive the CLI loads with ``--model torchscript:PATH --input-size 28 --mean 0 --std 1``."""
    with warnings.catch_warnings():      # torch >= 2.10 calls TorchScript deprecated; users still bring such files
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.script(net).save(str(path))
    return path
