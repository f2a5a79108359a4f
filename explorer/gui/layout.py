"""Small layout helpers of the window: captions, scroll areas, the how-to box."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGroupBox, QLabel, QScrollArea, QVBoxLayout, QWidget

GETTING_STARTED = (
    "<b>Click</b> the contour map or the 3D surface: a descent starts there.<br>"
    "<b>Shift-click</b> adds starts (white crosses); <b>Space</b> runs them together.<br>"
    "<b>Hover</b> the map to read f and its gradient.<br>"
    "<b>Select</b> a row in the table to highlight its path; <b>F1</b> for help."
)


def getting_started() -> QWidget:
    """A short how-to under the controls, for a first-time user."""
    box = QGroupBox("How to")
    label = QLabel(GETTING_STARTED)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    layout = QVBoxLayout(box)
    layout.addWidget(label)
    return box


def titled(title: str, widget: QWidget) -> QWidget:
    """A widget with a small bold caption above it."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.setSpacing(2)
    caption = QLabel(f"<b>{title}</b>")
    # Wrapped: a long caption takes a second line on a narrow view instead of widening it.
    caption.setWordWrap(True)
    layout.addWidget(caption)
    layout.addWidget(widget, 1)
    return box


def scrolled(widget: QWidget, *, framed: bool = True) -> QScrollArea:
    """widget in a vertical scroll area that follows its width (never a sideways bar: the
    widget must fit the width it is given, wrapping its texts)."""
    scroll = QScrollArea()
    scroll.setWidget(widget)
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    if not framed:
        scroll.setFrameShape(QFrame.Shape.NoFrame)
    return scroll
