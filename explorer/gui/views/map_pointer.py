"""The mouse over a map's plot, in data coordinates inside the domain: clicks, moves, leaving."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QMouseEvent

if TYPE_CHECKING:
    from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent

    from explorer.gui.views.clipping import Box


class MapPointer(QObject):
    """Turns the mouse over a plot into data points inside the domain: a click starts or
    inspects, a move hovers (and inspects with Ctrl held), leaving the domain or the plot ends
    the hover."""

    start_requested = Signal(float, float, bool)  # x, y, shift held
    # A click in inspect mode, a Ctrl-click, or a move with Ctrl held.
    inspect_requested = Signal(float, float)
    point_hovered = Signal(float, float)
    hover_left = Signal()

    def __init__(self, plot: pg.PlotWidget, domain: Callable[[], Box | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = plot.getPlotItem().getViewBox()
        self._domain = domain
        self.inspect_mode = False  # a click inspects instead of starting a descent
        self._hovering = False
        self._ctrl_held = False  # on the last mouse move: Ctrl+hover inspects live
        scene = plot.scene()
        scene.sigMouseClicked.connect(self._on_mouse_clicked)
        self._move_proxy = pg.SignalProxy(
            scene.sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved, threadSafe=False
        )
        plot.viewport().installEventFilter(self)

    def _data_point(self, scene_pos: QPointF) -> tuple[float, float] | None:
        """The data point under a scene position, or None outside the plot or the domain."""
        domain = self._domain()
        if domain is None or not self._view.sceneBoundingRect().contains(scene_pos):
            return None
        point = self._view.mapSceneToView(scene_pos)
        x, y = point.x(), point.y()
        xmin, xmax, ymin, ymax = domain
        if not (xmin <= x <= xmax and ymin <= y <= ymax):
            return None
        return x, y

    def _on_mouse_clicked(self, event: MouseClickEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        point = self._data_point(event.scenePos())
        if point is None:
            return
        event.accept()
        if self.inspect_mode or event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.inspect_requested.emit(point[0], point[1])
            return
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.start_requested.emit(point[0], point[1], shift)

    def _on_mouse_moved(self, args: tuple[QPointF]) -> None:
        point = self._data_point(args[0])
        if point is None:
            self._leave()
            return
        self._hovering = True
        self.point_hovered.emit(point[0], point[1])
        if self._ctrl_held:
            self.inspect_requested.emit(point[0], point[1])

    def _leave(self) -> None:
        if self._hovering:
            self._hovering = False
            self.hover_left.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        """End the hover when the mouse leaves the plot; note whether Ctrl is held."""
        if event.type() == QEvent.Type.Leave:
            self._leave()
        elif event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            self._ctrl_held = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        return super().eventFilter(watched, event)
