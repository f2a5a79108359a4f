"""The learning-rate sweep tool: one start, 20 to 50 learning rates, where each one ended."""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtGui import QDoubleValidator, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core import methods
from explorer.core.race import outcome_of
from explorer.core.scipy_methods import is_scipy_method
from explorer.core.sweep import SweepEntry, SweepError, best_entry, log_spaced
from explorer.core.trajectory import RunSettings, Status, Trajectory, number_text
from explorer.gui.engine.sweep_job import SweepJob
from explorer.gui.panels.forms import ends_row, push_button
from explorer.gui.panels.number_fields import SciSpinBox
from explorer.gui.tools.full_batch import full_batch_note
from explorer.gui.tools.sweep_plots import SweepPlots, legend_html

if TYPE_CHECKING:
    from explorer.core.gradient import Target
    from explorer.gui.parts import Parts

COUNT_RANGE = (20, 50)
DEFAULT_COUNT = 30
DEFAULT_LR_RANGE = (1e-4, 1.0)


class SweepPanel(QWidget):
    """A docked tool: run the sweep on the worker, plot final f and steps against lr."""

    lr_chosen = Signal(str, float)  # optimiser name, learning rate

    def __init__(self, parts: Parts) -> None:
        super().__init__(parts.host)
        self.setWindowTitle("Learning-rate sweep")
        self._parts = parts
        self._job = SweepJob(parts.runner.worker, parts.runner.new_run_id, self)
        self._job.progressed.connect(self._on_progressed)
        self._job.finished.connect(self._on_job_finished)
        self._job.failed.connect(self._on_job_failed)
        self._entries: list[SweepEntry] = []
        self._best: SweepEntry | None = None
        self._swept: RunSettings | None = None
        self._limit_lr: float | None = None  # 2 / lambda_max at the last sweep's start
        self._function = ""
        self._full_batch = ""  # what the summary adds on a model on data

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_form())
        layout.addLayout(self._build_buttons())
        self._summary = QLabel(
            "Runs the optimiser chosen in the controls (its settings and max steps) once per "
            "learning rate, all from the same start, as one batch."
        )
        self._summary.setWordWrap(True)
        layout.addWidget(self._summary)
        legend = QLabel(legend_html())
        legend.setTextFormat(Qt.TextFormat.RichText)
        legend.setWordWrap(True)  # between its items, on a narrow column
        legend.setToolTip("Each learning rate is one point. Diverged runs have no final f: "
                          "their crosses sit above the highest finite value.")
        layout.addWidget(legend)
        self._plots = SweepPlots()
        layout.addWidget(self._plots.f_plot, 3)
        layout.addWidget(self._plots.steps_plot, 2)
        parts.contour.start_requested.connect(self._on_start_clicked)

    # ----- building -------------------------------------------------------------------------

    def _build_form(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        validator = QDoubleValidator()
        validator.setLocale(QLocale.c())
        self._x = QLineEdit("0")
        self._y = QLineEdit("0")
        for edit in (self._x, self._y):
            edit.setValidator(validator)
            edit.setMaximumWidth(110)
            edit.setToolTip("The start point; a click on the map sets it too")
        form.addRow("Start", _labelled_row("x", self._x, "y", self._y))
        hint = QLabel("(the last point clicked on the map)")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("", hint)  # under the fields: the row stays narrow

        self._lr_min = SciSpinBox(1e-8, 100.0, log=True)
        self._lr_max = SciSpinBox(1e-8, 100.0, log=True)
        self._lr_min.setValue(DEFAULT_LR_RANGE[0])
        self._lr_max.setValue(DEFAULT_LR_RANGE[1])
        self._lr_min.setToolTip("The smallest learning rate tried")
        self._lr_max.setToolTip("The largest learning rate tried")
        self._count = QSpinBox()
        self._count.setRange(*COUNT_RANGE)
        self._count.setValue(DEFAULT_COUNT)
        self._count.setToolTip("How many learning rates, evenly spaced on a log scale")
        form.addRow("Learning rates", _labelled_row("from", self._lr_min, "to", self._lr_max))
        form.addRow("Count", ends_row(self._count))
        self._optimizer_label = QLabel()
        self._optimizer_label.setWordWrap(True)
        form.addRow("Optimiser", self._optimizer_label)
        return box

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self._run_button = push_button(
            "Run sweep",
            "Run every learning rate from the start (in the background)",
            self.run_sweep,
        )
        self._cancel_button = QPushButton("Cancel")
        self._cancel_button.setEnabled(False)
        self._cancel_button.clicked.connect(self.cancel)
        self._progress = QProgressBar()
        self._progress.setRange(0, 1000)
        self._progress.setTextVisible(False)
        self._progress.setVisible(False)
        self._best_button = push_button(
            "Use best learning rate",
            "Set the controls' learning rate to the sweep's best: the lowest final f, then the "
            "fewest steps, never one that diverged",
            self.use_best,
        )
        self._best_button.setEnabled(False)
        row.addWidget(self._run_button)
        row.addWidget(self._cancel_button)
        row.addWidget(self._progress, 1)
        row.addStretch(0)
        row.addWidget(self._best_button)
        return row

    # ----- public API -----------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # Qt's name
        """Refresh the optimiser line and the default start when the tool opens."""
        self._update_optimizer_label()
        if not self._entries and not self._job.running:
            self._default_start()
        super().showEvent(event)

    def set_start(self, x: float, y: float) -> None:
        """The start point of the next sweep."""
        self._x.setText(f"{x:.6g}")
        self._y.setText(f"{y:.6g}")

    def start(self) -> tuple[float, float] | None:
        """The start point typed or clicked; None if a field is not a number."""
        try:
            x, y = float(self._x.text()), float(self._y.text())
        except ValueError:
            return None
        return (x, y) if math.isfinite(x) and math.isfinite(y) else None

    def set_range(self, lr_min: float, lr_max: float, count: int) -> None:
        """The learning rates of the next sweep."""
        self._lr_min.setValue(lr_min)
        self._lr_max.setValue(lr_max)
        self._count.setValue(count)

    def run_sweep(self) -> bool:
        """Start the sweep with the controls' optimiser; False (and a message) if it cannot."""
        document = self._parts.document
        target = document.target()  # f, or a model's full-data loss
        if target is None or document.landscape is None or not self._parts.runner.worker.is_ready:
            self._say("The engine (torch) is still loading: try again in a moment.")
            return False
        start = self.start()
        if start is None:
            self._say("Type the start point as two numbers, or click the map.")
            return False
        try:
            lrs = log_spaced(self._lr_min.value(), self._lr_max.value(), self._count.value())
        except SweepError as error:
            self._say(f"Check the learning rates: {error}.")
            return False
        settings = self._parts.controls.run_settings()
        if is_scipy_method(settings.optimizer):
            name = methods.short_label(settings.optimizer)
            self._say(f"{name} is a scipy.optimize method: it has no learning rate to sweep. "
                      "Choose a torch.optim optimiser in the controls.")
            return False
        self._swept = settings
        self._function = target.text
        self._full_batch = full_batch_note(document)
        self._limit_lr = _stable_lr(document.landscape, start)
        self._entries, self._best = [], None
        self._lrs = lrs
        self._update_optimizer_label()
        self._plots.clear()
        self._job.start(target, [start], lrs, settings)
        self._set_busy(True)
        waiting = " (the window is paused: press Space there to go on)" if (
            self._parts.runner.is_paused()) else ""
        self._say(f"Running {len(lrs)} learning rates from ({start[0]:.4g}, {start[1]:.4g})"
                  f"…{waiting}{self._full_batch}")
        return True

    def cancel(self) -> None:
        """Stop a sweep that is running."""
        if self._job.running:
            self._job.cancel()
            self._say("Sweep cancelled.")
        self._set_busy(False)

    def is_running(self) -> bool:
        """True while the sweep computes."""
        return self._job.running

    def entries(self) -> list[SweepEntry]:
        """The last sweep's results, one per learning rate, in increasing order."""
        return list(self._entries)

    def best(self) -> SweepEntry | None:
        """The last sweep's best entry (core.sweep.best_entry)."""
        return self._best

    def stable_lr(self) -> float | None:
        """2 / lambda_max at the last sweep's start (None where f does not curve upward)."""
        return self._limit_lr

    def use_best(self) -> None:
        """Set the controls to the swept optimiser and its best learning rate."""
        if self._best is None or self._swept is None:
            return
        self.lr_chosen.emit(self._swept.optimizer, self._best.lr)

    def plot_items(self) -> dict[str, pg.GraphicsObject]:
        """The drawn items by role: 'finished', 'diverged', 'best', 'limit', 'steps', ... ."""
        return dict(self._plots.items)

    def plots(self) -> tuple[pg.PlotWidget, pg.PlotWidget]:
        """The final-f plot and the steps plot."""
        return self._plots.f_plot, self._plots.steps_plot

    def best_button(self) -> QPushButton:
        """The 'Use best learning rate' button."""
        return self._best_button

    def summary_text(self) -> str:
        """The line under the plots: the best rate, the diverged, the stability limit."""
        return self._summary.text()

    # ----- slots ----------------------------------------------------------------------------

    def _on_start_clicked(self, x: float, y: float, _add_only: bool = False) -> None:
        if not self._job.running:
            self.set_start(x, y)

    def _on_progressed(self, fraction: float) -> None:
        self._progress.setValue(round(1000 * fraction))

    def _on_job_finished(self, trajectories: list[Trajectory]) -> None:
        self._set_busy(False)
        self._entries = [
            SweepEntry(float(lr), outcome_of(t))
            for lr, t in zip(self._lrs.tolist(), trajectories, strict=True)
        ]
        self._best = best_entry(self._entries)
        self._best_button.setEnabled(self._best is not None)
        self._plots.draw(self._entries, self._best, self._limit_lr)
        self._say(summary_text(self._entries, self._best, self._limit_lr) + self._full_batch)

    def _on_job_failed(self, message: str) -> None:
        self._set_busy(False)
        self._say(f"The sweep could not go on: {message}")

    # ----- helpers --------------------------------------------------------------------------

    def _update_optimizer_label(self) -> None:
        settings = self._swept if self._job.running else self._parts.controls.run_settings()
        if settings is None:
            return
        text = methods.label(settings.optimizer) + settings.params_label()
        text += f", at most {settings.steps} steps"
        if settings.noise > 0:
            text += f", noise {settings.noise:g} (seed {settings.seed})"
        if settings.ascent:
            text += ", ascent"
        self._optimizer_label.setText(f"{text}: as set in the controls")

    def _default_start(self) -> None:
        """The last start clicked (a waiting one first), else the middle of the domain."""
        pending = self._parts.runner.pending_starts()
        shown = self._parts.runner.shown_trajectories()
        if pending:
            self.set_start(*pending[-1])
        elif shown:
            self.set_start(*shown[-1].start)
        else:
            grid = self._parts.document.grid
            if grid is not None:
                xmin, xmax, ymin, ymax = grid.domain
                self.set_start((xmin + xmax) / 2, (ymin + ymax) / 2)

    def _set_busy(self, busy: bool) -> None:
        self._run_button.setEnabled(not busy)
        self._cancel_button.setEnabled(busy)
        self._progress.setVisible(busy)
        self._progress.setValue(0)
        if busy:
            self._best_button.setEnabled(False)

    def _say(self, text: str) -> None:
        self._summary.setText(text)


def summary_text(entries: list[SweepEntry], best: SweepEntry | None,
                 limit_lr: float | None) -> str:
    """The line under the plots: the best rate, how many diverged, the stability limit."""
    diverged = [e for e in entries if e.status is Status.DIVERGED]
    parts = []
    if best is not None:
        parts.append(f"Best: lr {number_text(best.lr, 3)} reaches f = {number_text(best.f, 3)} "
                     f"in {best.steps} steps ({best.status.label.replace('_', ' ')}).")
    else:
        parts.append("Every learning rate diverged: try smaller ones.")
    if diverged:
        lowest = min(e.lr for e in diverged)
        parts.append(f"{len(diverged)} of {len(entries)} diverged (the smallest: lr "
                     f"{number_text(lowest, 3)}).")
    if limit_lr is not None:
        parts.append(f"Plain gradient descent is stable below 2 / λmax = "
                     f"{number_text(limit_lr, 3)} at the start.")
    else:
        parts.append("f curves upward in no direction at the start, so 2 / λmax sets no "
                     "limit there (no line).")
    return " ".join(parts)


def _labelled_row(first: str, first_field: QWidget, second: str,
                  second_field: QWidget) -> QHBoxLayout:
    """A row 'first [field] second [field]' at natural widths, the spare width after them."""
    row = QHBoxLayout()
    for text, field in ((first, first_field), (second, second_field)):
        row.addWidget(QLabel(text))
        row.addWidget(field)
    row.addStretch(1)
    return row


def _stable_lr(expression: Target, start: tuple[float, float]) -> float | None:
    from explorer.core.stability import stable_lr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return stable_lr(expression, *start)
