"""The Train tab's settings: data, architecture, standard or adversarial training, the threat
model (used for training and for the robust accuracy watched after each epoch), epochs,
seed and where runs are written. ``request()`` checks them all and returns what the
trainer takes, or raises a VisualizerError with one clear message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from visualizer.core.attacks.params import AttackParams
from visualizer.core.errors import ParameterError
from visualizer.core.models.arch import resolve_arch
from visualizer.core.models.architectures import EXAMPLE_NAMES
from visualizer.core.numbers import parse_number, parse_positive
from visualizer.core.training import EpochWatch, TrainConfig, parse_adversarial
from visualizer.core.training.evaluate import WATCH_STEPS
from visualizer.gui.panels.checked_setup import CheckedSetup
from visualizer.gui.panels.settings_page import (add_data_rows, checked_data_spec, keep_narrow, recipe_rows,
                                                 restore_widgets, runs_folder_row, spin_box, widgets_state)
from visualizer.gui.qt import QtCore, QtWidgets

RECIPES = (("none", "Standard"), ("fgsm-rs", "FGSM-RS (Wong et al. 2020)"), ("pgd", "PGD (Madry et al. 2018)"))


def default_data_folder() -> Path | None:
    """The repository's ../shared/data/mnist, when the app runs from a checkout beside it."""
    candidate = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "mnist"
    return candidate if candidate.is_dir() else None


def default_runs_folder() -> Path:
    location = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(location or Path.home() / ".visualizer") / "training-runs"


@dataclass(frozen=True)
class TrainRequest:
    config: TrainConfig          # out: a fresh subfolder of the runs folder
    watch: EpochWatch
    name: str                    # the run's name on the plot, e.g. "PGD-7 L∞ 0.3"


