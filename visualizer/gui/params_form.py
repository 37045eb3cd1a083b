"""The run-parameters panel: which attack, sweep or saliency method to run, and its settings.

Every field is checked as the user types by building the core's own parameter objects
(AttackParams, SpatialParams, SaliencyParams), so the rules and their messages live in one
place. An invalid field gets a red border and the core's message under it; the panel then
reports itself invalid so the window can disable its Run buttons. Legal but unusual choices
(AttackParams.warnings) are shown in amber and do not block anything.

The main fields of each choice are always in view; the rest (step size, random start,
restarts, early stop, seed) sit in a collapsed "More options" section whose title lists the
ones set away from their defaults, and which opens by itself when one of them is invalid.

Its parts: params_choices.py (what is offered and how each field is checked),
params_inputs.py (the widgets and their rows), params_state.py (saving and restoring).
"""

from __future__ import annotations

from visualizer.core.attacks.class_checks import check_attack_classes
from visualizer.core.attacks.params import NORMS, AttackParams
from visualizer.core.attacks.spatial import SpatialParams, default_max_translation
from visualizer.core.errors import ParameterError
from visualizer.core.formatting import num, over_255
from visualizer.core.numbers import parse_number, parse_whole
from visualizer.core.saliency import SaliencyParams
from visualizer.gui.class_picker import mark_invalid
from visualizer.gui.params_choices import BY_KEY, EPS_TIPS, default_eps, relevant_fields
from visualizer.gui.params_choices import WARNING_STYLE  # noqa: F401  (other panels take it from here)
from visualizer.gui.params_inputs import ParamsInputs
from visualizer.gui.params_state import ParamsState
from visualizer.gui.qt import QtWidgets, Signal


class ParamsForm(ParamsInputs, ParamsState, QtWidgets.QWidget):
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

    # -- what is shown for which choice ---------------------------------------------------------
    def _key(self) -> str:
        return self.attack.currentData()

    def _method_norm(self) -> tuple[str, str]:
        """Method and norm of the current attack, or of the last one chosen."""
        key = self._key() if self.current_kind() == "attack" else self._last["attack"]
        return BY_KEY[key][3], BY_KEY[key][4]

    def _relevant(self) -> list[str]:
        return relevant_fields(self._key(), self.method.currentData())

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
        if kind == "sweep" and not relevant:      # the selected model's side: a shift beyond it is an empty frame
            try:
                self.spatial_params().check_fits(self._side)
            except ParameterError as exc:
                relevant["max_translation"] = str(exc)
                self.fields["max_translation"].set_error(str(exc))
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
        return BY_KEY[self._key()][2]

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
        mode = BY_KEY[self._last["sweep"]][3]
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
