"""The contour map's paths with items of their own: a line over a dark halo, step markers, and
the start and current spots."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray

from explorer.gui.model.colors import OUTLINE_COLOR, RGB, decimation_indices, rgba
from explorer.gui.views.clipping import Box, clamp_points, clip_polyline
from explorer.gui.views.crowd import current_row
from explorer.gui.views.curves import PiecewiseCurveItem

FloatArray = NDArray[np.float64]

# Step markers only while they can be told apart.
MAX_STEP_MARKERS = 400


@dataclass(eq=False)
class PathData:
    """One path as set_path was given it, kept for every path whether it has items of its own
    or is drawn by the crowd's layer."""

    color: RGB
    xy: FloatArray = field(default_factory=lambda: np.empty((0, 2)))
    current: int | None = None
    # For a path with items of its own: its decimated, clipped points and its start and
    # current point, worked out when it is drawn (None until then).
    line: FloatArray | None = None
    marks: FloatArray | None = None

    def shape(self, limit: int, box: Box | None) -> tuple[FloatArray, FloatArray]:
        """The points to draw (at most limit, cut where they leave box: NaN rows between the
        parts) and the start and current point (moved onto box when outside it)."""
        if self.line is not None and self.marks is not None:
            return self.line, self.marks
        points = self.xy
        rows = np.flatnonzero(np.isfinite(points).all(axis=1))
        if rows.size == 0:
            self.line, self.marks = np.empty((0, 2)), np.empty((0, 2))
        else:
            line = points[rows[decimation_indices(rows.size, limit)]]
            usable = rows[rows <= current_row(len(points), self.current)]
            marks = points[[rows[0], usable[-1] if usable.size else rows[0]]]
            self.line = line if box is None else clip_polyline(line, box)
            self.marks = marks if box is None else clamp_points(marks, box)
        return self.line, self.marks


@dataclass(eq=False)
class PathItems:
    """The items that draw one path, reused while it grows."""

    color: RGB
    halo: pg.PlotCurveItem
    line: pg.PlotCurveItem
    steps: pg.ScatterPlotItem
    # The start ring and the current dot, each over its dark halo: four spots, one item (an
    # item costs a bounding-box query and a paint call of its own on every repaint).
    spots: pg.ScatterPlotItem
    marks: FloatArray = field(default_factory=lambda: np.empty((0, 2)))  # start, current
    look: tuple[object, ...] = ()  # the style applied last, to skip restyling every frame
    # Per spot, in painting order, from style: (0 start or 1 current, size, pen, brush).
    spot_style: list[tuple[int, int, object, object]] = field(default_factory=list)

    @classmethod
    def make(cls, plot: pg.PlotWidget, color: RGB) -> PathItems:
        """New items for a path of this colour, added to the plot."""
        items = cls(
            color=(int(color[0]), int(color[1]), int(color[2])),
            # connect="finite": NaN rows are where the path left the map and came back.
            halo=PiecewiseCurveItem(antialias=False, connect="finite"),
            line=PiecewiseCurveItem(antialias=True, connect="finite"),
            steps=pg.ScatterPlotItem(symbol="o", antialias=True),
            spots=pg.ScatterPlotItem(symbol="o", antialias=True),
        )
        for item in items.items():
            plot.addItem(item, ignoreBounds=True)
        return items

    def items(self) -> tuple[pg.GraphicsObject, ...]:
        """All items, bottom to top."""
        return (self.halo, self.line, self.steps, self.spots)

    def remove_from(self, plot: pg.PlotWidget) -> None:
        """Take every item out of the plot."""
        for item in self.items():
            plot.removeItem(item)

    def set_path(self, drawn: FloatArray, marks: FloatArray) -> bool:
        """Draw a path's points and its start and current point (none: draw nothing); True if
        the start or current point moved."""
        if len(marks) == 0:
            for item in self.items():
                item.setData([], [])
            self.marks = np.empty((0, 2))
            return False
        self.halo.setData(drawn[:, 0], drawn[:, 1])
        self.line.setData(drawn[:, 0], drawn[:, 1])
        if len(drawn) <= MAX_STEP_MARKERS:
            self.steps.setData(pos=drawn[np.isfinite(drawn).all(axis=1)])
        else:
            self.steps.setData([], [])
        old, self.marks = self.marks, marks
        return len(old) != 2 or not np.array_equal(old, marks)

    def place_spots(self) -> None:
        """Put the start and current spots (with halos, when the style has them) in place."""
        if len(self.marks) != 2 or not self.spot_style:
            return
        which, sizes, pens, brushes = zip(*self.spot_style, strict=True)
        self.spots.setData(pos=self.marks[list(which)], size=list(sizes), pen=list(pens),
                           brush=list(brushes))

    def style(self, selected: bool, dimmed: bool, haloed: bool, z: float) -> bool:
        """Apply the normal, highlighted or dimmed look, a halo or none, and the stacking
        order from z up; True if the look changed."""
        look = (self.color, selected, dimmed, haloed)
        if self.look == look:
            return False
        self.look = look
        alpha = 90 if dimmed else 255
        width = 4.0 if selected else 2.5
        color = rgba(self.color, alpha)
        outline = rgba(OUTLINE_COLOR, 60 if dimmed else 170)
        self.halo.setPen(pg.mkPen(outline, width=width + 3.0))
        self.halo.setVisible(haloed)
        self.line.setPen(pg.mkPen(color, width=width))
        self.steps.setPen(pg.mkPen(outline, width=1.0))
        self.steps.setBrush(pg.mkBrush(color))
        self.steps.setSize(6 if selected else 5)
        # The start is a hollow ring, the current point a larger filled dot; both with a dark
        # halo so that they read on every colour of the map.
        size = 15 if selected else 13
        # Spots in painting order: start halo, start ring, current halo, current dot; index
        # 0 of marks is the start, 1 the current point.
        spots = [  # (mark, size, pen, brush, is a halo)
            (0, size, pg.mkPen(outline, width=6.0), pg.mkBrush(None), True),
            (0, size, pg.mkPen(color, width=3.0), pg.mkBrush(None), False),
            (1, size + 5, pg.mkPen(outline, width=1.0), pg.mkBrush(outline), True),
            (1, size + 1, pg.mkPen(rgba((255, 255, 255), alpha), width=1.5), pg.mkBrush(color),
             False),
        ]
        self.spot_style = [spot[:4] for spot in spots if haloed or not spot[4]]
        for offset, item in enumerate(self.items()):
            item.setZValue(z + offset * 0.1)
        self.place_spots()
        return True
