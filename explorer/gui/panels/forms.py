"""Forms, rows and buttons as every panel and tool builds them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QSettings, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QWidget,
)

from explorer.core.methods import help_text, short_label
from explorer.core.optimizers import REGISTRY
from explorer.core.scipy_methods import METHODS


def growing_form(parent: QWidget | None = None) -> QFormLayout:
    """A form whose fields grow to the width of the panel (Qt's default differs by style)."""
    form = QFormLayout(parent)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def form_box(title: str) -> tuple[QGroupBox, QFormLayout]:
    """A titled box holding a growing form."""
    box = QGroupBox(title)
    return box, growing_form(box)


def stretched_row(first: QWidget, *others: QWidget) -> QHBoxLayout:
    """A row: the first widget (a slider, a field) takes the spare width, the others follow."""
    row = QHBoxLayout()
    row.addWidget(first, 1)
    for widget in others:
        row.addWidget(widget)
    return row


def ends_row(first: QWidget, *last: QWidget) -> QHBoxLayout:
    """A row of widgets at their natural widths: the first on the left, the others on the
    right, the spare width between them."""
    row = QHBoxLayout()
    row.addWidget(first)
    row.addStretch(1)
    for widget in last:
        row.addWidget(widget)
    return row


def optimizer_combo(*, scipy: bool = False) -> QComboBox:
    """A list of the optimisers by their short labels ('SGD'), the long one as each item's
    tooltip: it fits a narrow row, never eliding a long label. scipy=True adds the
    scipy.optimize methods after a separator."""
    combo = QComboBox()
    for spec in REGISTRY.values():
        combo.addItem(spec.short_label, spec.name)
        combo.setItemData(combo.count() - 1, spec.label, Qt.ItemDataRole.ToolTipRole)
    if scipy:
        combo.insertSeparator(combo.count())
        for name in METHODS:
            combo.addItem(short_label(name), name)
            tip = f"scipy.optimize: {help_text(name)}"
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
    return combo


def push_button(
    text: str, tip: str, clicked: Callable[[], object], *, default: bool = False
) -> QPushButton:
    """A button with its tooltip, calling clicked when pressed; default: Enter presses it."""
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setDefault(default)
    button.clicked.connect(clicked)
    return button


class _FittedTable(QTableView):
    """A table whose columns fit their texts: the last one takes the spare width, and where
    there is none the table scrolls sideways instead of cutting a text short."""

    def fit(self) -> None:
        """Measure the columns again and stretch the last one only into spare width."""
        header = self.horizontalHeader()
        header.setStretchLastSection(False)
        header.resizeSections(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(header.length() < self.viewport().width())

    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt's name
        """A narrower or wider table: stretch the last column or let it scroll."""
        super().resizeEvent(event)
        self.fit()


def fitted_table(model: QAbstractItemModel) -> QTableView:
    """A read-only table of a few rows whose columns always fit their texts (the last one
    stretches into spare width): a summary such as the basin minima or the race's leaderboard."""
    table = _FittedTable()
    table.setModel(model)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setWordWrap(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    # Rows changed in place (dataChanged) do not make Qt measure the columns again: do it.
    for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved, model.modelReset,
                   model.headerDataChanged):
        signal.connect(table.fit)
    table.fit()
    return table


def error_line() -> QLabel:
    """A red, wrapped, selectable line that says why something was refused; hidden at first."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #d0342c;")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(False)
    return label


def ask_csv(parent: QWidget, settings: QSettings | None, key: str) -> str:
    """A CSV file chosen in a dialog that opens in the folder kept under key ('' if none)."""
    folder = str(settings.value(key, "")) if settings is not None else ""
    path, _ = QFileDialog.getOpenFileName(parent, "Open data", folder,
                                          "CSV files (*.csv);;All files (*)")
    return str(path)


class ErrorMessages:
    """A panel's show_error, clear_error and error_text over its error_line() in _error."""

    _error: QLabel

    def show_error(self, message: str) -> None:
        """Say in one line why the panel's request was refused."""
        self._error.setText(message)
        self._error.setVisible(True)

    def clear_error(self) -> None:
        """Hide the error line."""
        self._error.clear()
        self._error.setVisible(False)

    def error_text(self) -> str:
        """The error shown ('' if none)."""
        return self._error.text()