class TrainForm(CheckedSetup):
    """Every setting of ``visualizer train``, checked on every edit (``problem``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        form = QtWidgets.QFormLayout(self)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(0, 0, 0, 0)
        self.data_kind, self.data_path = add_data_rows(form, self, "What kind of data set; read with the project's "
                                                       "data-set reader", default_data_folder())
        self.limit = spin_box(0, 10_000_000, 2000, "Train on the first N training images (all: the whole set)", "all")
        form.addRow("Training images", self.limit)
        self.arch = QtWidgets.QComboBox()
        self.arch.setEditable(True)
        self.arch.addItems(["mnist-cnn", "mnist-cnn-wide", *[n for n in EXAMPLE_NAMES if not n.startswith("mnist")]])
        self.arch.setToolTip("The network: mnist-cnn(-wide) for 28x28 grayscale; also wrn-DEPTH-WIDTH, "
                             "preact-resnet18, torchvision:NAME, timm:NAME")
        form.addRow("Architecture", self.arch)

        self.recipe = QtWidgets.QComboBox()
        for key, text in RECIPES:
            self.recipe.addItem(text, key)
        self.recipe.setToolTip("Standard: clean images. Adversarial: each batch is attacked first and the weights "
                               "learn from the attacked batch (the project's own PGD loop)")
        form.addRow("Training", self.recipe)
        self.norm = QtWidgets.QComboBox()
        self.norm.addItem("L∞", "linf")
        self.norm.addItem("L2", "l2")
        self.norm.setToolTip("Threat model of adversarial training and of the robust accuracy watched each epoch")
        form.addRow("Norm", self.norm)
        self.eps = QtWidgets.QLineEdit("0.2")
        self.eps.setToolTip("Attack budget in [0, 1] pixel units (fractions like 8/255 accepted); used for "
                            "training and for the robust accuracy after each epoch")
        form.addRow("Epsilon", self.eps)
        self.steps = spin_box(1, 1000, 7, "PGD steps per training batch (step size 2.5 eps / steps)")
        form.addRow("PGD steps", self.steps)
        self.epochs, self.batch_size, self.lr, self.seed = recipe_rows(
            form, (3, "Passes over the training images"), 64, "0.003",
            "Seeds the initial weights, the order and the random starts")
        self.held_out = spin_box(1, 100_000, 200, f"Clean and robust (PGD-{WATCH_STEPS}) accuracy after each epoch "
                              "on the first N held-out images")
        form.addRow("Held-out images", self.held_out)
        self.runs_folder = runs_folder_row(form, self, "Each run writes a new subfolder here: weights, model card, "
                                           "history, checkpoint", default_runs_folder())
        keep_narrow((self.data_kind, self.arch, self.recipe), (self.data_path, self.runs_folder))
        form.addRow(self.message)
        self.recipe.currentIndexChanged.connect(self._recipe_changed)
        self._recipe_changed()
        self.watch(*self._widgets().values())
        self._changed()

    # ------------------------------------------------------------------ remembered settings
    def _widgets(self) -> dict:
        return {"data_kind": self.data_kind, "data_path": self.data_path, "limit": self.limit, "arch": self.arch,
                "recipe": self.recipe, "norm": self.norm, "eps": self.eps, "steps": self.steps,
                "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "seed": self.seed,
                "held_out": self.held_out, "runs_folder": self.runs_folder}

    def state(self) -> dict:
        """Every setting as JSON values (combo boxes by their key, not their text)."""
        return widgets_state(self._widgets())

    def restore_state(self, state: dict) -> None:
        """Take back ``state()``; unknown keys and values that no longer fit are skipped."""
        restore_widgets(self._widgets(), state)

    def _recipe_changed(self) -> None:
        method = self.recipe.currentData()
        self.steps.setEnabled(method == "pgd")
        if method == "fgsm-rs":
            self.norm.setCurrentIndex(self.norm.findData("linf"))
        self.norm.model().item(self.norm.findData("l2")).setEnabled(method != "fgsm-rs")

    # ------------------------------------------------------------------ the request
    def data_spec(self) -> str:
        """``kind:PATH``; raises DataError when the path is missing."""
        return checked_data_spec(self.data_kind, self.data_path)

    def recipe_spec(self) -> str:
        method = self.recipe.currentData()
        if method == "none":
            return "none"
        eps = self.eps.text().strip()
        if method == "fgsm-rs":
            return f"fgsm-rs:linf:{eps}"
        return f"pgd:{self.norm.currentData()}:{eps}:{self.steps.value()}"

    def check(self) -> None:
        self.request(fresh_folder=False)

    def request(self, fresh_folder: bool = True) -> TrainRequest:
        """What to train, checked; raises DataError or ParameterError with one clear message.
        ``fresh_folder``: pick the run's new subfolder (else ``out`` is the runs folder)."""
        data = self.data_spec()
        eps = parse_number(self.eps.text().strip(), "Epsilon")
        watch = EpochWatch(AttackParams(method="pgd", norm=self.norm.currentData(), eps=eps, steps=WATCH_STEPS),
                           images=self.held_out.value())      # the attack checks eps (> 0, L∞ at most 1)
        recipe = parse_adversarial(self.recipe_spec())
        arch = self.arch.currentText().strip()
        if ":" not in arch:         # the built-in names resolve at once; hub names are checked by the trainer
            resolve_arch(arch)
        runs = self.runs_folder.text().strip()
        if not runs:
            raise ParameterError("Choose a runs folder: each run writes a new subfolder there.")
        name = _run_name(recipe.method, recipe.steps, self.norm.currentText(), eps)
        out = _fresh_folder(Path(runs).expanduser(), name) if fresh_folder else Path(runs)
        config = TrainConfig(data=data, arch=arch, out=str(out), adversarial=recipe,
                             epochs=self.epochs.value(), seed=self.seed.value(), limit=self.limit.value() or None,
                             eval_limit=self.held_out.value(), eval_attack="none", batch_size=self.batch_size.value(),
                             lr=parse_positive(self.lr.text().strip(), "The learning rate"))
        return TrainRequest(config, watch, name)


def _run_name(method: str, steps: int, norm: str, eps: float) -> str:
    if method == "none":
        return "standard"
    return f"{'FGSM-RS' if method == 'fgsm-rs' else f'PGD-{steps}'} {norm} {eps:.3g}"


def _fresh_folder(parent: Path, name: str) -> Path:
    """parent/NN-name with the first NN not taken: runs never overwrite each other."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", name.replace("∞", "inf")).strip("-").lower()
    taken = {p.name for p in parent.iterdir()} if parent.is_dir() else set()
    n = 1
    while any(t.startswith(f"{n:02d}-") for t in taken):
        n += 1
    return parent / f"{n:02d}-{slug}"
