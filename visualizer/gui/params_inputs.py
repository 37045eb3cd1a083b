"""The widgets of the run-parameters form (params_form.py): every field, checkbox and class
picker, the main rows and the collapsed "More options" rows, and which rows are shown."""

from __future__ import annotations

from visualizer.gui.class_picker import ERROR_STYLE, ClassPicker
from visualizer.gui.form_parts import MoreOptions, NumberField, form_labels, make_form
from visualizer.gui.params_choices import ATTACKS, EPS_TIPS, SALIENCY_METHODS, WARNING_STYLE, field_specs
from visualizer.gui.qt import QtWidgets


class ParamsInputs:
    """Mixed into ParamsForm (a QWidget): builds its inputs and lays them out."""

    def _build(self) -> None:
        self.attack = QtWidgets.QComboBox()
        for key, label, *_ in ATTACKS:
            self.attack.addItem(label, key)
        self.attack.setCurrentIndex(1)
        self.attack.setToolTip(
            "What to run. FGSM: one full-budget L-inf step. PGD: repeated gradient steps kept inside an "
            "L-inf or L2 ball. Spatial grid: every rotation x translation on a grid. Spatial worst-of-k: "
            "k random rotations and shifts per image. Saliency: which pixels the class score is sensitive to.")
        self.method = QtWidgets.QComboBox()
        for key, label in SALIENCY_METHODS:
            self.method.addItem(label, key)
        self.method.setToolTip("Vanilla: gradient of the class score. SmoothGrad: gradient averaged over noisy "
                               "copies of the image. Integrated Gradients: gradients averaged along the path "
                               "from a black image to this one.")

        f = self.fields = {}
        f["eps"] = NumberField(self._eps_text["linf"], tooltip=EPS_TIPS["linf"], readout=True)
        f["steps"] = NumberField("10", tooltip="Number of gradient steps (a whole number, at least 1).")
        f["step_size"] = NumberField(tooltip="How far each step moves, in the same units as epsilon (8/255 and "
                                             "0.5/255 work here too). Empty: 2.5 x epsilon / steps (Madry et al.).")
        f["restarts"] = NumberField("1", tooltip="Run the attack this many times from different random starts "
                                                 "and keep the strongest result (whole number, at least 1; "
                                                 "more than 1 needs random start to differ).")
        f["max_rotation"] = NumberField("30", "deg", "Rotations range over [-max, +max] degrees (0 to 180).")
        f["rotations"] = NumberField("31", tooltip="Evenly spaced angles in the rotation range (whole number).")
        f["max_translation"] = NumberField(unit="px", tooltip="Shifts range over [-max, +max] pixels of the "
                                           "model-input image, along x and y. Empty: 3/28 of the input side.")
        f["translations"] = NumberField("5", tooltip="Grid points per shift axis: the grid holds rotations x "
                                                     "translations x translations transforms.")
        f["k"] = NumberField("10", tooltip="Random rotation + shift draws per image; the worst one is kept.")
        f["sg_samples"] = NumberField("50", tooltip="Noisy copies of the image SmoothGrad averages over.")
        f["sg_sigma"] = NumberField("0.15", tooltip="Standard deviation of SmoothGrad's noise as a fraction of the "
                                                    "[0, 1] pixel range (0.15 = 15 % of black-to-white).")
        f["ig_steps"] = NumberField(tooltip="Integrated Gradients: trapezoid steps on the straight path from a black "
                                            "image to this one. Empty: adaptive, doubling from 32 until the "
                                            "completeness gap (how far the map's sum is from f(image) - f(black)) "
                                            "is below 5 %, at most 1024.")
        f["ig_steps"].edit.setPlaceholderText("adaptive")

        self.random_start = QtWidgets.QCheckBox("Random start")
        self.random_start.setToolTip("Start from a random point inside the epsilon ball instead of the clean "
                                     "image (needed for restarts to differ). L-inf: uniform in the cube. L2: "
                                     "uniform in the ball (as Foolbox), so starts lie near its surface.")
        self.early_stop = QtWidgets.QCheckBox("Stop early on success")
        self.early_stop.setToolTip("Stop as soon as the image is misclassified (or reaches the target) instead "
                                   "of running every step: faster, but not the strongest perturbation.")
        self.absolute = QtWidgets.QCheckBox("Absolute value")
        self.absolute.setToolTip("Show the gradient's magnitude |g| instead of its sign (red/blue).")
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Random seed for random starts, worst-of-k draws and SmoothGrad noise: "
                             "the same seed reproduces the same result.")
        self.targeted = QtWidgets.QCheckBox("Targeted attack")
        self.targeted.setToolTip("Push the prediction towards a chosen class instead of away from the "
                                 "reference class.")
        self.target_picker = ClassPicker("class the attack should reach")
        self.target_picker.setToolTip("The class a targeted attack aims for: type part of its name "
                                      "(e.g. 'gold') or its index.")
        self.label_picker = ClassPicker("model's prediction")
        self.label_picker.setToolTip("The class treated as correct: attacks push away from it, sweeps count "
                                     "errors against it, saliency explains it. Empty: the model's own "
                                     "prediction on the clean image.")

        self.warning = QtWidgets.QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.problem = QtWidgets.QLabel()   # errors spanning several fields
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(ERROR_STYLE)

        main = [("Run", self.attack), ("Method", self.method), ("Epsilon", f["eps"]), ("Steps", f["steps"]),
                ("Max rotation", f["max_rotation"]), ("Rotations", f["rotations"]),
                ("Max translation", f["max_translation"]), ("Translations", f["translations"]), ("Draws (k)", f["k"]),
                ("", self.absolute), ("Samples", f["sg_samples"]), ("Noise sigma", f["sg_sigma"]),
                ("IG steps", f["ig_steps"]), ("", self.targeted), ("Target", self.target_picker),
                ("Reference", self.label_picker)]
        more = [("Step size", f["step_size"]), ("", self.random_start), ("Restarts", f["restarts"]),
                ("", self.early_stop), ("Seed", self.seed)]
        self._form = make_form(main)
        self._more_form = make_form(more)
        self._form_of = {w: self._form for _, w in main} | {w: self._more_form for _, w in more}
        labels = form_labels(self._form) + form_labels(self._more_form)
        width = max(label.sizeHint().width() for label in labels)
        for label in labels:  # the field column must not jump when rows appear and disappear
            label.setMinimumWidth(width)
        self.more = MoreOptions(self._more_form, "Step size, random start, restarts, early stop and seed")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._form)
        layout.addWidget(self.more)
        layout.addWidget(self.warning)
        layout.addWidget(self.problem)
        layout.addStretch(1)

        self.attack.currentIndexChanged.connect(self._on_attack_changed)
        self.method.currentIndexChanged.connect(self._on_attack_changed)
        for field in f.values():
            field.edit.textChanged.connect(self._changed)
        for box in (self.random_start, self.early_stop, self.absolute, self.targeted):
            box.toggled.connect(self._changed)
        self.targeted.toggled.connect(self._update_visibility)
        self.seed.valueChanged.connect(self._changed)
        for picker in (self.target_picker, self.label_picker):
            picker.edit.textChanged.connect(self._changed)
        for picker, what in ((self.target_picker, "target"), (self.label_picker, "reference")):
            picker.cleared.connect(lambda index, what=what: self.classCleared.emit(
                f"The {what} class {index} was chosen among another model's classes: cleared. "
                f"Choose the {what} again for this model."))

        self._specs = field_specs(self._method_norm)

    def _set_row_visible(self, widget: QtWidgets.QWidget, visible: bool) -> None:
        self._form_of[widget].setRowVisible(widget, visible)

    def _update_more(self) -> None:
        """Rows of "More options" shown, and the values set there that its title lists."""
        form = self._more_form
        rows = [form.itemAt(r, QtWidgets.QFormLayout.ItemRole.FieldRole) for r in range(form.rowCount())]
        shown = {item.widget() for item in rows if item is not None and form.isRowVisible(item.widget())}
        step, restarts = (self.fields[n].text().strip() for n in ("step_size", "restarts"))
        values = {self.fields["step_size"]: f"step {step}" if step else "",
                  self.random_start: "random start" if self.random_start.isChecked() else "",
                  self.fields["restarts"]: f"{restarts} restarts" if restarts not in ("1", "") else "",
                  self.early_stop: "early stop" if self.early_stop.isChecked() else "",
                  self.seed: f"seed {self.seed.value()}" if self.seed.value() else ""}
        self.more.update_rows(bool(shown), [text for w, text in values.items() if w in shown and text],
                              invalid=any(name in self._errors for name in ("step_size", "restarts")))
