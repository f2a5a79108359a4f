"""The "Model on data" choice: a model, a bundled data set or a CSV file, and the minibatch."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core.models import MODELS
from explorer.gui.panels.forms import (
    ErrorMessages,
    ask_csv,
    error_line,
    growing_form,
    stretched_row,
)

# Where the file dialog opens: the folder of the last CSV opened (QSettings key).
FOLDER_KEY = "model/folder"
FULL = "full"
# A batch size above this is the whole data set anyway for any file the window loads.
MAX_BATCH = 10_000_000
MAX_EPOCHS = 100_000


@dataclass(frozen=True)
class FitOptions:
    """How a click on a model's landscape trains: batch size (None: full batch), epochs, seed."""

    batch_size: int | None
    epochs: int
    seed: int


# The bundled data set each model is shown with first.
SUITED_DATA = {"linear": "regression", "logistic": "classification", "neuron": "plateau",
               "deeplinear": "regression"}


class ModelPanel(ErrorMessages, QWidget):
    """Pick a model and its data; emits model_requested(model name, data file path)."""

    model_requested = Signal(str, str)
    options_changed = Signal()
    batch_landscape_toggled = Signal(bool)

    def __init__(self, bundled: dict[str, Path], settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        box = QGroupBox("Model on data")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(box)
        layout = QVBoxLayout(box)
        form = growing_form()

        self._model = QComboBox()
        for spec in MODELS.values():
            # The label's name part ("Linear regression"); its formula is in the line below.
            self._model.addItem(spec.label.split(":")[0], spec.name)
            self._model.setItemData(self._model.count() - 1, spec.label,
                                    Qt.ItemDataRole.ToolTipRole)
        self._model.setToolTip("The model whose loss over its two parameters is drawn")
        self._model.currentIndexChanged.connect(self._on_model_changed)
        self._data = QComboBox()
        self._bundled = set(bundled)
        for name, path in bundled.items():
            self._data.addItem(name, str(path))
        self._data.setToolTip("A bundled data set, or a CSV file you opened")
        # The models' labels are long: the column must not widen to the longest (the tooltip
        # and the loss line under the fields say the rest).
        for combo in (self._model, self._data):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        self._open = QPushButton("Open CSV…")
        self._open.setToolTip("Read your own data: a header row naming the model's columns")
        self._open.clicked.connect(self.ask_open)
        self._show = QPushButton("Show")
        self._show.setToolTip("Draw this model's loss over its parameters; a click trains")
        self._show.clicked.connect(self.apply)
        form.addRow("Model", self._model)
        form.addRow("Data", stretched_row(self._data, self._open))

        self._batch = QSpinBox()
        self._batch.setRange(0, MAX_BATCH)
        self._batch.setSpecialValueText(FULL)  # 0: the whole data set, one step per epoch
        self._batch.setToolTip("Rows per optimiser step; 'full' (0) takes the whole data set "
                               "and runs the controls' step budget")
        self._epochs = QSpinBox()
        self._epochs.setRange(1, MAX_EPOCHS)
        self._epochs.setValue(20)
        self._epochs.setToolTip("Passes over the data of a minibatch run")
        self._seed = QSpinBox()
        self._seed.setRange(0, 2**31 - 1)
        self._seed.setToolTip("The seed of the minibatch order: the same seed, the same path")
        for spin in (self._batch, self._epochs, self._seed):
            spin.valueChanged.connect(self._on_options_edited)
        form.addRow("Batch size", self._batch)
        form.addRow("Epochs", stretched_row(self._epochs, QLabel("Seed"), self._seed))
        self._batch_landscape = QCheckBox("Show this minibatch's landscape")
        self._batch_landscape.setToolTip(
            "Draw the loss of the current step's minibatch alone as faint orange lines on the "
            "map: the step goes downhill on it, not on the full loss")
        self._batch_landscape.toggled.connect(self.batch_landscape_toggled)
        form.addRow(self._batch_landscape)
        form.addRow(self._show)
        layout.addLayout(form)

        self._loss = QLabel()
        self._loss.setWordWrap(True)
        self._loss.setStyleSheet("color: palette(placeholder-text);")
        self._error = error_line()
        layout.addWidget(self._loss)
        layout.addWidget(self._error)
        self._on_model_changed()
        self._on_options_edited()

    # ----- public API -----------------------------------------------------------------------

    def model_name(self) -> str:
        """The chosen model's name."""
        return str(self._model.currentData())

    def data_path(self) -> str:
        """The chosen data file."""
        return str(self._data.currentData() or "")

    def options(self) -> FitOptions:
        """Batch size (None: full), epochs and seed as the fields hold them."""
        batch = self._batch.value()
        return FitOptions(batch or None, self._epochs.value(), self._seed.value())

    def set_options(self, options: FitOptions) -> None:
        """Show these fit options (a session's)."""
        self._batch.setValue(options.batch_size or 0)
        self._epochs.setValue(options.epochs)
        self._seed.setValue(options.seed)

    def batch_landscape_check_box(self) -> QCheckBox:
        """The "show this minibatch's landscape" toggle."""
        return self._batch_landscape

    def select(self, model: str, path: str) -> None:
        """Choose this model and data file in the fields (the file is added if new)."""
        index = self._model.findData(model)
        if index >= 0:
            self._model.setCurrentIndex(index)
        self._select_path(path)

    def apply(self) -> None:
        """Ask for the chosen model on the chosen data."""
        self.clear_error()
        path = self.data_path()
        if path:
            self.model_requested.emit(self.model_name(), path)

    def ask_open(self) -> None:
        """Choose a CSV file in a dialog that opens in the folder of the last one."""
        path = ask_csv(self, self._settings, FOLDER_KEY)
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        """Use this CSV file: remember its folder and ask for the model on it."""
        if self._settings is not None:
            self._settings.setValue(FOLDER_KEY, str(Path(path).parent))
        self.clear_error()
        self.model_requested.emit(self.model_name(), path)

    def data_accepted(self, path: str) -> None:
        """The file was read: list and select it (a file that failed is never listed)."""
        self._select_path(path)

    # ----- slots ----------------------------------------------------------------------------

    def _select_path(self, path: str) -> None:
        index = self._data.findData(path)
        if index < 0:
            self._data.addItem(Path(path).name, path)
            index = self._data.count() - 1
        self._data.setCurrentIndex(index)

    def _on_model_changed(self) -> None:
        spec = MODELS[self.model_name()]
        # A bundled set chosen for the last model gives way to the one made for this model;
        # a CSV the user opened stays.
        suited = self._data.findText(SUITED_DATA.get(spec.name, ""))
        if suited >= 0 and self._data.currentText() in self._bundled:
            self._data.setCurrentIndex(suited)
        self._loss.setText(f"{html.escape(spec.label)}<br>Loss: {html.escape(spec.loss_text)}")

    def _on_options_edited(self) -> None:
        # Epochs and seed matter only to minibatches: the full batch runs the step budget.
        minibatch = self._batch.value() > 0
        self._epochs.setEnabled(minibatch)
        self._seed.setEnabled(minibatch)
        self.options_changed.emit()
