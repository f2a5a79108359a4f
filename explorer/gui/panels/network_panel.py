"""The "Neural network" choice: data, layers, activation, loss, steps, sharpness, slice; Train."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core.loss_slice import DIRECTIONS, MAX_GRID
from explorer.core.network import ACTIVATIONS, LOSSES
from explorer.gui.panels.forms import (
    ErrorMessages,
    ask_csv,
    error_line,
    growing_form,
    push_button,
    stretched_row,
)
from explorer.io.session import MAX_SEED
from explorer.io.session_network import (
    DEFAULT_DIRECTIONS,
    DEFAULT_GRID,
    DEFAULT_SHARPNESS_EVERY,
    MAX_SHARPNESS_EVERY,
)

# Where the file dialog opens: the folder of the last CSV opened (QSettings key).
FOLDER_KEY = "network/folder"


@dataclass(frozen=True)
class NetworkFields:
    """What the panel's fields hold, as typed (hidden and steps are checked by the core)."""

    data: str
    hidden: str
    activation: str
    loss: str
    steps: str
    sharpness_every: int
    directions: str
    grid: int
    seed: int


class NetworkPanel(ErrorMessages, QWidget):
    """Pick the data and the network; Train asks for a run (train_requested), Stop ends it."""

    train_requested = Signal()
    stop_requested = Signal()
    pause_toggled = Signal(bool)
    step_requested = Signal()
    animation_requested = Signal()

    def __init__(self, bundled: dict[str, Path], settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        box = QGroupBox("Neural network")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(box)
        layout = QVBoxLayout(box)
        form = growing_form()

        self._data = QComboBox()
        for name, path in bundled.items():
            self._data.addItem(name, str(path))
        self._data.setToolTip("A bundled data set, or a CSV file with a 'label' column "
                              "(every other column a feature)")
        self._data.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._data.setMinimumContentsLength(8)
        self._open = push_button("Open CSV…", "Train on your own data: a header row with a "
                                 "'label' column, every other column a feature", self.ask_open)
        self._hidden = _NarrowLineEdit("8,8")
        self._hidden.setToolTip("The hidden layers' widths, e.g. 32,32")
        self._activation = _combo(ACTIVATIONS, "The activation after each hidden layer")
        self._loss = _combo(LOSSES, "mse: mean (output - label)^2; bce: logistic loss")
        self._steps = _NarrowLineEdit("1000")
        self._steps.setToolTip("Optimiser steps, full batch (the optimiser and its lr are the "
                               "controls' below)")
        self._every = _spin(0, MAX_SHARPNESS_EVERY, DEFAULT_SHARPNESS_EVERY,
                            "Measure the sharpness (the Hessian's top eigenvalue) at step 0 and "
                            "every this many steps (0: never)")
        self._directions = _combo(DIRECTIONS, "The slice's plane: filter-normalised random "
                                  "directions, the path's principal ones, or random from the seed")
        # The path's own plane first: a random plane shows the path as little more than a dot.
        self._directions.setCurrentText(DEFAULT_DIRECTIONS)
        self._grid = _spin(3, MAX_GRID, DEFAULT_GRID, "The slice's points a side (odd: the "
                           "middle one is where the training ended)")
        self._grid.setSingleStep(2)
        self._seed = _spin(0, MAX_SEED, 0, "Seeds the initialisation and the directions")
        form.addRow("Data", stretched_row(self._data, self._open))
        form.addRow("Hidden", stretched_row(self._hidden, self._activation, self._loss))
        form.addRow("Steps", stretched_row(self._steps, QLabel("Sharpness every"), self._every))
        form.addRow("Slice", stretched_row(self._directions, QLabel("Grid"), self._grid))
        self._train = push_button("Train", "Train the network in the background, then draw "
                                  "the loss on a plane through where it ended; click the map "
                                  "to train again from that point", self.train_requested.emit)
        self._pause = push_button("Pause", "Hold the training before its next step (the "
                                  "regions show where it stands)", lambda: None)
        self._pause.setCheckable(True)
        self._pause.toggled.connect(self._on_pause_toggled)
        self._step = push_button("Step", "While paused: one optimiser step",
                                 self.step_requested.emit)
        self._stop = push_button("Stop", "End the training here: what was trained is sliced "
                                 "and shown", self.stop_requested.emit)
        self._animation = push_button("Animation…", "Write the path on the slice growing step "
                                      "by step, with its loss beside it, as a GIF or MP4",
                                      self.animation_requested.emit)
        for button in (self._pause, self._step, self._stop, self._animation):
            button.setEnabled(False)
        form.addRow("Seed", stretched_row(self._seed, self._train, self._animation))
        layout.addLayout(form)
        layout.addLayout(stretched_row(self._pause, self._step, self._stop))

        self._progress = QProgressBar()
        self._progress.setTextVisible(True)
        self._progress.setVisible(False)
        layout.addWidget(self._progress)
        self._error = error_line()
        layout.addWidget(self._error)

    # ----- public API -----------------------------------------------------------------------

    def fields(self) -> NetworkFields:
        """What the fields hold."""
        return NetworkFields(str(self._data.currentData() or ""), self._hidden.text().strip(),
                             str(self._activation.currentText()), str(self._loss.currentText()),
                             self._steps.text().strip(), self._every.value(),
                             str(self._directions.currentText()), self._grid.value(),
                             self._seed.value())

    def set_fields(self, fields: NetworkFields) -> None:
        """Fill every field as given (a data file not listed yet is listed, as Open CSV… does)."""
        self._list(fields.data)
        self.choose(activation=fields.activation, loss=fields.loss)
        self._hidden.setText(fields.hidden)
        self._steps.setText(fields.steps)
        self._every.setValue(fields.sharpness_every)
        self._directions.setCurrentText(fields.directions)
        self._grid.setValue(fields.grid)
        self._seed.setValue(fields.seed)

    def set_hidden(self, text: str) -> None:
        """Type the hidden layers."""
        self._hidden.setText(text)

    def set_steps(self, text: str) -> None:
        """Type the steps."""
        self._steps.setText(text)

    def set_grid(self, size: int) -> None:
        """Set the slice's grid size."""
        self._grid.setValue(size)

    def set_sharpness_every(self, every: int) -> None:
        """Set how often the sharpness is measured."""
        self._every.setValue(every)

    def choose(self, activation: str = "", loss: str = "", data: str = "") -> None:
        """Choose an activation, a loss and a bundled data set by name ('' leaves it)."""
        for combo, text in ((self._activation, activation), (self._loss, loss),
                            (self._data, data)):
            index = combo.findText(text) if text else -1
            if index >= 0:
                combo.setCurrentIndex(index)

    def train_button(self) -> QPushButton:
        """The Train button."""
        return self._train

    def stop_button(self) -> QPushButton:
        """The Stop button."""
        return self._stop

    def set_running(self, running: bool, steps: int = 0) -> None:
        """Train off and Stop on while a network trains; the progress bar counts its steps."""
        self._train.setEnabled(not running)
        self._pause.setChecked(False)  # a new training runs; an ended one has nothing to hold
        self._pause.setEnabled(running)
        self._stop.setEnabled(running)
        self._step.setEnabled(False)
        self._progress.setVisible(running)
        if running:
            self._progress.setRange(0, max(steps, 1))
            self._progress.setValue(0)
            self._progress.setFormat("Training…")

    def set_progress(self, step: int, loss: float) -> None:
        """The step reached and its loss."""
        self._progress.setValue(min(step, self._progress.maximum()))
        self._progress.setFormat(f"step {step}: loss {loss:.4g}")

    def animation_button(self) -> QPushButton:
        """The Animation… button."""
        return self._animation

    def set_animation_enabled(self, enabled: bool) -> None:
        """Animation… on while a trained network's path is on screen."""
        self._animation.setEnabled(enabled)

    def pause_button(self) -> QPushButton:
        """The Pause toggle."""
        return self._pause

    def step_button(self) -> QPushButton:
        """The Step button."""
        return self._step

    def _on_pause_toggled(self, paused: bool) -> None:
        self._step.setEnabled(paused)
        self._pause.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)

    def progress_bar(self) -> QProgressBar:
        """The progress bar (for tests)."""
        return self._progress

    def ask_open(self) -> None:
        """Choose a CSV file in a dialog that opens in the folder of the last one."""
        path = ask_csv(self, self._settings, FOLDER_KEY)
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        """List and choose this CSV file (it is read, and checked, at Train)."""
        if self._settings is not None:
            self._settings.setValue(FOLDER_KEY, str(Path(path).parent))
        self._list(path)

    def _list(self, path: str) -> None:
        """Choose the data file at path, listing it first if it is not."""
        index = self._data.findData(path)
        if index < 0:
            self._data.addItem(Path(path).name, path)
            index = self._data.count() - 1
        self._data.setCurrentIndex(index)


class _NarrowLineEdit(QLineEdit):
    """A line edit that asks for little width (Qt's asks for about 17 characters) and grows
    into whatever its row leaves: the setup column must not widen for a short number."""

    def sizeHint(self) -> QSize:  # Qt's name
        """Room for about six characters."""
        hint = super().sizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("0") * 6 + 16),
                     hint.height())


def _combo(items: tuple[str, ...], tip: str) -> QComboBox:
    combo = QComboBox()
    combo.addItems(list(items))
    combo.setToolTip(tip)
    return combo


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin
