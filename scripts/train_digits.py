"""Train the bundled demo models ``digits-standard`` and ``digits-robust``.

Data: scikit-learn's handwritten digits (1,797 real 8x8 scans, values 0..16), split 80/20
stratified with a fixed seed. Pixels are v/16 in [0, 1], upsampled to the model input
size exactly as the app's preprocessing does to an 8x8 image (bilinear, antialias,
half-pixel centres), so the sample PNGs classify the same here and in the app.

The standard model is trained with cross-entropy; the robust one with L2 PGD adversarial
training (Madry et al. 2018), its adversarial examples made by the app's own attack engine.
Both are evaluated on the held-out split with clean accuracy and PGD-40 at the robust
model's training epsilon; weights, JSON sidecars, the model card and six sample PNGs are
written under resources/.

Run from the repository root:  python scripts/train_digits.py   (a few minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from visualizer.core.attacks import AttackParams, run_attack  # noqa: E402
from visualizer.core.labels import DIGITS  # noqa: E402
from visualizer.core.models import ClassifierModel, ModelInfo, Preprocessing  # noqa: E402
from visualizer.core.models.architectures.digits_cnn import build_digits_cnn  # noqa: E402

SEED = 0
SPLIT = {"test_size": 0.2, "random_state": 0, "stratify": True}
SAMPLE_CLASSES = (0, 2, 3, 5, 7, 9)
# Extra PGD-40 evaluations for the card, in multiples of the training eps (not part of the targets).
CURVE_FACTORS = (0.5, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class Recipe:
    input_size: int = 32
    width: int = 16
    hidden: int = 128
    batch_size: int = 64
    lr: float = 1e-3
    standard_epochs: int = 30
    robust_epochs: int = 40
    shift: int = 3              # random shift of up to this many model-input pixels
    eps: float = 2.0            # L2, whole perturbation at input size, [0, 1] units
    train_steps: int = 7
    warmup_epochs: int = 5      # eps ramps up linearly over these epochs
    eval_steps: int = 40


def split_indices(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    return train_test_split(idx, test_size=SPLIT["test_size"], random_state=SPLIT["random_state"],
                            stratify=labels if SPLIT["stratify"] else None)


def to_pixels(images8: np.ndarray, size: int) -> torch.Tensor:
    """N x 8 x 8 values 0..16 -> N x 1 x size x size in [0, 1], as the app resizes an 8x8 image."""
    x = torch.tensor(images8, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


def load_data(size: int):
    from sklearn.datasets import load_digits

    digits = load_digits()
    train_idx, test_idx = split_indices(digits.target)
    x = to_pixels(digits.images, size)
    y = torch.tensor(digits.target, dtype=torch.long)
    return x[train_idx], y[train_idx], x[test_idx], y[test_idx], test_idx, digits


def preprocessing(recipe: Recipe, mean: float, std: float) -> dict:
    s = recipe.input_size
    return {"input_size": s, "resize_size": s, "interpolation": "bilinear", "channels": 1,
            "mean": [mean], "std": [std]}


def random_shift(x: torch.Tensor, shift: int, gen: torch.Generator) -> torch.Tensor:
    """Shift each image by up to ``shift`` pixels; the background is 0, so pad with zeros."""
    if shift == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (shift,) * 4)
    offs = torch.randint(0, 2 * shift + 1, (n, 2), generator=gen)
    return torch.stack([padded[i, :, dy:dy + h, dx:dx + w] for i, (dy, dx) in enumerate(offs.tolist())])


def train(recipe: Recipe, robust: bool, x: torch.Tensor, y: torch.Tensor, mean: float, std: float):
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    net = build_digits_cnn(input_size=recipe.input_size, width=recipe.width, hidden=recipe.hidden)
    # The attack engine works in [0, 1] pixels; normalise inside, as the app's wrapper does.
    model = lambda pixels: net((pixels - mean) / std)  # noqa: E731
    epochs = recipe.robust_epochs if robust else recipe.standard_epochs
    steps_per_epoch = (len(x) + recipe.batch_size - 1) // recipe.batch_size
    opt = torch.optim.Adam(net.parameters(), lr=recipe.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=epochs * steps_per_epoch)
    started = time.perf_counter()
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(x), generator=gen)
        eps = recipe.eps * min(1.0, (epoch + 1) / max(1, recipe.warmup_epochs))
        total, correct, loss_sum = 0, 0, 0.0
        for b in range(steps_per_epoch):
            batch = order[b * recipe.batch_size:(b + 1) * recipe.batch_size]
            xb, yb = random_shift(x[batch], recipe.shift, gen), y[batch]
            if robust:
                params = AttackParams(method="pgd", norm="l2", eps=eps, steps=recipe.train_steps,
                                      random_start=True, seed=epoch * steps_per_epoch + b)
                xb = run_attack(model, xb, yb, params).adversarial
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += len(yb)
            correct += int((logits.argmax(1) == yb).sum())
            loss_sum += loss.item() * len(yb)
        what = f"eps {eps:.3f}  adv acc" if robust else "train acc"
        print(f"  epoch {epoch + 1:3d}/{epochs}  loss {loss_sum / total:.4f}  {what} {correct / total:.3f}", flush=True)
    return net.eval(), time.perf_counter() - started


def eval_attack(recipe: Recipe) -> AttackParams:
    return AttackParams(method="pgd", norm="l2", eps=recipe.eps, steps=recipe.eval_steps).resolved()


def evaluate(model, x: torch.Tensor, y: torch.Tensor, params: AttackParams) -> dict:
    with torch.no_grad():
        clean = float((model(x).argmax(1) == y).float().mean())
    adv = run_attack(model, x, y, params)
    return {"clean_accuracy": clean, "pgd_accuracy": 1.0 - float(adv.success.float().mean())}


def pgd_curve(model, x: torch.Tensor, y: torch.Tensor, recipe: Recipe) -> dict[str, float]:
    """PGD accuracy at a few budgets around the training eps: robustness fades, it is not absolute."""
    out = {}
    for factor in CURVE_FACTORS:
        params = AttackParams(method="pgd", norm="l2", eps=factor * recipe.eps, steps=recipe.eval_steps)
        out[f"{params.eps:g}"] = round(evaluate(model, x, y, params.resolved())["pgd_accuracy"], 4)
    return out


def wrap(net, pre: dict, name: str) -> ClassifierModel:
    p = Preprocessing(**{k: tuple(v) if isinstance(v, list) else v for k, v in pre.items()})
    return ClassifierModel(net, ModelInfo(name, "bundled", "digits-cnn", p, list(DIGITS)))


def load_shipped(name: str, folder: Path = ROOT / "resources" / "models") -> tuple[ClassifierModel, dict]:
    """A shipped digits model from its weights and sidecar (no registry needed)."""
    meta = json.loads((folder / f"{name}.json").read_text())
    net = build_digits_cnn(**meta["architecture_kwargs"])
    net.load_state_dict(load_file(str(folder / f"{name}.safetensors")))
    return wrap(net.eval(), meta["preprocessing"], name), meta


def write_samples(models, x_test, y_test, test_idx, digits, folder: Path) -> list[str]:
    """One correctly classified held-out digit per class in SAMPLE_CLASSES, as an 8x8 PNG."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("digit-*-test*.png"):
        old.unlink()
    with torch.no_grad():
        ok = torch.stack([m(x_test).argmax(1) == y_test for m in models]).all(0)
    names = []
    for label in SAMPLE_CLASSES:
        pos = next(i for i in range(len(y_test)) if int(y_test[i]) == label and ok[i])
        index = int(test_idx[pos])  # index into load_digits(), so anyone can find the original
        pixels = np.round(digits.images[index] / 16.0 * 255.0).astype(np.uint8)
        name = f"digit-{label}-test{index}.png"
        Image.fromarray(pixels, mode="L").save(folder / name)
        names.append(name)
    return names


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "resources", help="resources folder to write into")
    for field, value in asdict(Recipe()).items():
        ap.add_argument(f"--{field.replace('_', '-')}", type=type(value), default=value)
    args = ap.parse_args(argv)
    recipe = Recipe(**{f: getattr(args, f) for f in asdict(Recipe())})

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    x_train, y_train, x_test, y_test, test_idx, digits = load_data(recipe.input_size)
    # Normalisation from the training pixels, rounded so the sidecar stays readable.
    mean, std = round(float(x_train.mean()), 3), round(float(x_train.std()), 3)
    pre = preprocessing(recipe, mean, std)
    attack = eval_attack(recipe)
    kwargs = {"input_size": recipe.input_size, "width": recipe.width, "hidden": recipe.hidden}
    models_dir = args.out / "models"
    models_dir.mkdir(parents=True, exist_ok=True)

    results = {}
    for name, robust in (("digits-standard", False), ("digits-robust", True)):
        print(f"Training {name} ...", flush=True)
        net, seconds = train(recipe, robust, x_train, y_train, mean, std)
        model = wrap(net, pre, name)
        metrics = evaluate(model, x_test, y_test, attack)
        metrics["train_time_s"] = round(seconds, 1)
        metrics["curve"] = pgd_curve(model, x_test, y_test, recipe)
        print(f"  {name}: {metrics}", flush=True)
        results[name] = (model, metrics)
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(models_dir / f"{name}.safetensors"))

    for name, (model, metrics) in results.items():
        robust = name == "digits-robust"
        sidecar = {
            "architecture": "digits-cnn",
            "architecture_kwargs": kwargs,
            "preprocessing": pre,
            "labels": "digits",
            "description": (
                f"Small CNN on scikit-learn's 8x8 handwritten digits, upsampled to {recipe.input_size}x"
                f"{recipe.input_size}; "
                + (f"adversarially trained (L2 PGD, eps {recipe.eps})." if robust else "standard training.")
            ),
            "train_eps": recipe.eps if robust else None,
            "threat_model": "l2" if robust else None,
            "metrics": {
                "split": {**SPLIT, "test_images": len(y_test)},
                "clean_accuracy": round(metrics["clean_accuracy"], 4),
                "pgd_accuracy": round(metrics["pgd_accuracy"], 4),
                "pgd_attack": attack.to_dict(),
                "pgd_accuracy_by_eps": metrics["curve"],
                "train_time_s": metrics["train_time_s"],
            },
            "seed": SEED,
            "recipe": asdict(recipe),
            "card": "DIGITS_MODEL_CARD.md",
        }
        (models_dir / f"{name}.json").write_text(json.dumps(sidecar, indent=2) + "\n")

    samples = write_samples([m for m, _ in results.values()], x_test, y_test, test_idx, digits, args.out / "samples")
    write_card(models_dir / "DIGITS_MODEL_CARD.md", recipe, pre, attack, {n: m for n, (_, m) in results.items()},
               len(y_train), len(y_test), samples)
    print("Wrote", models_dir, "and", args.out / "samples")


