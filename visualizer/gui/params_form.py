"""The run-parameters panel: which attack, sweep or saliency method to run, and its settings.

Every field is checked as the user types by building the core's own parameter objects
(AttackParams, SpatialParams, SaliencyParams), so the rules and their messages live in one
place. An invalid field gets a red border and the core's message under it; the panel then
reports itself invalid so the window can disable its Run buttons. Legal but unusual choices
(AttackParams.warnings) are shown in amber and do not block anything.

The main fields of each choice are always in view; the rest (step size, random start,
restarts, early stop, seed) sit in a collapsed "More options" section whose title lists the
ones set away from their defaults, and which opens by itself when one of them is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from visualizer.core.attacks.class_checks import check_attack_classes
from visualizer.core.attacks.params import NORMS, AttackParams
from visualizer.core.attacks.spatial import SpatialParams, default_max_translation
from visualizer.core.errors import ParameterError
from visualizer.core.formatting import num, over_255
from visualizer.core.numbers import parse_number, parse_whole
from visualizer.core.saliency import SaliencyParams
from visualizer.gui.class_picker import ERROR_STYLE, ClassPicker, mark_invalid
from visualizer.gui.form_parts import MoreOptions, NumberField, form_labels, make_form
from visualizer.gui.qt import Qt, QtWidgets, Signal

WARNING_STYLE = "color: #9a6700; background: #fff8c5; border-radius: 3px; padding: 3px;"
SMALL_SIDE = 64            # inputs up to this many pixels count as "small" (CIFAR, digits)

# key, label, kind, method, norm
ATTACKS = (
    ("fgsm", "FGSM", "attack", "fgsm", "linf"),
    ("pgd-linf", "PGD L-inf", "attack", "pgd", "linf"),
    ("pgd-l2", "PGD L2", "attack", "pgd", "l2"),
    ("spatial-grid", "Spatial grid", "sweep", "grid", None),
    ("spatial-random", "Spatial worst-of-k", "sweep", "random", None),
    ("saliency", "Saliency", "saliency", None, None),
)
_BY_KEY = {a[0]: a for a in ATTACKS}
SALIENCY_METHODS = (("vanilla", "Vanilla gradient"), ("smoothgrad", "SmoothGrad"), ("ig", "Integrated Gradients"))

EPS_TIPS = {
    "linf": "Largest change allowed for any single pixel value, in [0, 1] units (1 = the whole "
            "black-to-white range). Fractions work: 8/255 means 8 of the 255 grey levels; 0.5/255, 0.03 and "
            "1e-2 too.",
    "l2": "Largest L2 norm of the whole perturbation (all channels and pixels of the model-input "
          "crop together), in [0, 1] pixel units. Grows with image size: about 1 for 224 px, 0.5-2 for 32 px.",
}
# Both norms: what is shown and saved is the 8-bit image inside the budget (core/attacks/quantize.py).
SAVED_TIP = (" The adversarial image shown and saved is 8-bit (whole grey levels) and inside this budget; "
             "below 1/255 no 8-bit change fits, so it equals the clean image.")
EPS_TIPS = {norm: tip + SAVED_TIP for norm, tip in EPS_TIPS.items()}


def default_eps(norm: str, side: int) -> str:
    """Common budgets from the literature: small images get larger ones."""
    small = side <= SMALL_SIDE
    if norm == "linf":
        return "8/255" if small else "4/255"
    return "2.0" if small else "1.0"


@dataclass
class _Spec:
    what: str                        # name used in messages
    integer: bool
    optional: bool                   # empty text -> None (core default)
    check: Callable[[float], object]  # builds a core object: raises ParameterError if illegal


class ParamsForm(QtWidgets.QWidget):
    paramsChanged = Signal()
    validityChanged = Signal(bool)
    classCleared = Signal(str)         # why a remembered target or reference class was dropped

    def __init__(self, parent=None):
        super().__init__(parent)
        self._side = 224
        self._eps_text = {n: default_eps(n, self._side) for n in NORMS}
        self._norm = "linf"             # whose text the epsilon field shows
        self._last = {"attack": "pgd-linf", "sweep": "spatial-grid"}
        self._quiet = False
        self._valid = True
        self._errors: dict[str, str] = {}
        self._warnings: list[str] = []
        self._prediction: int | None = None   # the selected model's clean top-1 (set_prediction)
        self._build()
        self._on_attack_changed()

    # -- construction -------------------------------------------------------------------------
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

        self._specs = {
            "eps": _Spec("Epsilon", False, False, lambda v: AttackParams(
                method=self._method_norm()[0], norm=self._method_norm()[1], eps=v)),
            "steps": _Spec("Steps", True, False, lambda v: AttackParams(steps=v)),
            "step_size": _Spec("Step size", False, True, lambda v: AttackParams(step_size=v)),
            # Partner values that pass the cross-field rules: those are checked on the whole object.
            "restarts": _Spec("Restarts", True, False, lambda v: AttackParams(restarts=v, random_start=True)),
            "max_rotation": _Spec("Maximum rotation", False, False,
                                  lambda v: SpatialParams(max_rotation=v, rotations=1)),
            "rotations": _Spec("Rotations", True, False, lambda v: SpatialParams(rotations=v)),
            "max_translation": _Spec("Maximum shift", False, True,
                                     lambda v: SpatialParams(max_translation=v, translations=1)),
            "translations": _Spec("Shifts", True, False, lambda v: SpatialParams(translations=v)),
            "k": _Spec("k", True, False, lambda v: SpatialParams(k=v)),
            "sg_samples": _Spec("Samples", True, False, lambda v: SaliencyParams(smoothgrad_samples=v)),
            "sg_sigma": _Spec("Noise sigma", False, False, lambda v: SaliencyParams(smoothgrad_sigma=v)),
            "ig_steps": _Spec("IG steps", True, True, lambda v: SaliencyParams(ig_steps=v)),
        }

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

    # -- what is shown for which choice ---------------------------------------------------------
    def _key(self) -> str:
        return self.attack.currentData()

    def _method_norm(self) -> tuple[str, str]:
        """Method and norm of the current attack, or of the last one chosen."""
        key = self._key() if self.current_kind() == "attack" else self._last["attack"]
        return _BY_KEY[key][3], _BY_KEY[key][4]

    def _relevant(self) -> list[str]:
        key, method = self._key(), self.method.currentData()
        return {"fgsm": ["eps"], "pgd-linf": ["eps", "steps", "step_size", "restarts"],
                "pgd-l2": ["eps", "steps", "step_size", "restarts"],
                "spatial-grid": ["max_rotation", "rotations", "max_translation", "translations"],
                "spatial-random": ["max_rotation", "max_translation", "k"],
                "saliency": {"smoothgrad": ["sg_samples", "sg_sigma"], "ig": ["ig_steps"]}.get(method, [])}[key]

    def _update_visibility(self) -> None:
        key, kind = self._key(), self.current_kind()
        relevant = set(self._relevant())
        for name, field in self.fields.items():
            self._set_row_visible(field, name in relevant)
        pgd = key in ("pgd-linf", "pgd-l2")
        noisy = kind == "saliency" and self.method.currentData() == "smoothgrad"
        shown = {self.method: kind == "saliency", self.random_start: pgd, self.early_stop: pgd,
                 self.absolute: kind == "saliency", self.targeted: kind == "attack",
                 # the target only when it is asked for: one row less for everything else
                 self.target_picker: kind == "attack" and self.targeted.isChecked(),
                 self.seed: pgd or key == "spatial-random" or noisy}
        for widget, visible in shown.items():
            self._set_row_visible(widget, visible)

    def _on_attack_changed(self, *_) -> None:
        kind = self.current_kind()
        if kind in self._last:
            self._last[kind] = self._key()
        norm = self._method_norm()[1]
        if norm != self._norm:  # each norm keeps its own budget: 8/255 means nothing in L2
            self._eps_text[self._norm] = self.fields["eps"].text()
            self._norm = norm
            self._set_quietly(self.fields["eps"].edit, self._eps_text[norm])
        self.fields["eps"].setToolTip(EPS_TIPS[norm])
        self._update_visibility()
        self._changed()

    # -- validation ---------------------------------------------------------------------------
    def _value(self, name: str):
        """The field's number, checked by the core; ParameterError with the core's message."""
        spec, text = self._specs[name], self.fields[name].text().strip()
        if not text and spec.optional:
            return None
        value = (parse_whole if spec.integer else parse_number)(text, spec.what)
        spec.check(value)
        return value

    def _changed(self, *_) -> None:
        if self._quiet:
            return
        self._validate()
        self.paramsChanged.emit()

    def _validate(self) -> None:
        errors: dict[str, str] = {}
        for name, field in self.fields.items():
            try:
                self._value(name)
                field.set_error("")
            except ParameterError as exc:
                errors[name] = str(exc)
                field.set_error(str(exc))
        relevant = {k: v for k, v in errors.items() if k in self._relevant()}
        kind = self.current_kind()
        self._update_readouts()
        warnings, problem = [], ""
        if not relevant:   # all fields legal: check the whole object (rules spanning fields, warnings)
            try:
                params = {"attack": self.attack_params, "sweep": self.spatial_params,
                          "saliency": self.saliency_params}[kind]()
                warnings = params.warnings() if kind == "attack" else []
            except ParameterError as exc:
                problem = relevant["form"] = str(exc)
        self.target_picker.setEnabled(self.targeted.isChecked())
        if kind == "attack" and self.targeted.isChecked():
            if not self.target_picker.is_valid():
                relevant["target"] = self.target_picker.error()
            elif self.target_picker.selected_index() is None:
                relevant["target"] = "Choose the class a targeted attack should reach."
        if not self.label_picker.is_valid():
            relevant["label"] = self.label_picker.error()
        class_problem = False
        if kind == "attack" and not relevant:
            try:   # the core's own rule: a target equal to the reference or the prediction, ...
                warnings = warnings + self._class_warnings()
            except ParameterError as exc:
                problem = relevant["target"] = str(exc)
                class_problem = True
        if self.target_picker.is_valid():   # its own errors keep their own border
            mark_invalid(self.target_picker.edit, class_problem)
        self._errors, self._warnings = relevant, warnings
        self.warning.setText("\n".join(warnings))
        self.warning.setVisible(bool(warnings))
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self._update_more()
        valid = not relevant
        if valid != self._valid:
            self._valid = valid
            self.validityChanged.emit(valid)

    def _update_readouts(self) -> None:
        eps = self._try("eps")
        norm = self._method_norm()[1]
        readout = ""
        if eps is not None:   # every part between '=' parses back (core/numbers.py): a copied value works
            readout = f"= {num(eps)} = {over_255(eps)}" if norm == "linf" else f"= {num(eps)}"
        self.fields["eps"].readout.setText(readout or " ")   # always a line: the rows below must not jump
        steps = self._try("steps")
        hint = "empty = 2.5 x eps / steps"
        if eps is not None and steps is not None:
            step = AttackParams(norm=norm, eps=eps, steps=steps).resolved().step_size
            hint = f"default {num(step)}" + (f" = {over_255(step)}" if norm == "linf" else "")
        self.fields["step_size"].edit.setPlaceholderText(hint)
        self.fields["max_translation"].edit.setPlaceholderText(f"default {default_max_translation(self._side):g}")

    def _class_warnings(self) -> list[str]:
        """check_attack_classes for the chosen classes and the selected model's clean prediction."""
        names = self.label_picker.class_names()
        if not names:
            return []   # no model yet: the run checks again, with the model
        label, target = self.label_picker.selected_index(), self.target()
        return check_attack_classes(names, self._prediction, label, label is not None, target)

    def _try(self, name: str):
        try:
            return self._value(name)
        except ParameterError:
            return None

    # -- public API -----------------------------------------------------------------------------
    def current_kind(self) -> str:
        """'attack' | 'sweep' | 'saliency'."""
        return _BY_KEY[self._key()][2]

    def is_valid(self) -> bool:
        return self._valid

    def errors(self) -> dict[str, str]:
        """Field name -> message for what currently blocks a run."""
        return dict(self._errors)

    def warnings(self) -> list[str]:
        return list(self._warnings)

    def attack_params(self) -> AttackParams:
        """The current (or last chosen) gradient attack. Raises ParameterError if invalid."""
        method, norm = self._method_norm()
        common = dict(eps=self._value("eps"), targeted=self.targeted.isChecked(), seed=self.seed.value())
        if method == "fgsm":
            return AttackParams(method="fgsm", norm="linf", **common)
        return AttackParams(method="pgd", norm=norm, steps=self._value("steps"), step_size=self._value("step_size"),
                            random_start=self.random_start.isChecked(), restarts=self._value("restarts"),
                            early_stop=self.early_stop.isChecked(), **common)

    def spatial_params(self) -> SpatialParams:
        """The current (or last chosen) sweep; max_translation None = the model's default."""
        mode = _BY_KEY[self._last["sweep"]][3]
        values = {n: self._value(n) for n in ("max_rotation", "max_translation")}
        values.update({n: self._value(n) for n in (("rotations", "translations") if mode == "grid" else ("k",))})
        return SpatialParams(mode=mode, seed=self.seed.value(), **values)

    def saliency_params(self) -> SaliencyParams:
        method = self.method.currentData()
        values = {"smoothgrad": {"smoothgrad_samples": "sg_samples", "smoothgrad_sigma": "sg_sigma"},
                  "ig": {"ig_steps": "ig_steps"}}.get(method, {})
        return SaliencyParams(method=method, absolute=self.absolute.isChecked(), seed=self.seed.value(),
                              **{arg: self._value(name) for arg, name in values.items()})

    def target(self) -> int | None:
        """The target class index when 'Targeted attack' is ticked, else None."""
        return self.target_picker.selected_index() if self.targeted.isChecked() else None

    def label(self) -> int | None:
        """The reference class override, or None for the model's prediction."""
        return self.label_picker.selected_index()

    def set_class_names(self, names: list[str]) -> None:
        for picker in (self.target_picker, self.label_picker):
            picker.set_class_names(names)
        self._changed()

    def prediction(self) -> int | None:
        return self._prediction

    def set_prediction(self, index: int | None) -> None:
        """The selected model's clean top-1 class on the current image (None: not known yet),
        so a targeted attack towards it is refused here, before Run."""
        if index != self._prediction:
            self._prediction = index
            self._changed()

    def input_size(self) -> int:
        return self._side

    def set_input_size(self, side: int) -> None:
        """A new model: budgets the user has not edited follow its input size."""
        self._eps_text[self._norm] = self.fields["eps"].text()
        for norm in NORMS:
            if self._eps_text[norm].strip() == default_eps(norm, self._side):
                self._eps_text[norm] = default_eps(norm, side)
        self._side = int(side)
        self._set_quietly(self.fields["eps"].edit, self._eps_text[self._norm])
        self._changed()

    def state(self) -> dict:
        """Everything the user set, as plain JSON values (QSettings, session files)."""
        self._eps_text[self._norm] = self.fields["eps"].text()
        return {
            "version": 1, "run": self._key(), "last_attack": self._last["attack"], "last_sweep": self._last["sweep"],
            "saliency_method": self.method.currentData(),
            "eps": dict(self._eps_text), "input_size": self._side,
            "fields": {name: field.text() for name, field in self.fields.items() if name != "eps"},
            "random_start": self.random_start.isChecked(), "early_stop": self.early_stop.isChecked(),
            "absolute": self.absolute.isChecked(), "seed": self.seed.value(),
            "targeted": self.targeted.isChecked(), "target": self.target_picker.selected_index(),
            "label": self.label_picker.selected_index(),
            # Which class list each index belongs to: index 8 is another class on another model.
            "target_classes": self.target_picker.classes_key(), "label_classes": self.label_picker.classes_key(),
        }

    def restore_state(self, d: dict) -> None:
        """Tolerant of missing or stale keys: an old settings file must never break the panel."""
        if not isinstance(d, dict):
            return
        self._quiet = True
        try:
            if isinstance(d.get("input_size"), int) and d["input_size"] > 0:
                self._side = d["input_size"]
            for norm in NORMS:
                text = (d.get("eps") or {}).get(norm) if isinstance(d.get("eps"), dict) else None
                if isinstance(text, str):
                    self._eps_text[norm] = text
            for kind in self._last:
                if d.get(f"last_{kind}") in _BY_KEY and _BY_KEY[d[f"last_{kind}"]][2] == kind:
                    self._last[kind] = d[f"last_{kind}"]
            for name, text in (d.get("fields") or {}).items():
                if name == "ig_steps" and text == "64":
                    text = ""   # the old fixed default, 70 % off completeness on photos: now adaptive
                if name in self.fields and name != "eps" and isinstance(text, str):
                    self.fields[name].edit.setText(text)
            for name in ("random_start", "early_stop", "absolute", "targeted"):
                if isinstance(d.get(name), bool):
                    getattr(self, name).setChecked(d[name])
            if isinstance(d.get("seed"), int):
                self.seed.setValue(d["seed"])
            for picker, key in ((self.target_picker, "target"), (self.label_picker, "label")):
                value, classes = d.get(key), d.get(f"{key}_classes")
                picker.set_index(value if isinstance(value, int) and value >= 0 else None,
                                 classes=classes if isinstance(classes, str) else None)
            for combo, key in ((self.method, "saliency_method"), (self.attack, "run")):
                combo.blockSignals(True)   # one _on_attack_changed at the end, not a cascade
                self._select(combo, d.get(key))
                combo.blockSignals(False)
            self._norm = self._method_norm()[1]
            self.fields["eps"].edit.setText(self._eps_text[self._norm])
        finally:
            self._quiet = False
        self._on_attack_changed()

    # -- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _select(combo: QtWidgets.QComboBox, data) -> None:
        i = combo.findData(data)
        if i >= 0:
            combo.setCurrentIndex(i)

    def _set_quietly(self, edit: QtWidgets.QLineEdit, text: str) -> None:
        quiet, self._quiet = self._quiet, True
        try:
            edit.setText(text)
        finally:
            self._quiet = quiet
