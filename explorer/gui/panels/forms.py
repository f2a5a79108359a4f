"""Forms, rows and buttons as every panel and tool builds them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFormLayout, QGroupBox, QHBoxLayout, QPushButton, QWidget


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
