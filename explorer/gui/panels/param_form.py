"""The chosen optimiser's hyperparameters (or a scipy method's options) as a form, with the
values set for each optimiser remembered while another is chosen."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, SupportsFloat, SupportsInt, cast

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from explorer.core.optimizers import HyperParameter, Value, get_spec
from explorer.core.scipy_methods import is_scipy_method
from explorer.gui.panels.forms import growing_form
from explorer.gui.panels.number_fields import SciSpinBox
from explorer.gui.panels.scipy_options import ScipyOptionFields, checked_options


class ParamForm(QWidget):
    """One row per hyperparameter of the method shown; a scipy method's option fields instead."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name = ""  # the method shown
        self._editors: list[_Editor] = []
        # Hyperparameter values per optimiser, so switching back keeps what the user set.
        self._values: dict[str, dict[str, Value]] = {}
        # A scipy method's options take the hyperparameters' place in the form.
        self.scipy_options = ScipyOptionFields(self)
        self.scipy_options.changed.connect(self._on_param_changed)
        self._form = growing_form(self)
        self._form.setContentsMargins(0, 0, 0, 0)

    def show_method(self, name: str) -> None:
        """Fill the form with a method's fields, at the values remembered for it."""
        self._name = name
        while self._form.rowCount():
            self._form.removeRow(0)
        self._editors = []
        self.scipy_options.forget()
        stored = self._values.setdefault(name, {})
        if is_scipy_method(name):
            self.scipy_options.show(self._form, name, checked_options(name, stored))
            return
        spec = get_spec(name)
        for param in spec.hyperparameters:
            editor = _Editor(param, stored.get(param.name, param.default), self._on_param_changed)
            label = QLabel(param.label)
            label.setToolTip(param.help or param.label)
            self._form.addRow(label, editor.widget)
            self._editors.append(editor)

    def params(self) -> dict[str, Value]:
        """The hyperparameters that differ from the registry defaults (a scipy method: the
        options set in its fields)."""
        if is_scipy_method(self._name):
            return dict(self.scipy_options.values())
        spec = get_spec(self._name)
        values = {editor.param.name: editor.value() for editor in self._editors}
        return {p.name: values[p.name] for p in spec.hyperparameters
                if p.name in values and values[p.name] != p.default}

    def set_params(self, name: str, values: dict[str, Value]) -> None:
        """Remember hyperparameter values for an optimiser (shown when it is chosen); a scipy
        method keeps the options it takes."""
        if is_scipy_method(name):
            self._values[name] = dict(checked_options(name, values))
        else:
            known = {p.name: p for p in get_spec(name).hyperparameters}
            self._values[name] = {key: _coerce(known[key], value)
                                  for key, value in values.items() if key in known}
        if name == self._name:
            self.show_method(name)

    def all_params(self) -> dict[str, dict[str, Value]]:
        """The remembered hyperparameters of every optimiser, for the settings file."""
        return {name: dict(values) for name, values in self._values.items() if values}

    def _on_param_changed(self, *_args: object) -> None:
        stored = self._values.setdefault(self._name, {})
        if is_scipy_method(self._name):
            stored.clear()
            stored.update(self.scipy_options.values())
        for editor in self._editors:
            stored[editor.param.name] = editor.value()
        self.changed.emit()


class _Editor:
    """One hyperparameter's widget(s), read back as the registry's Value type."""

    def __init__(self, param: HyperParameter, value: Value, on_change: Any) -> None:
        self.param = param
        self.widget: QWidget
        self._parts: list[SciSpinBox] = []
        if param.kind == "bool":
            box = QCheckBox()
            box.setChecked(bool(value))
            box.toggled.connect(on_change)
            self.widget = box
        elif param.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(param.choices))
            text = "none" if value is None else str(value)
            combo.setCurrentIndex(max(0, combo.findText(text)))
            combo.currentIndexChanged.connect(on_change)
            self.widget = combo
        elif param.kind == "int":
            assert not isinstance(value, tuple)  # an int parameter's value is a number
            int_spin = QSpinBox()
            int_spin.setRange(int(param.low or 0), int(param.high or 1_000_000))
            int_spin.setValue(int(value or 0))
            int_spin.valueChanged.connect(on_change)
            self.widget = int_spin
        elif param.kind == "pair":
            self.widget = QWidget()
            row = QHBoxLayout(self.widget)
            row.setContentsMargins(0, 0, 0, 0)
            values = tuple(value) if isinstance(value, tuple) else (0.0, 0.0)
            for part in values:
                spin = self._float_spin(param, float(part))
                spin.valueChanged.connect(on_change)
                row.addWidget(spin)
                self._parts.append(spin)
        else:
            assert not isinstance(value, tuple)  # a float parameter's value is a number
            spin = self._float_spin(param, float(value or 0.0))
            spin.valueChanged.connect(on_change)
            self.widget = spin
        self.widget.setToolTip(param.help or param.label)

    @staticmethod
    def _float_spin(param: HyperParameter, value: float) -> SciSpinBox:
        low = param.low if param.low is not None else -1e9
        high = param.high if param.high is not None else 1e9
        spin = SciSpinBox(low, high, log=param.log)
        if not param.log:
            spin.setSingleStep(0.01 if high - low <= 1.0 else 0.1)
        spin.setValue(value)
        spin.setToolTip(param.help or param.label)
        return spin

    def value(self) -> Value:
        """The current value, typed as the registry expects."""
        widget = self.widget
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            text = widget.currentText()
            return None if text == "none" else text
        if isinstance(widget, QSpinBox):
            return int(widget.value())
        if self._parts:
            return tuple(float(part.value()) for part in self._parts)
        assert isinstance(widget, QDoubleSpinBox)
        return float(widget.value())


def _coerce(param: HyperParameter, value: object) -> Value:
    """A stored value turned back into the registry's type; the default when it cannot be."""
    try:
        if param.kind == "bool":
            return value if isinstance(value, bool) else str(value).lower() == "true"
        if param.kind == "int":
            # The casts only name what int() and float() take: anything else raises TypeError.
            return int(cast("str | SupportsInt", value))
        if param.kind == "choice":
            text = "none" if value is None else str(value)
            return None if text == "none" or text not in param.choices else text
        if param.kind == "pair":
            parts = tuple(float(v) for v in cast("Iterable[str | SupportsFloat]", value))
            return parts if len(parts) == 2 else param.default
        return float(cast("str | SupportsFloat", value))
    except (TypeError, ValueError):
        return param.default
