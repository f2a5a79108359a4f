"""The GL items that draw paths on the 3D surface: one path's own, and the crowd's shared ones."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph.opengl as gl
from numpy.typing import NDArray
from pyqtgraph.opengl.GLGraphicsItem import GLGraphicsItem

from explorer.gui.model.colors import OUTLINE_COLOR, RGB, rgba_float
from explorer.gui.views.surface_gl import DEPTH, ON_TOP, SurfaceGLWidget

FloatArray = NDArray[np.float64]

# Up to this many paths the crowd looks like paths of their own (as wide, with the faint
# see-through copy that shows the parts behind hills); more are drawn thinner and without it.
FEW_PATHS = 40


@dataclass(eq=False)
class PathItems:
    """The GL items that draw one path, reused while it grows (also the crowd's items)."""

    color: RGB
    ghost: gl.GLLinePlotItem  # faint, never hidden: shows the parts behind hills
    halo: gl.GLLinePlotItem
    line: gl.GLLinePlotItem
    ghost_start: gl.GLScatterPlotItem  # faint, never hidden
    start_ring: gl.GLScatterPlotItem
    start_centre: gl.GLScatterPlotItem
    current_halo: gl.GLScatterPlotItem  # the current point is never hidden: students follow it
    current_dot: gl.GLScatterPlotItem
    marks: FloatArray = field(default_factory=lambda: np.empty((0, 3)))

    @classmethod
    def make(cls, view: SurfaceGLWidget, color: RGB) -> PathItems:
        """New items for a path of this colour, added to the view."""
        smooth = view.smooth_lines
        items = cls(
            color=(int(color[0]), int(color[1]), int(color[2])),
            ghost=gl.GLLinePlotItem(glOptions=ON_TOP, antialias=smooth),
            halo=gl.GLLinePlotItem(glOptions=DEPTH, antialias=smooth),
            line=gl.GLLinePlotItem(glOptions=DEPTH, antialias=smooth),
            ghost_start=gl.GLScatterPlotItem(glOptions=ON_TOP),
            start_ring=gl.GLScatterPlotItem(glOptions=DEPTH),
            start_centre=gl.GLScatterPlotItem(glOptions=DEPTH),
            current_halo=gl.GLScatterPlotItem(glOptions=ON_TOP),
            current_dot=gl.GLScatterPlotItem(glOptions=ON_TOP),
        )
        for item in items.items():
            view.addItem(item)
        return items

    def items(self) -> tuple[GLGraphicsItem, ...]:
        """All items, bottom to top."""
        return (self.ghost, self.ghost_start, self.halo, self.line, self.start_ring,
                self.start_centre, self.current_halo, self.current_dot)

    def remove_from(self, view: SurfaceGLWidget) -> None:
        """Take every item out of the view."""
        for item in self.items():
            view.removeItem(item)

    def hide(self) -> None:
        """Hide every item (each asks the view to render again)."""
        for item in self.items():
            item.setVisible(False)

    def set_path(self, line: FloatArray, marks: FloatArray) -> None:
        """Draw one path's scene points (a NaN row breaks the line: the path left the box
        there) and its start and current point (empty: nothing to draw)."""
        if len(marks) == 0:
            self.marks = np.empty((0, 3))
            self.hide()
            return
        self.marks = marks
        points = np.asarray(line, dtype=np.float32).reshape(-1, 3)
        if np.isfinite(points).all():
            for item in (self.ghost, self.halo, self.line):
                item.setData(pos=points, mode="line_strip")
            return
        # GL draws each pair of vertices as a segment: pair each point with the next where
        # both are finite.
        follows = np.asarray(np.isfinite(points).all(axis=1))
        follows[:-1] &= follows[1:]
        follows[-1] = False
        first = np.flatnonzero(follows)
        pairs = points[np.stack([first, first + 1], axis=1).ravel()]
        for item in (self.ghost, self.halo, self.line):
            item.setData(pos=pairs, mode="lines")

    def set_marks(self, start: NDArray[np.float32], now: NDArray[np.float32], color: object,
                  alpha: float, size: float, halo: float) -> None:
        """The start ring (this colour, one or per point) around a dark centre, and the
        current point: a dot this much smaller than its dark halo."""
        self.start_ring.setData(pos=start, color=color, size=size)
        self.start_centre.setData(pos=start, color=rgba_float(OUTLINE_COLOR, alpha),
                                  size=size * 0.45)
        self.current_halo.setData(pos=now, color=rgba_float(OUTLINE_COLOR, 0.8 * alpha),
                                  size=size + halo)
        self.current_dot.setData(pos=now, color=color, size=size + 2.0)

    def style(self, selected: bool, dimmed: bool) -> None:
        """Apply the normal, highlighted or dimmed look to one path's items."""
        alpha = 0.3 if dimmed else 1.0
        width = 4.5 if selected else 3.0
        color = self.color
        self.ghost.setData(color=rgba_float(color, 0.12 if dimmed else 0.35), width=width - 1.0)
        self.halo.setData(color=rgba_float(OUTLINE_COLOR, 0.6 * alpha), width=width + 3.0)
        self.line.setData(color=rgba_float(color, alpha), width=width)
        size = 16.0 if selected else 13.0
        start, now = self.marks[:1].astype(np.float32), self.marks[1:].astype(np.float32)
        # The start: a ring (colour around a dark centre); the current point: a larger dot.
        self.ghost_start.setData(pos=start, color=rgba_float(color, 0.12 if dimmed else 0.35),
                                 size=size)
        self.set_marks(start, now, rgba_float(color, alpha), alpha, size, halo=6.0)
        base = 30 if selected else 10
        for offset, item in enumerate(self.items()):
            item.setDepthValue(base + offset)
            item.setVisible(True)


def make_crowd_items(view: SurfaceGLWidget) -> PathItems:
    """The crowd's shared items, colours per vertex. Past FEW_PATHS they have no faint
    see-through copies (ghosts): among many paths those would only blur the picture, and cost
    a third of the drawing."""
    crowd = PathItems.make(view, OUTLINE_COLOR)
    for item in (crowd.ghost, crowd.ghost_start):
        item.setVisible(False)
    for item in (crowd.ghost, crowd.halo, crowd.line):
        item.setData(mode="lines")
    for offset, item in enumerate(crowd.items()):
        item.setDepthValue(10 + offset)  # like a path's items; the selected one above
    return crowd


def _with_alpha(rgb: NDArray[np.float32], alpha: float) -> NDArray[np.float32]:
    return np.column_stack([rgb, np.full(len(rgb), alpha, dtype=np.float32)])


def draw_crowd(crowd: PathItems, members: list[tuple[FloatArray, FloatArray, RGB]],
               dimmed: bool) -> None:
    """Draw the crowd's paths (each its scene points, start and current point, colour) with
    the shared items; dimmed while a path is selected."""
    if not members:
        if any(item.visible() for item in crowd.items()):
            crowd.hide()
        return
    alpha = 0.3 if dimmed else 1.0
    lengths = np.array([len(line) for line, _, _ in members])
    colors = np.array([color for _, _, color in members], dtype=np.float32) / 255.0
    points = np.concatenate([line for line, _, _ in members]).astype(np.float32)
    # GL draws each pair of vertices as a segment: pair every point with the next one on
    # the same path, so that no segment joins two paths.
    follows: NDArray[np.bool_] = np.all(np.isfinite(points), axis=1)
    follows[:-1] &= follows[1:]  # both ends finite (NaN rows: the path breaks there)
    follows[np.cumsum(lengths) - 1] = False
    first = np.flatnonzero(follows)
    pairs = np.stack([first, first + 1], axis=1).ravel()
    point_colors = np.repeat(colors, lengths, axis=0)[pairs]
    marks = np.stack([marks for _, marks, _ in members]).astype(np.float32)

    has_lines = len(pairs) > 0
    few = len(members) <= FEW_PATHS
    width = 3.0 if few else 2.0
    if has_lines:
        ends = points[pairs]
        crowd.halo.setData(pos=ends, color=rgba_float(OUTLINE_COLOR, 0.5 * alpha),
                           width=width + (3.0 if few else 2.0))
        crowd.line.setData(pos=ends, color=_with_alpha(point_colors, alpha), width=width)
        if few:
            crowd.ghost.setData(pos=ends, color=_with_alpha(point_colors, 0.12 if dimmed
                                                            else 0.35), width=width - 1.0)
    for item in (crowd.halo, crowd.line):
        item.setVisible(has_lines)
    crowd.ghost.setVisible(has_lines and few)
    start, now = marks[:, 0], marks[:, 1]
    size = 13.0 if few else 12.0
    crowd.ghost_start.setVisible(few)
    if few:
        crowd.ghost_start.setData(pos=start, color=_with_alpha(colors, 0.12 if dimmed
                                                               else 0.35), size=size)
    crowd.set_marks(start, now, _with_alpha(colors, alpha), alpha, size, halo=5.0)
    for item in (crowd.start_ring, crowd.start_centre, crowd.current_halo, crowd.current_dot):
        item.setVisible(True)
