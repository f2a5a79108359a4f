"""The controls: optimiser, learning rate, hyperparameters, run limits, animation, buttons."""

from __future__ import annotations

import dataclasses
import math

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core.methods import help_text
from explorer.core.optimizers import LR_RANGE, Value, get_spec
from explorer.core.scipy_methods import is_scipy_method
from explorer.core.trajectory import RunSettings
from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames
from explorer.gui.panels.forms import form_box, stretched_row
from explorer.gui.panels.noise_row import NoiseRow
from explorer.gui.panels.number_fields import LogSlider, format_number
from explorer.gui.panels.number_fields import SciSpinBox as SciSpinBox  # tools import it here
from explorer.gui.panels.param_form import ParamForm
from explorer.gui.panels.schedule_panel import SchedulePanel
from explorer.gui.panels.scipy_options import (
    TORCH_ONLY_NOTE,
    fill_method_combo,
)
from explorer.io.session import MAX_PATH_TIME

# Seconds a whole path takes to draw, whatever its length; 0 draws each step as it comes.
PATH_TIME_RANGE = (0.0, MAX_PATH_TIME)
DEFAULT_PATH_TIME = 2.0
# The window's stopping rule: from the middle of the default preset, every optimiser at its
# defaults but AdamW (whose weight decay holds it off f's stationary point, |∇f| ~ 0.2 after
# 1000 steps) ends "converged" (tests/gui/panels/test_stopping_rule.py). Below 1e-4, L-BFGS
# stalls at |∇f| ~ 7e-5 (torch stops its line search once f changes by < 1e-9) and never
# converges; with 500 steps, RMSprop converges only at step 498.
DEFAULT_TOL = 1e-4
DEFAULT_STEPS = 1000
MAX_STEPS = 100_000
class ControlsPanel(QWidget):
    """Optimiser settings, run limits, animation speed, and the run buttons."""

    run_pause_requested = Signal()
    step_requested = Signal()
    stop_requested = Signal()
    reset_requested = Signal()
    clear_requested = Signal()
    export_requested = Signal()
    settings_changed = Signal()
    speed_changed = Signal()
    sweep_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._syncing = False
        self._lr = 0.01
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_optimizer_box())
        layout.addWidget(self._build_run_box())
        layout.addWidget(self._build_buttons())
        self.settings_changed.connect(self._on_settings_changed)
        self._on_optimizer_changed()

    # ----- building -------------------------------------------------------------------------

    def _build_optimizer_box(self) -> QWidget:
        box, form = form_box("Optimiser")
        self._optimizer = QComboBox()
        fill_method_combo(self._optimizer)
        self._optimizer.setToolTip("Which torch.optim optimiser or scipy.optimize method takes "
                                   "the steps")
        self._optimizer.currentIndexChanged.connect(self._on_optimizer_changed)
        form.addRow("Method", self._optimizer)
        self._optimizer_help = QLabel()
        self._optimizer_help.setWordWrap(True)
        self._optimizer_help.setStyleSheet("color: palette(placeholder-text);")
        form.addRow(self._optimizer_help)

        self._lr_slider = LogSlider(*LR_RANGE)
        self._lr_slider.setToolTip("Learning rate (step size), on a log scale from 1e-5 to 10")
        self._lr_edit = QLineEdit()
        # Any positive number may be typed; set_lr clamps it into the range, visibly.
        validator = QDoubleValidator(0.0, 1e12, 12)
        validator.setLocale(QLocale.c())  # a decimal point, as float() reads it
        self._lr_edit.setValidator(validator)
        self._lr_edit.setMaximumWidth(80)
        self._lr_edit.setToolTip("The exact learning rate; press Enter to apply (1e-5 to 10)")
        self._lr_slider.valueChanged.connect(self._on_lr_slider_moved)
        self._lr_edit.editingFinished.connect(self._on_lr_edited)
        self._sweep_button = QPushButton("Sweep…")
        self._sweep_button.setToolTip(
            "Learning-rate sweep: run this optimiser from one start with 20 to 50 learning "
            "rates and plot where each ended (Ctrl+L)"
        )
        self._sweep_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._sweep_button.clicked.connect(self.sweep_requested)
        self._lr_row = QWidget()
        lr_row = stretched_row(self._lr_slider, self._lr_edit, self._sweep_button)
        lr_row.setContentsMargins(0, 0, 0, 0)
        self._lr_row.setLayout(lr_row)
        form.addRow("Learning rate", self._lr_row)
        self.schedule = SchedulePanel()
        self.schedule.schedule_changed.connect(self.settings_changed)
        form.addRow("Schedule", self.schedule)

        self._param_form = ParamForm()
        self._param_form.changed.connect(self.settings_changed)
        self.scipy_options = self._param_form.scipy_options
        form.addRow(self._param_form)
        return box

    def _build_run_box(self) -> QWidget:
        box, form = form_box("Run")
        self._steps = QSpinBox()
        self._steps.setRange(1, MAX_STEPS)
        self._steps.setValue(DEFAULT_STEPS)
        self._steps.setToolTip("Each path stops after this many optimiser steps at most")
        self._steps.valueChanged.connect(self._on_limits_changed)
        form.addRow("Max steps", self._steps)
        self._tol = SciSpinBox(0.0, 1e3, log=True)
        self._tol.setValue(DEFAULT_TOL)
        self._tol.setToolTip("A path has converged when the gradient's length is at most this")
        self._tol.valueChanged.connect(self._on_limits_changed)
        self._names = FUNCTION_AXES  # |∇f| for a function, |∇loss| for a model on data
        self._tol_label = QLabel()
        form.addRow(self._tol_label, self._tol)
        # The whole stopping rule in words, beside the step budget.
        self._rule = QLabel()
        self._rule.setWordWrap(True)
        self._rule.setStyleSheet("color: palette(placeholder-text);")
        form.addRow(self._rule)
        self._show_rule()
        self._ascent = QCheckBox("Climb uphill (gradient ascent)")
        self._ascent.setToolTip("Maximise f instead of minimising it")
        self._ascent.toggled.connect(self.settings_changed)
        form.addRow(self._ascent)
        self._noise_row = NoiseRow()
        self._noise_row.changed.connect(self.settings_changed)
        form.addRow("Gradient noise", self._noise_row)

        self._path_time = QDoubleSpinBox()
        self._path_time.setRange(*PATH_TIME_RANGE)
        self._path_time.setDecimals(1)
        self._path_time.setSingleStep(0.5)
        self._path_time.setSuffix(" s")
        self._path_time.setSpecialValueText("instant")  # at 0
        self._path_time.setValue(DEFAULT_PATH_TIME)
        self._path_time.setToolTip(
            "How long each path takes to draw, however many steps it has (0: instant, each "
            "step as soon as it is computed). Pause (Space) and Step (Right arrow) go by hand.")
        self._path_time.valueChanged.connect(self.speed_changed)
        form.addRow("Path time", self._path_time)
        return box

    def _build_buttons(self) -> QWidget:
        panel = QWidget()
        grid = QGridLayout(panel)
        grid.setContentsMargins(0, 0, 0, 0)
        specs = (
            ("run", "Run", "Run the pending starts, or pause and resume the animation", "Space",
             self.run_pause_requested),
            ("step", "Step", "Pause and move every path one step", "Right arrow",
             self.step_requested),
            ("stop", "Stop", "Stop every running path where it is", "", self.stop_requested),
            ("reset", "Reset to starts", "Remove the paths but keep their start points, "
             "ready to run again with the current settings", "R", self.reset_requested),
            ("clear", "Clear all", "Remove every path and pending start (with a row selected "
             "in the table, removes just that path)", "Delete", self.clear_requested),
            ("export", "Export CSV…", "Write the trajectories to a CSV file", "Ctrl+E",
             self.export_requested),
        )
        self._buttons: dict[str, QPushButton] = {}
        for index, (key, text, tip, shortcut, signal) in enumerate(specs):
            button = QPushButton(text)
            button.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.clicked.connect(signal)
            grid.addWidget(button, index // 3, index % 3)
            self._buttons[key] = button
        self._buttons["run"].setDefault(False)
        return panel

    # ----- slots ----------------------------------------------------------------------------

    def _on_optimizer_changed(self) -> None:
        name = self.optimizer_name()
        scipy = is_scipy_method(name)
        self._optimizer_help.setText(help_text(name) + (f". {TORCH_ONLY_NOTE}" if scipy else ""))
        self._optimizer.setToolTip(help_text(name))
        if not scipy:
            self.set_lr(get_spec(name).default_lr)
        # What only torch's optimisers have is off for a scipy method (the note says why).
        for widget in (self._lr_row, self.schedule, self._ascent, self._noise_row):
            widget.setEnabled(not scipy)
        self._show_rule()
        self._param_form.show_method(name)
        self.settings_changed.emit()

    def is_scipy(self) -> bool:
        """Whether the chosen method is scipy.optimize's (no learning rate)."""
        return is_scipy_method(self.optimizer_name())

    def _on_lr_slider_moved(self) -> None:
        if self._syncing:
            return
        self._lr = float(f"{self._lr_slider.float_value():.2g}")  # round numbers: 0.003, 0.0035
        self._lr_edit.setText(format_number(self._lr))
        self.settings_changed.emit()

    def _on_lr_edited(self) -> None:
        try:
            value = float(self._lr_edit.text())
        except ValueError:
            value = self._lr
        self.set_lr(value)
        self.settings_changed.emit()

    def _on_settings_changed(self) -> None:
        if not self.is_scipy():  # a scipy method has no learning rate to schedule
            self.schedule.set_run(self.run_settings())  # its check and plot follow the run

    def _on_limits_changed(self) -> None:
        self._show_rule()
        self.settings_changed.emit()

    def _show_rule(self) -> None:
        if self.is_scipy():
            self._tol_label.setText("tol (scipy)")
            self._rule.setText(f"Stops by the method's own rule with tol "
                               f"{format_number(self._tol.value())}, or after "
                               f"{self._steps.value()} iterations (maxiter)")
            return
        gradient = f"|∇{self._names.short}|"
        self._tol_label.setText(f"Stop when {gradient} ≤")
        self._rule.setText(f"Stops when {gradient} ≤ {format_number(self._tol.value())} "
                           f"or after {self._steps.value()} steps")

    def set_axis_names(self, x: str, y: str, value: str) -> None:
        """Name the gradient in the stopping rule: |∇f| for a function, |∇loss| for a model."""
        self._names = AxisNames(x, y, value)
        self._show_rule()

    def tolerance_label_text(self) -> str:
        """The tolerance's row label, e.g. 'Stop when |∇f| ≤' (for tests)."""
        return self._tol_label.text()

    def stopping_rule_text(self) -> str:
        """The stopping rule as shown beside the step budget."""
        return self._rule.text()

    # ----- public API -----------------------------------------------------------------------

    def optimizer_name(self) -> str:
        """The registry name of the chosen optimiser."""
        return str(self._optimizer.currentData())

    def set_optimizer(self, name: str) -> None:
        """Choose an optimiser by registry name (unknown names are ignored)."""
        index = self._optimizer.findData(name)
        if index >= 0:
            self._optimizer.setCurrentIndex(index)

    def lr(self) -> float:
        """The learning rate."""
        return self._lr

    def set_lr(self, value: float) -> None:
        """Set the learning rate (clamped to 1e-5..10); slider and field follow."""
        if not math.isfinite(value):
            return
        self._lr = min(max(float(value), LR_RANGE[0]), LR_RANGE[1])
        self._syncing = True
        try:
            self._lr_slider.set_float_value(self._lr)
        finally:
            self._syncing = False
        self._lr_edit.setText(format_number(self._lr))

    def params(self) -> dict[str, Value]:
        """The hyperparameters that differ from the registry defaults (a scipy method: the
        options set in its fields)."""
        return self._param_form.params()

    def set_params(self, name: str, values: dict[str, Value]) -> None:
        """Remember hyperparameter values for an optimiser (shown when it is chosen); a scipy
        method keeps the options it takes."""
        self._param_form.set_params(name, values)

    def all_params(self) -> dict[str, dict[str, Value]]:
        """The remembered hyperparameters of every optimiser, for the settings file."""
        return self._param_form.all_params()

    def run_settings(self) -> RunSettings:
        """Everything that decides a run's numbers, as the engine takes it."""
        if self.is_scipy():
            # No ascent, noise or schedule: torch's alone (their controls are off).
            return RunSettings.create(self.params(), optimizer=self.optimizer_name(),
                                      lr=self._lr, steps=int(self._steps.value()),
                                      tol=float(self._tol.value()))
        settings = RunSettings.create(
            self.params(),
            optimizer=self.optimizer_name(),
            lr=self._lr,
            steps=int(self._steps.value()),
            tol=float(self._tol.value()),
            ascent=self._ascent.isChecked(),
            noise=self._noise_row.scale(),
            seed=self._noise_row.seed(),
        )
        return dataclasses.replace(settings, schedule=self.schedule.schedule_for(settings))

    def set_schedule(self, text: str) -> None:
        """Show a learning-rate schedule (core.schedules text; '' or bad text: constant)."""
        self.schedule.set_schedule(text)

    def set_noise(self, scale: float, seed: int) -> None:
        """Set the gradient noise scale (0 = off) and its seed."""
        self._noise_row.set_noise(scale, seed)

    def set_limits(self, steps: int, tol: float, ascent: bool) -> None:
        """Set max steps, tolerance and the ascent flag."""
        self._steps.setValue(int(steps))
        self._tol.setValue(float(tol))
        self._ascent.setChecked(bool(ascent))

    def path_time_s(self) -> float:
        """Seconds a whole path takes to draw; 0: instant."""
        return float(self._path_time.value())

    def set_path_time(self, seconds: float) -> None:
        """Set the seconds a whole path takes to draw (0: instant; clamped to the range)."""
        if math.isfinite(seconds):
            self._path_time.setValue(min(max(float(seconds), PATH_TIME_RANGE[0]),
                                         PATH_TIME_RANGE[1]))

    def set_running(self, running: bool) -> None:
        """Show Pause while paths animate, Run otherwise."""
        self._buttons["run"].setText("Pause" if running else "Run")

    def button(self, key: str) -> QPushButton:
        """A button by key: run, step, stop, reset, clear, export (for tests)."""
        return self._buttons[key]

