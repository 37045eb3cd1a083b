"""Saving and restoring what the user set in the run-parameters form (params_form.py), for
QSettings and session files, tolerant of old or damaged values."""

from __future__ import annotations

from visualizer.core.attacks.params import NORMS
from visualizer.gui.params_choices import BY_KEY
from visualizer.gui.qt import QtWidgets


class ParamsState:
    """Mixed into ParamsForm: ``state`` and ``restore_state``."""

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
                if d.get(f"last_{kind}") in BY_KEY and BY_KEY[d[f"last_{kind}"]][2] == kind:
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
