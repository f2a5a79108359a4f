"""Forms, rows and buttons as every panel and tool builds them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QWidget,
)


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


def push_button(
    text: str, tip: str, clicked: Callable[[], object], *, default: bool = False
) -> QPushButton:
    """A button with its tooltip, calling clicked when pressed; default: Enter presses it."""
    button = QPushButton(text)
    button.setToolTip(tip)
    button.setDefault(default)
    button.clicked.connect(clicked)
    return button


def fitted_table(model: QAbstractItemModel) -> QTableView:
    """A read-only table of a few rows whose columns always fit their texts (the last one
    stretches): a summary such as the basin minima or the race's leaderboard."""
    table = QTableView()
    table.setModel(model)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)

    # Rows changed in place (dataChanged) do not make Qt measure the columns again: do it.
    def fit() -> None:
        header.resizeSections(QHeaderView.ResizeMode.ResizeToContents)

    for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved, model.modelReset):
        signal.connect(fit)
    return table
