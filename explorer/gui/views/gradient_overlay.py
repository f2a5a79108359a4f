"""Gradient arrows on the contour map: grad f and -grad f at the inspected point, and a field of
small -grad f arrows over the domain."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Qt

from explorer.gui.model.colors import OUTLINE_COLOR, RGB, rgba

if TYPE_CHECKING:
    from explorer.core.analysis import GradientField

FloatArray = NDArray[np.float64]

# Uphill and downhill, the same two colours in the panel's polar plot: warm up, cold down.
UP_COLOR: RGB = (255, 99, 71)
DOWN_COLOR: RGB = (90, 210, 255)
FIELD_COLOR = (245, 245, 245, 200)

# The two arrows at the point have a fixed length on screen: their direction is the message,
# and the panel gives |grad f|. Heads are sized in pixels so that they look the same at any
# zoom and aspect ratio.
ARROW_PX = 70.0
HEAD_PX = 12.0
FIELD_HEAD_PX = 6.0
_HEAD_ANGLE = math.radians(26.0)

# Above the contour lines and below the paths (the field); above the paths (the point's arrows).
_Z_FIELD, _Z_ARROWS = 3, 70


def arrow_segments(
    x: FloatArray, y: FloatArray, u: FloatArray, v: FloatArray,
    pixel: tuple[float, float], head_px: FloatArray | float,
) -> FloatArray:
    """Shaft and two head strokes for arrows from (x, y) along (u, v), as pairs of points (6k, 2).

    pixel is the data size of one screen pixel in x and y: the heads are built on screen, so
    they keep their shape whatever the aspect ratio.
    """
    x, y, u, v = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (x, y, u, v))
    pw, ph = pixel
    tip_x, tip_y = x + u, y + v
    # The shaft's direction on screen (the y flip does not matter: both heads are mirrored).
    sx, sy = u / pw, v / ph
    length = np.hypot(sx, sy)
    with np.errstate(invalid="ignore", divide="ignore"):
        ux, uy = np.where(length > 0, -sx / length, 0.0), np.where(length > 0, -sy / length, 0.0)
    head = np.broadcast_to(np.asarray(head_px, dtype=np.float64), x.shape)
    cos, sin = math.cos(_HEAD_ANGLE), math.sin(_HEAD_ANGLE)
    points = [x, y, tip_x, tip_y]
    for sign in (1.0, -1.0):
        hx = (ux * cos - sign * uy * sin) * head * pw
        hy = (sign * ux * sin + uy * cos) * head * ph
        points += [tip_x, tip_y, tip_x + hx, tip_y + hy]
    out = np.stack(points, axis=1).reshape(-1, 2)
    return np.asarray(out, dtype=np.float64)


def pixel_size(view: pg.ViewBox) -> tuple[float, float]:
    """Data units per screen pixel in x and y (a guess before the view has a size)."""
    size = view.viewPixelSize()
    pw, ph = float(size[0]), float(size[1])
    if math.isfinite(pw) and math.isfinite(ph) and pw > 0 and ph > 0:
        return pw, ph
    (x0, x1), (y0, y1) = view.viewRange()
    return (x1 - x0) / 400.0 or 1.0, (y1 - y0) / 400.0 or 1.0


class GradientOverlay(QObject):
    """The inspected point's grad f and -grad f arrows, labelled, and an optional -grad f field."""

    def __init__(self, plot_item: pg.PlotItem) -> None:
        super().__init__(plot_item)
        self._plot = plot_item
        self._view = plot_item.getViewBox()
        self._point: tuple[float, float, float, float] | None = None
        self._field: GradientField | None = None

        self._field_item = _pairs_item(pg.mkPen(FIELD_COLOR, width=1.2), _Z_FIELD)
        self._marker = pg.ScatterPlotItem(
            symbol="o", size=11, pen=pg.mkPen((255, 255, 255), width=2),
            brush=pg.mkBrush(rgba(OUTLINE_COLOR)), antialias=True,
        )
        self._marker.setZValue(_Z_ARROWS + 2)
        halo = pg.mkPen(rgba(OUTLINE_COLOR, 200), width=6.0)
        halo.setCapStyle(Qt.PenCapStyle.RoundCap)
        self._up_halo = _pairs_item(halo, _Z_ARROWS)
        self._down_halo = _pairs_item(halo, _Z_ARROWS)
        self._up = _pairs_item(_arrow_pen(UP_COLOR), _Z_ARROWS + 1)
        self._down = _pairs_item(_arrow_pen(DOWN_COLOR), _Z_ARROWS + 1)
        self._up_label = _label("∇f", UP_COLOR)
        self._down_label = _label("\N{MINUS SIGN}∇f", DOWN_COLOR)
        for item in (self._field_item, self._up_halo, self._down_halo, self._up, self._down,
                     self._marker, self._up_label, self._down_label):
            plot_item.addItem(item, ignoreBounds=True)
        self._set_point_visible(False)
        self._field_item.setVisible(False)
        # Heads and the point's arrows are sized in pixels: redraw when the view changes.
        self._view.sigRangeChanged.connect(self._redraw)
        self._view.sigResized.connect(self._redraw)

    # -- the inspected point -----------------------------------------------------------------

    def set_point(self, x: float, y: float, gx: float, gy: float) -> None:
        """Mark (x, y) and draw grad f and -grad f there (only the mark if it is zero or NaN)."""
        if not (math.isfinite(x) and math.isfinite(y)):
            self.clear_point()
            return
        self._point = (x, y, gx, gy)
        self._draw_point()

    def clear_point(self) -> None:
        """Remove the point and its arrows."""
        self._point = None
        self._set_point_visible(False)

    def point(self) -> tuple[float, float, float, float] | None:
        """(x, y, gx, gy) of the inspected point, or None."""
        return self._point

    # -- the field ---------------------------------------------------------------------------

    def set_field(self, field: GradientField | None) -> None:
        """Draw -grad f arrows at the field's points (None removes them)."""
        self._field = field
        self._draw_field()

    def has_field(self) -> bool:
        """True while the field is drawn."""
        return self._field is not None

    # -- items (for tests) -------------------------------------------------------------------

    def field_item(self) -> pg.PlotCurveItem:
        """The one item that draws every field arrow."""
        return self._field_item

    def arrow_items(self) -> tuple[pg.PlotCurveItem, pg.PlotCurveItem]:
        """The grad f and -grad f arrows."""
        return self._up, self._down

    def label_items(self) -> tuple[pg.TextItem, pg.TextItem]:
        """The "∇f" and "-grad f" labels."""
        return self._up_label, self._down_label

    # -- drawing -----------------------------------------------------------------------------

    def _pixel(self) -> tuple[float, float]:
        return pixel_size(self._view)

    def _redraw(self, *_args: object) -> None:
        if self._point is not None:
            self._draw_point()
        if self._field is not None:
            self._draw_field()

    def _draw_point(self) -> None:
        assert self._point is not None
        x, y, gx, gy = self._point
        self._marker.setData(pos=[(x, y)])
        self._marker.setVisible(True)
        pw, ph = self._pixel()
        sx, sy = gx / pw, gy / ph
        norm = math.hypot(sx, sy)
        if not math.isfinite(norm) or norm == 0.0:
            for item in (self._up_halo, self._down_halo, self._up, self._down,
                         self._up_label, self._down_label):
                item.setVisible(False)
            return
        u, v = sx / norm * ARROW_PX * pw, sy / norm * ARROW_PX * ph
        for sign, line, halo, label in ((1.0, self._up, self._up_halo, self._up_label),
                                        (-1.0, self._down, self._down_halo, self._down_label)):
            xy = arrow_segments(np.array([x]), np.array([y]), np.array([sign * u]),
                                np.array([sign * v]), (pw, ph), HEAD_PX)
            line.setData(xy[:, 0], xy[:, 1])
            halo.setData(xy[:, 0], xy[:, 1])
            # The label just beyond the tip, on the arrow's line.
            reach = (ARROW_PX + 16.0) / ARROW_PX
            label.setPos(x + sign * u * reach, y + sign * v * reach)
            for item in (line, halo, label):
                item.setVisible(True)

    def _draw_field(self) -> None:
        field = self._field
        if field is None or len(field) == 0:
            self._field_item.setData([], [])
            self._field_item.setVisible(field is not None)
            return
        pw, ph = self._pixel()
        shaft_px = np.hypot(field.u / pw, field.v / ph)
        drawn = shaft_px >= 1.0  # shorter than a pixel: nothing to see (a flat spot)
        head = np.minimum(0.4 * shaft_px[drawn], FIELD_HEAD_PX)
        xy = arrow_segments(field.x[drawn], field.y[drawn], field.u[drawn], field.v[drawn],
                            (pw, ph), head)
        self._field_item.setData(xy[:, 0], xy[:, 1])
        self._field_item.setVisible(True)

    def _set_point_visible(self, visible: bool) -> None:
        for item in (self._marker, self._up_halo, self._down_halo, self._up, self._down,
                     self._up_label, self._down_label):
            item.setVisible(visible)


def _arrow_pen(color: RGB) -> object:
    pen = pg.mkPen(color, width=3.0)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def _pairs_item(pen: object, z: float) -> pg.PlotCurveItem:
    """One curve item that draws disjoint segments (pairs of points)."""
    item = pg.PlotCurveItem(pen=pen, connect="pairs", antialias=True)
    item.setZValue(z)
    return item


def _label(text: str, color: RGB) -> pg.TextItem:
    item = pg.TextItem(text, color=color, fill=pg.mkBrush(rgba(OUTLINE_COLOR, 190)),
                       anchor=(0.5, 0.5))
    font = item.textItem.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.15)
    item.setFont(font)
    item.setZValue(_Z_ARROWS + 3)
    return item
