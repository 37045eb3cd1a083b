"""The Poison panel's settings: the data set, the attack (BadNets, or clean-label with the
robust model that hides the poisons' features), the trigger with a live preview, the
target class, the poison rates, the training recipe, the detector, and where runs go.
Trigger and rates are checked as you type by the core's own parsers; ``request()`` checks
everything and returns what ``sweep_steps`` takes, or raises one VisualizerError."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from visualizer.core.data.dataset import data_class_names
from visualizer.core.errors import ParameterError, VisualizerError
from visualizer.core.models.arch import resolve_arch
from visualizer.core.numbers import parse_numbers, parse_positive
from visualizer.core.poisoning import ATTACKS, PoisonConfig, apply_trigger, parse_trigger
from visualizer.core.poisoning.config import DEFAULT_RATES, resolve_target
from visualizer.gui.class_picker import ERROR_STYLE, INVALID_FIELD_STYLE, mark_invalid
from visualizer.gui.panels.checked_setup import CheckedSetup
from visualizer.gui.panels.poison_images import TriggerPreview
from visualizer.gui.panels.settings_page import (add_data_rows, checked_data_spec, keep_narrow, recipe_rows,
                                                 restore_widgets, runs_folder_row, spin_box, widgets_state)
from visualizer.gui.panels.train_form import _fresh_folder, default_data_folder, default_runs_folder
from visualizer.gui.qt import QtWidgets, Signal

ATTACK_TEXT = {"badnets": "BadNets (relabel triggered images)", "clean-label": "Clean-label (labels kept)"}
DEFAULT_TRIGGER = "patch:checker:4:br"


@dataclass(frozen=True)
class PoisonRequest:
    config: PoisonConfig         # out: a fresh subfolder of the runs folder
    robust: tuple | None         # clean-label: ("loaded", ModelEntry) or ("bundled", name)
    name: str                    # "badnets patch:checker:4:br -> 0"


def _error_label() -> QtWidgets.QLabel:
    label = QtWidgets.QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


class PoisonSetup(CheckedSetup):
    """Every setting of ``visualizer poison``, checked on every edit (``problem``): the
    trigger and the rates with their message beside them, the rest under the form."""

    dataChanged = Signal()       # the data set's kind or place changed (a new preview sample is due)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sample: np.ndarray | None = None          # C x H x W pixels in [0, 1]: the preview's image
        self._classes: dict[str, list[str]] = {}       # the data's class names by spec, read once
        form = QtWidgets.QFormLayout(self)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(0, 0, 0, 0)
        self.data_kind, self.data_path = add_data_rows(form, self, "The data set: its training split is poisoned, "
                                                       "its test split measures", default_data_folder())
        self.limit = spin_box(0, 10_000_000, 2000, "Poison and train on the first N training images (all: the "
                           "whole set; rates are fractions of these)", "all")
        form.addRow("Training images", self.limit)
        self.eval_limit = spin_box(0, 10_000_000, 1000, "Measure clean accuracy and ASR on the first N test images",
                                "all")
        form.addRow("Test images", self.eval_limit)

        self.attack = QtWidgets.QComboBox()
        for key in ATTACKS:
            self.attack.addItem(ATTACK_TEXT[key], key)
        self.attack.setToolTip("BadNets (Gu et al. 2017): the trigger on images of other classes, relabelled as "
                               "the target. Clean-label (Turner et al. 2018): target-class images keep their "
                               "labels, made hard to learn by PGD on a robust model, then triggered")
        form.addRow("Attack", self.attack)
        self.robust = QtWidgets.QComboBox()
        self.robust.setToolTip("Clean-label only: the adversarially trained model whose L∞ PGD perturbation "
                               "(eps 0.3, 20 steps) hides the poisons' own features; it must read the data's images")
        form.addRow("Robust model", self.robust)

        self.trigger = QtWidgets.QLineEdit(DEFAULT_TRIGGER)
        self.trigger.setStyleSheet(INVALID_FIELD_STYLE)
        self.trigger.setToolTip("patch:checker|square|FILE:SIZE[:br|bl|tr|tl|center|X,Y], blend:FILE|noise:ALPHA, "
                                "or an image file; stamped the same way on training poisons and test images")
        self.trigger_error = _error_label()
        self.preview = TriggerPreview()
        column = QtWidgets.QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(self.trigger)
        column.addWidget(self.trigger_error)
        column.addWidget(self.preview)
        form.addRow("Trigger", column)
        self.target = QtWidgets.QLineEdit("0")
        self.target.setStyleSheet(INVALID_FIELD_STYLE)
        self.target.setToolTip("The class the trigger should produce: its index or its name (one of the data's "
                               "classes)")
        form.addRow("Target class", self.target)
        self.rates = QtWidgets.QLineEdit(",".join(f"{r:g}" for r in DEFAULT_RATES))
        self.rates.setStyleSheet(INVALID_FIELD_STYLE)
        self.rates.setToolTip("Poison rates: fractions of the training images, comma-separated (0.01 = 1%); a "
                              "model is trained at each")
        self.rates_error = _error_label()
        column = QtWidgets.QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(self.rates)
        column.addWidget(self.rates_error)
        form.addRow("Rates", column)

        self.arch = QtWidgets.QComboBox()
        self.arch.setEditable(True)
        self.arch.addItems(["mnist-cnn", "mnist-cnn-wide"])
        self.arch.setToolTip("The network trained at every rate (mnist-cnn: the bundled models' architecture)")
        form.addRow("Architecture", self.arch)
        self.epochs, self.batch_size, self.lr, self.seed = recipe_rows(
            form, (1, "Passes over the training images at every rate"), 128, "0.001",
            "Seeds the weights, the data order and the choice of poisons")
        self.detect = QtWidgets.QCheckBox("Spectral signatures (Tran et al. 2018)")
        self.detect.setToolTip("At every rate > 0: flag suspect training images by their penultimate-layer "
                               "activations, report precision and recall, retrain without them and measure ASR")
        form.addRow("Detector", self.detect)
        self.directions = spin_box(1, 512, 10, "Score on the top K singular directions of each class's activations "
                                "(1: Tran et al.'s original; 10 caught the MNIST poisons, see bench/POISON.md)")
        form.addRow("Directions", self.directions)
        self.runs_folder = runs_folder_row(form, self, "Each sweep writes a new subfolder here: one model folder per "
                                           "rate", default_runs_folder())
        keep_narrow((self.data_kind, self.attack, self.robust, self.arch), (self.data_path, self.runs_folder))

        form.addRow(self.message)

        self.trigger.textChanged.connect(self._check_trigger)
        self.rates.textChanged.connect(self._check_rates)
        self.attack.currentIndexChanged.connect(self._attack_changed)
        self.detect.toggled.connect(self.directions.setEnabled)
        self.data_kind.currentIndexChanged.connect(lambda *_: self.dataChanged.emit())
        self.data_path.editingFinished.connect(self.dataChanged.emit)
        self.dataChanged.connect(lambda: self._classes.clear())      # a folder or file is read again when chosen again
        self.directions.setEnabled(False)
        self._attack_changed()
        self._check_rates()
        self._check_trigger()
        self.watch(*self._widgets().values(), self.robust)
        self._changed()

    # ------------------------------------------------------------------ checked as you type
    def set_sample(self, pixels: np.ndarray | None) -> None:
        """The preview's image (C x H x W in [0, 1]), e.g. the data set's first test image."""
        self.sample = None if pixels is None else np.asarray(pixels, dtype=np.float32)
        self._check_trigger()
        self._changed()             # the trigger may not fit the sample's size

    def trigger_problem(self) -> str | None:
        """The trigger spec's error message (checked against the sample's size), or None."""
        try:
            trigger = parse_trigger(self.trigger.text())
            if self.sample is not None:
                trigger.pattern_and_mask(tuple(self.sample.shape))
        except ParameterError as exc:
            return str(exc)
        return None

    def _check_trigger(self) -> None:
        problem = self.trigger_problem()
        mark_invalid(self.trigger, problem is not None)
        self.trigger_error.setText(problem or "")
        self.trigger_error.setVisible(problem is not None)
        if problem is not None or self.sample is None:
            self.preview.set_images(None, None, "no sample image yet" if problem is None else "")
            return
        trigger = parse_trigger(self.trigger.text())
        stamped = apply_trigger(torch.from_numpy(self.sample)[None], trigger)[0].numpy()
        self.preview.set_images(self.sample, stamped, trigger.describe())

    def rates_problem(self) -> str | None:
        try:
            self._config_rates()
        except ParameterError as exc:
            return str(exc)
        return None

    def _config_rates(self) -> tuple[float, ...]:
        rates = parse_numbers(self.rates.text(), "Rates", example="0,0.01,0.05")
        # the core's own rules (each in [0, 1), no rate twice), by making a config with them
        return PoisonConfig(data="", attack="badnets", trigger=parse_trigger(DEFAULT_TRIGGER), target=0, arch="",
                            out="", rates=rates).rates

    def _check_rates(self) -> None:
        problem = self.rates_problem()
        mark_invalid(self.rates, problem is not None)
        self.rates_error.setText((problem or "").replace("--rates", "The rates"))
        self.rates_error.setVisible(problem is not None)

    def check(self) -> None:
        try:
            self.request(fresh_folder=False)
        finally:
            mark_invalid(self.target, self.target_problem() is not None)

    def shown_elsewhere(self, problem: str) -> bool:
        return problem in (self.trigger_problem(), self.rates_problem())

    def target_problem(self) -> str | None:
        """The target class's error message (a class the data does not have), or None."""
        try:
            self._target_index(self.data_spec())
        except ParameterError as exc:
            return str(exc)
        except VisualizerError:
            return None         # the data's own problem, said by the data rows' check
        return None

    def _target_index(self, data: str) -> int:
        if data not in self._classes:
            self._classes[data] = data_class_names(data)
        return resolve_target(self.target.text(), data, "Target class", self._classes[data])

    def _attack_changed(self) -> None:
        self.robust.setEnabled(self.attack.currentData() == "clean-label")

    def set_robust_choices(self, loaded: list, bundled: list[str]) -> None:
        """Loaded models (ModelEntry) first, then bundled robust models by name; the choice
        is kept where it is still offered."""
        current = self.robust.currentText()
        self.robust.clear()
        for entry in loaded:
            self.robust.addItem(f"loaded: {entry.title}", ("loaded", entry))
        for name in bundled:
            self.robust.addItem(f"bundled: {name}", ("bundled", name))
        if self.robust.findText(current) >= 0:
            self.robust.setCurrentIndex(self.robust.findText(current))

    # ------------------------------------------------------------------ remembered settings
    def _widgets(self) -> dict:
        return {"data_kind": self.data_kind, "data_path": self.data_path, "limit": self.limit,
                "eval_limit": self.eval_limit, "attack": self.attack, "trigger": self.trigger, "target": self.target,
                "rates": self.rates, "arch": self.arch, "epochs": self.epochs, "batch_size": self.batch_size,
                "lr": self.lr, "seed": self.seed, "detect": self.detect, "directions": self.directions,
                "runs_folder": self.runs_folder}

    def state(self) -> dict:
        """Every setting as JSON values (combo boxes by their key), plus the robust model's name."""
        return widgets_state(self._widgets()) | {"robust": self.robust.currentText()}

    def restore_state(self, state: dict) -> None:
        """Take back ``state()``; unknown keys and values that no longer fit are skipped."""
        if not isinstance(state, dict):
            return
        restore_widgets(self._widgets(), state)
        if isinstance(state.get("robust"), str) and self.robust.findText(state["robust"]) >= 0:
            self.robust.setCurrentIndex(self.robust.findText(state["robust"]))
        self.dataChanged.emit()

    # ------------------------------------------------------------------ the request
    def data_spec(self) -> str:
        """``kind:PATH``; raises DataError when the path is missing."""
        return checked_data_spec(self.data_kind, self.data_path)

    def request(self, fresh_folder: bool = True) -> PoisonRequest:
        """The sweep to run, checked; raises DataError or ParameterError with one clear message.
        ``fresh_folder``: pick the sweep's new subfolder (else ``out`` is the runs folder)."""
        data = self.data_spec()
        problem = self.trigger_problem()
        if problem:
            raise ParameterError(problem)
        trigger = parse_trigger(self.trigger.text())
        rates = self._config_rates()
        target = self._target_index(data)       # a class the data has: refused here, not after Run
        arch = self.arch.currentText().strip()
        if ":" not in arch:
            resolve_arch(arch)
        attack = self.attack.currentData()
        robust = self.robust.currentData() if attack == "clean-label" else None
        if attack == "clean-label" and robust is None:
            raise ParameterError("Clean-label poisoning needs a robust model: add an adversarially trained model "
                                 "of this data (Models > Add model, or train one in the Train tab).")
        runs = self.runs_folder.text().strip()
        if not runs:
            raise ParameterError("Choose a runs folder: each sweep writes a new subfolder there.")
        name = f"{attack} {trigger.spec()} \u2192 {self.target.text().strip()}"
        out = _fresh_folder(Path(runs).expanduser(), f"poison {attack}") if fresh_folder else Path(runs)
        robust_spec = None if robust is None else (robust[1].spec if robust[0] == "loaded" else robust[1])
        config = PoisonConfig(data=data, attack=attack, trigger=trigger, target=target, arch=arch, out=str(out),
                              rates=rates, epochs=self.epochs.value(), seed=self.seed.value(),
                              limit=self.limit.value() or None, eval_limit=self.eval_limit.value() or None,
                              batch_size=self.batch_size.value(),
                              lr=parse_positive(self.lr.text().strip(), "The learning rate"),
                              detect=self.detect.isChecked(), detect_directions=self.directions.value(),
                              robust_model=robust_spec)
        return PoisonRequest(config, robust, name)