def write_card(path: Path, recipe: Recipe, pre: dict, attack: AttackParams, metrics: dict,
               n_train: int, n_test: int, samples: list[str]) -> None:
    std_m, rob_m = metrics["digits-standard"], metrics["digits-robust"]
    s = recipe.input_size
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    card = f"""# Bundled digits models: `digits-standard` and `digits-robust`

Two small CNNs that differ only in how they were trained, shipped so the app can show
the difference between a standard and an adversarially robust classifier without a
download. Regenerate everything here with `python scripts/train_digits.py` (fixed seed
{SEED}; {std_m['train_time_s'] + rob_m['train_time_s']:.0f} s of training on 2 CPU threads).

## Data

scikit-learn's `load_digits()`: 1,797 real 8x8 scans of handwritten digits (values 0..16,
light ink on a dark background), a copy of the test set of the UCI ML hand-written digits
dataset (Alpaydin & Kaynak, 1998), written by 13 people. Each value counts the inked pixels
in a 4x4 block of a 32x32 bitmap.

Split: `train_test_split(test_size={SPLIT['test_size']}, random_state={SPLIT['random_state']}, stratify=labels)`:
{n_train} training images, {n_test} held-out images. Every number below is on the held-out images.

## Preprocessing

Pixel = v / 16 in [0, 1], upsampled from 8x8 to {s}x{s} with bilinear interpolation
(`align_corners=False`, antialias), which is what the app does to an 8x8 image (shorter
side to {s}, centre crop {s}). The network expects normalised input
(x - {pre['mean'][0]}) / {pre['std'][0]}; the app's model wrapper applies it, so attacks and
epsilons are in [0, 1] pixel units.

## Architecture

`digits-cnn` (`visualizer/core/models/architectures/digits_cnn.py`), kwargs
`input_size={s}, width={recipe.width}, hidden={recipe.hidden}`: conv3x3({recipe.width}) - conv3x3({recipe.width}) - maxpool -
conv3x3({2 * recipe.width}) - conv3x3({2 * recipe.width}) - maxpool - linear({recipe.hidden}) - linear(10), ReLU
activations, no batch norm.

## Training

Both: Adam, one-cycle learning rate up to {recipe.lr}, batch {recipe.batch_size}, random shifts of up to
{recipe.shift} pixels (at {s}x{s}), seed {SEED}, `torch.use_deterministic_algorithms(True)`.

- `digits-standard`: cross-entropy, {recipe.standard_epochs} epochs ({std_m['train_time_s']:.0f} s).
- `digits-robust`: PGD adversarial training (Madry et al. 2018), L2 threat model, eps = {recipe.eps}
  (the L2 norm of the whole {s}x{s} perturbation in [0, 1] units; a typical digit has L2 norm
  about 14 at this size, and the nearest digit of another class is typically about 5.5 away), {recipe.train_steps} steps of size
  2.5 * eps / {recipe.train_steps}, random start; eps ramped up linearly over the first {recipe.warmup_epochs} epochs;
  trained on the adversarial examples only, {recipe.robust_epochs} epochs ({rob_m['train_time_s']:.0f} s).
  The adversarial examples come from the app's own attack engine (`visualizer.core.attacks.run_attack`).

## Results (held-out split, {n_test} images)

PGD-40: untargeted L2 PGD, eps = {attack.eps}, {attack.steps} steps of size {attack.step_size:.4g}, no random start,
best iterate kept (`AttackParams(method="pgd", norm="l2", eps={attack.eps}, steps={attack.steps})`).

| model | clean accuracy | PGD-40 accuracy (L2, eps {attack.eps}) |
|---|---|---|
| digits-standard | {pct(std_m['clean_accuracy'])} | {pct(std_m['pgd_accuracy'])} |
| digits-robust | {pct(rob_m['clean_accuracy'])} | {pct(rob_m['pgd_accuracy'])} |

`tests/test_digits_models.py` recomputes these numbers from the shipped weights.

PGD-40 accuracy at other L2 budgets (same attack, step size 2.5 * eps / 40): robustness
fades as eps grows, it is not absolute.

| model | {' | '.join(f'eps {e}' for e in std_m['curve'])} |
|---|{'---|' * len(std_m['curve'])}
| digits-standard | {' | '.join(pct(v) for v in std_m['curve'].values())} |
| digits-robust | {' | '.join(pct(v) for v in rob_m['curve'].values())} |

As in Tsipras et al. (2018), "Robustness may be at odds with accuracy", the robust model
gives up some clean accuracy, its input gradients follow the strokes (the standard model's
look like noise), and large-epsilon targeted attacks on it draw the target digit (on the
standard model they add noise): see `docs/digits_effects.png`, made by
`python scripts/digits_effects_figure.py`.

Sample images (`resources/samples/`, held-out digits classified correctly by both models,
named by label and `load_digits()` index): {', '.join(samples)}.

## Limitations

- 8x8 scans from 13 writers: tiny, low-resolution and far easier than MNIST. Training and
  held-out images come from the same writers, so accuracy says little about other
  handwriting, and nothing about photos of digits.
- Robustness is measured with one attack (PGD-40, L2, no restarts); that is an upper
  bound on true robust accuracy, not a certificate. The robust model is not robust in
  L-inf or well beyond eps {recipe.eps:g}, and was never meant to be: both are teaching demos.
- {n_test} test images: one image is {100 / n_test:.2f} percentage points.

## Licence

The data are scikit-learn's bundled copy of the UCI ML hand-written digits dataset
("Optical Recognition of Handwritten Digits", Alpaydin, E. & Kaynak, C., 1998, UCI Machine
Learning Repository), which the repository distributes under CC BY 4.0: credit the
authors when reusing the data or the sample images. The weights were trained by this
project from scratch and are released under the project's licence.
"""
    path.write_text(card)


if __name__ == "__main__":
    main()
