"""Small layout helpers of the window: captions, scroll areas, the how-to box."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QGroupBox,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

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


def splitter(name: str, orientation: Qt.Orientation, widgets: list[QWidget],
             stretch: list[int], sizes: list[int]) -> QSplitter:
    """A named splitter (its state is saved by name) of these widgets."""
    split = QSplitter(orientation)
    split.setObjectName(name)
    for index, widget in enumerate(widgets):
        split.addWidget(widget)
        split.setStretchFactor(index, stretch[index])
    split.setSizes(sizes)
    return split


def central_area(top: list[QWidget], bottom: list[QWidget]) -> list[QSplitter]:
    """The map and the 3D view above, the runs and the plots below: [main, top, bottom]."""
    upper = splitter("top_splitter", Qt.Orientation.Horizontal, top, [4, 3],
                     [11_000, 9_000])  # the map, where most work happens, is wider
    lower = splitter("bottom_splitter", Qt.Orientation.Horizontal, bottom, [1, 1],
                     [12_000, 8_000])
    main = splitter("main_splitter", Qt.Orientation.Vertical, [upper, lower], [3, 1],
                    [6_500, 3_500])
    return [main, upper, lower]


# A page with this property set to True starts as a hidden tab (its owner shows it when used).
HIDDEN_TAB = "hidden_tab"


def tabs(*pages: tuple[QWidget, str]) -> QTabWidget:
    """Pages as tabs with flat (document-mode) tab bars; pages marked HIDDEN_TAB start hidden."""
    widget = QTabWidget()
    widget.setDocumentMode(True)
    for page, title in pages:
        index = widget.addTab(page, title)
        if page.property(HIDDEN_TAB) is True:
            widget.setTabVisible(index, False)
    return widget


def setup_column(*panels: QWidget) -> QScrollArea:
    """The panels one under another with the how-to box, scrolled, as wide as they need."""
    column = QWidget()
    layout = QVBoxLayout(column)
    for panel in panels:
        layout.addWidget(panel)
    layout.addWidget(getting_started())
    layout.addStretch(1)
    scroll = scrolled(column)
    scroll.setMinimumWidth(column.sizeHint().width() + 20)
    return scroll


def left_dock(window: QMainWindow, title: str, name: str, widget: QWidget) -> QDockWidget:
    """A movable dock in the window's left column (its name keys the saved layout)."""
    dock = QDockWidget(title)
    dock.setObjectName(name)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
    dock.setWidget(widget)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    return dock


def placeholder(text: str) -> QLabel:
    """A centred, wrapped label standing where a view will be."""
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)  # it must not widen the view's half of the row
    return label
