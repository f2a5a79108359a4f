"""Plots that can be saved as figures: each view names its plot, and a right-click offers it.

A view calls name_figure(plot, "Contour map") once. The plot then carries its name (File >
Export figure… lists every named plot on screen) and its right-click menu asks, through one
shared hub, for the window to save it: the views need not know the window, nor the window
every view, including the tools built later.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPoint, Qt, Signal

FIGURE_NAME = "figure_name"


class _FigureHub(QObject):
    """Carries a named plot's right-click to whichever window holds the plot."""

    # The plot (pg.GraphicsView) and the click's position in its viewport.
    menu_requested = Signal(object, QPoint)


HUB = _FigureHub()


def name_figure(plot: pg.GraphicsView, name: str) -> None:
    """Give the plot a figure name and a right-click menu that can save it."""
    plot.setProperty(FIGURE_NAME, name)
    viewport = plot.viewport()
    viewport.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    viewport.customContextMenuRequested.connect(
        lambda pos: HUB.menu_requested.emit(plot, pos))


def figure_name(plot: object) -> str:
    """The plot's figure name ('' if it has none)."""
    if not isinstance(plot, pg.GraphicsView):
        return ""
    name = plot.property(FIGURE_NAME)
    return name if isinstance(name, str) else ""
