"""The basin tool's settings: grid size, the optimiser line, its own learning rate and steps."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QSpinBox, QWidget

from explorer.core.basin import DEFAULT_GRID, MAX_GRID, MIN_GRID
from explorer.core.methods import label
from explorer.core.optimizers import get_spec
from explorer.core.scipy_methods import is_scipy_method
from explorer.core.trajectory import RunSettings
from explorer.gui.panels.controls_panel import MAX_STEPS
from explorer.gui.panels.forms import ends_row, push_button
from explorer.gui.panels.number_fields import SciSpinBox

if TYPE_CHECKING:
    from explorer.gui.panels.controls_panel import ControlsPanel

TIMES = "\u00d7"  # the multiplication sign, as in "64 x 64"


class BasinSettingsForm(QWidget):
    """Grid size N, the controls' optimiser in words, and a learning rate and max steps that
    follow the controls until they are edited here."""

    def __init__(self, controls: ControlsPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controls = controls
        self._own_values = False
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self._grid = QSpinBox()
        self._grid.setRange(MIN_GRID, MAX_GRID)
        self._grid.setValue(DEFAULT_GRID)
        self._grid.setToolTip(
            f"Start points per side: N {TIMES} N starts in all ({MIN_GRID} to {MAX_GRID}). "
            f"512 {TIMES} 512 takes a while on a CPU."
        )
        self._grid.valueChanged.connect(self._update_grid_label)
        self._grid_label = QLabel()
        grid_row = QHBoxLayout()
        grid_row.addWidget(self._grid)
        grid_row.addWidget(self._grid_label, 1)
        form.addRow("Grid size N", grid_row)

        self._optimizer_label = QLabel()
        self._optimizer_label.setWordWrap(True)
        form.addRow("Optimiser", self._optimizer_label)
        self._lr = SciSpinBox(1e-8, 100.0, log=True)
        self._lr.setToolTip("The learning rate of every start (the arrows step by decades)")
        self._lr.valueChanged.connect(self._on_own_value_edited)
        self._steps = QSpinBox()
        self._steps.setRange(1, MAX_STEPS)
        self._steps.setToolTip("Each start takes at most this many optimiser steps")
        self._steps.valueChanged.connect(self._on_own_value_edited)
        self._reset_button = push_button(
            "Same as the controls",
            "Take the learning rate and max steps from the controls again (they follow the "
            "controls until you change them here)",
            self._on_reset_clicked,
        )
        # One field a row, the reset button after the second: the tool fits a narrow column.
        form.addRow("Learning rate", ends_row(self._lr))
        form.addRow("Max steps", ends_row(self._steps, self._reset_button))
        self._update_grid_label()
        controls.settings_changed.connect(self._on_controls_changed)
        self._copy_controls()

    def grid_size(self) -> int:
        """Start points per side of the next map."""
        return self._grid.value()

    def set_grid_size(self, n: int) -> None:
        """Start points per side of the next map."""
        self._grid.setValue(int(n))

    def set_lr(self, lr: float) -> None:
        """The learning rate of the next map (it no longer follows the controls)."""
        self._lr.setValue(float(lr))

    def set_steps(self, steps: int) -> None:
        """The max steps of the next map (they no longer follow the controls)."""
        self._steps.setValue(int(steps))

    def run_settings(self) -> RunSettings:
        """The controls' optimiser settings with this form's learning rate and max steps."""
        controls = self._controls.run_settings()
        return dataclasses.replace(controls, lr=float(self._lr.value()),
                                   steps=int(self._steps.value()), ascent=False)

    def optimizer_text(self) -> str:
        """The optimiser line, as shown."""
        return self._optimizer_label.text()

    def update_optimizer_label(self) -> None:
        """Describe the controls' optimiser as the map will run it."""
        settings = self._controls.run_settings()
        if is_scipy_method(settings.optimizer):
            self._optimizer_label.setText(
                f"{label(settings.optimizer)} (scipy.optimize){settings.params_label()}, as set "
                "in the controls: one minimize per start, one start at a time (slower than a "
                "torch batch; Cancel stops between starts). The learning rate is not used.")
            return
        spec = get_spec(settings.optimizer)
        text = spec.label + settings.params_label()
        text += f", stops at |∇f| ≤ {settings.tol:g}"
        if settings.noise > 0:
            text += f", gradient noise {settings.noise:g} (seed {settings.seed})"
        text += ": as set in the controls"
        if settings.ascent:
            text += " (a basin map always descends: Climb uphill is ignored)"
        if not spec.elementwise:
            text += f". {spec.label} cannot run a grid as one batch: choose another optimiser."
        self._optimizer_label.setText(text)

    def _on_controls_changed(self) -> None:
        if not self._own_values:
            self._copy_controls()
        self.update_optimizer_label()

    def _on_own_value_edited(self) -> None:
        self._own_values = True

    def _on_reset_clicked(self) -> None:
        self._own_values = False
        self._copy_controls()

    def _copy_controls(self) -> None:
        settings = self._controls.run_settings()
        for widget in (self._lr, self._steps):
            widget.blockSignals(True)
        self._lr.setValue(settings.lr)
        self._steps.setValue(settings.steps)
        for widget in (self._lr, self._steps):
            widget.blockSignals(False)

    def _update_grid_label(self) -> None:
        n = self._grid.value()
        self._grid_label.setText(f"{TIMES} {n} = {n * n:,} start points".replace(",", " "))
