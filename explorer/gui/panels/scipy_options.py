"""The optimiser list grouped torch.optim / scipy.optimize, and a scipy method's options as
fields in the controls' hyperparameter form, each checked as `run --param` checks it."""

from __future__ import annotations

import math
from collections.abc import Mapping

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit

from explorer.core.methods import help_text, label
from explorer.core.optimizers import REGISTRY, OptimizerError
from explorer.core.scipy_methods import METHODS, Option, OptionSpec, parse_options

GROUPS = ("torch.optim", "scipy.optimize")
# The longest text an option field takes (a number or true/false is far shorter).
MAX_OPTION_TEXT = 64
ERROR_STYLE = "color: #d03030;"
# Short: it follows the method's one-line help in a narrow column.
TORCH_ONLY_NOTE = "No learning rate: scipy sizes its own steps (max steps: maxiter; tol: tol)"


def fill_method_combo(combo: QComboBox) -> None:
    """Every method by its label, under a disabled header per group: torch.optim's registry,
    then scipy.optimize's methods; the first torch method is chosen."""
    model = combo.model()
    assert isinstance(model, QStandardItemModel)  # a QComboBox's own model
    for group, names in zip(GROUPS, (list(REGISTRY), list(METHODS)), strict=True):
        combo.addItem(f"— {group} —")
        header = model.item(combo.count() - 1)
        header.setFlags(header.flags() & ~(Qt.ItemFlag.ItemIsEnabled
                                           | Qt.ItemFlag.ItemIsSelectable))
        for name in names:
            combo.addItem(label(name), name)
            combo.setItemData(combo.count() - 1, help_text(name), Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(1)


def option_text(value: Option) -> str:
    """An option's value as its field shows it (and --param takes it): true, 1e-05, 20."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:.12g}" if isinstance(value, float) else str(value)


def _range_text(spec: OptionSpec) -> str:
    if spec.kind is bool:
        return "true or false"
    what = "a whole number" if spec.kind is int else "a number"
    low = f"{'≥' if spec.low_inclusive else '>'} {spec.low:g}"
    high = "" if math.isinf(spec.high) else f" and ≤ {spec.high:g}"
    return f"{what} {low}{high}"


def checked_options(name: str, values: Mapping[str, object]) -> dict[str, Option]:
    """The values that a scipy method takes as options, each checked as --param checks it;
    others are left out (a settings file's or an older window's)."""
    out: dict[str, Option] = {}
    for key, value in values.items():
        text = option_text(value) if isinstance(value, bool | int | float) else str(value)
        try:
            out.update(parse_options(name, [f"{key}={text[:MAX_OPTION_TEXT]}"]))
        except OptimizerError:
            continue
    return out


class ScipyOptionFields(QObject):
    """A scipy method's options as text fields in a form: empty means scipy's default; a value
    it refuses is named in red under the fields and left out of the run."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = ""
        self._edits: dict[str, QLineEdit] = {}
        self._error: QLabel | None = None
        self._values: dict[str, Option] = {}
        self._problems: list[str] = []

    def show(self, form: QFormLayout, name: str, values: Mapping[str, Option]) -> None:
        """Add the method's fields to the (emptied) form, filled with values."""
        self._name, self._edits = name, {}
        for key, spec in METHODS[name].options.items():
            edit = QLineEdit(option_text(values[key]) if key in values else "")
            edit.setMaxLength(MAX_OPTION_TEXT)
            edit.setPlaceholderText("scipy's default")
            edit.setToolTip(f"scipy's option {key}: {_range_text(spec)}; empty: scipy's "
                            "default (press Enter to apply)")
            edit.editingFinished.connect(self._on_edited)
            title = QLabel(key)
            title.setToolTip(edit.toolTip())
            form.addRow(title, edit)
            self._edits[key] = edit
        self._error = QLabel()
        self._error.setWordWrap(True)
        self._error.setStyleSheet(ERROR_STYLE)
        form.addRow(self._error)
        self._check()

    def forget(self) -> None:
        """The form was emptied: its fields are gone."""
        self._name, self._edits, self._error = "", {}, None
        self._values, self._problems = {}, []

    def values(self) -> dict[str, Option]:
        """The options the fields hold that scipy takes (what a run uses)."""
        return dict(self._values)

    def error_text(self) -> str:
        """Why a field's value is left out ('' when every field is good)."""
        return "\n".join(self._problems)

    def edit(self, key: str) -> QLineEdit:
        """An option's field (for tests)."""
        return self._edits[key]

    def _on_edited(self) -> None:
        before = self._values
        self._check()
        if self._values != before:
            self.changed.emit()

    def _check(self) -> None:
        values: dict[str, Option] = {}
        problems: list[str] = []
        for key, edit in self._edits.items():
            text = edit.text().strip()
            if not text:
                edit.setStyleSheet("")
                continue
            try:
                values.update(parse_options(self._name, [f"{key}={text}"]))
                edit.setStyleSheet("")
            except OptimizerError as error:
                problems.append(f"{error}: scipy's default is used instead.")
                edit.setStyleSheet(ERROR_STYLE)
        self._values, self._problems = values, problems
        if self._error is not None:
            self._error.setText(self.error_text())
            self._error.setVisible(bool(problems))
