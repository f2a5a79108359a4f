"""The contour view's landscape: the colour map, its colour bar, the gap colour and the contour
lines (traced by contourpy), all under the paths."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import contourpy
import numpy as np
import pyqtgraph as pg
from numpy.typing import ArrayLike, NDArray
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from explorer.core.landscape import contour_levels
from explorer.gui.model.colors import COLORMAP, GAP_COLOR
from explorer.gui.views.log_scale import finite_range

if TYPE_CHECKING:
    from explorer.core.landscape import LandscapeGrid

FloatArray = NDArray[np.float64]
# What contourpy's multi_lines gives per level for LineType.ChunkCombinedOffset (it is typed for
# every line type at once): one chunk of points and one of offsets, None where no line is.
_ChunkLines = tuple[list[FloatArray | None], list[NDArray[np.uint32] | None]]

CONTOUR_COUNT = 14
# Contours are traced on every other sample while their lines would have more points than
# this. contourpy traces 14 levels of a 256 x 256 grid in about 3 ms whatever the landscape,
# but a busy one (Rastrigin: 39,000 points) then costs more to build and stroke: its redraw
# took ~17 ms traced whole, ~12 ms on every other sample (~16 ms with the old tracer), with
# cells still a few pixels wide on screen.
CONTOUR_POINT_BUDGET = 16_000
_MIN_TRACE_CELLS = 128  # ...but never on fewer samples than this per axis

# Stacking order, bottom to top (the view's paths and texts lie above, from 5 up).
_Z_GAP, _Z_IMAGE, _Z_CONTOUR = -20, -10, 1


def contour_lines_at(
    xs: FloatArray, ys: FloatArray, z: FloatArray, levels: ArrayLike
) -> list[tuple[FloatArray, NDArray[np.intp]]]:
    """The contour lines of z at each level, by contourpy: per level, the points of all its
    lines (n, 2) in data coordinates and the offsets (m + 1,) where each of its m lines starts.

    z[i, j] is the value at (xs[i], ys[j]). A closed loop repeats its first point at its end.
    Cells with a non-finite corner are left out whole (no corner masking), so that gaps in f
    break the lines there.
    """
    z = np.asarray(z, dtype=np.float64)
    wanted = np.asarray(levels, dtype=np.float64).reshape(-1)
    empty = (np.empty((0, 2)), np.zeros(1, dtype=np.intp))
    if z.ndim != 2 or min(z.shape) < 2 or not np.isfinite(z).any():
        return [empty for _ in wanted]
    # contourpy takes z[row, column] as the value at (x[column], y[row]): z transposed.
    generator = contourpy.contour_generator(
        np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64), z.T,
        name="serial", line_type=contourpy.LineType.ChunkCombinedOffset, corner_mask=False,
    )
    result = []
    for (points,), (offsets,) in cast("list[_ChunkLines]", generator.multi_lines(wanted)):
        if points is None or offsets is None:  # no line at this level
            result.append(empty)
        else:
            result.append((points, offsets.astype(np.intp)))
    return result


def _point_count(lines: list[tuple[FloatArray, NDArray[np.intp]]]) -> int:
    """How many points the lines of contour_lines_at have, all levels together."""
    return sum(len(points) for points, _ in lines)


class ContourLinesItem(pg.GraphicsObject):
    """Every contour line of the landscape as one item: one painter path, one pen, one cache.

    The lines change only with the landscape, so the item keeps its picture in a pixmap at
    screen resolution (DeviceCoordinateCache): while paths animate on top, a repaint blits it
    instead of stroking thousands of segments again.
    """

    def __init__(self, xs: FloatArray, ys: FloatArray, z: FloatArray, levels: FloatArray,
                 pen: object) -> None:
        super().__init__()
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        self.levels = np.asarray(levels, dtype=np.float64)
        self._pen = pen
        step = 1
        if min(z.shape) // 2 >= _MIN_TRACE_CELLS:
            # How busy the lines are, judged on every fourth sample (a sixteenth of the work):
            # a line there has about a quarter as many points.
            probe = contour_lines_at(xs[::4], ys[::4], z[::4, ::4], self.levels)
            estimate = 4 * _point_count(probe)
            while (min(z.shape) // (2 * step) >= _MIN_TRACE_CELLS
                   and estimate > step * CONTOUR_POINT_BUDGET):
                step *= 2
        self.step = step  # the tracing grid takes every step-th sample
        self._lines = contour_lines_at(xs[::step], ys[::step], z[::step, ::step], self.levels)
        self.path = QPainterPath()
        if _point_count(self._lines):
            xy = np.concatenate([points for points, _ in self._lines])
            # Each point joins the next but the last point of each line.
            connect = np.ones(len(xy), dtype=np.int32)
            starts = np.cumsum([0] + [len(points) for points, _ in self._lines[:-1]])
            ends = np.concatenate([start + offsets[1:] - 1
                                   for start, (_, offsets) in zip(starts, self._lines,
                                                                  strict=True)])
            connect[ends] = 0
            self.path = pg.arrayToQPath(xy[:, 0], xy[:, 1], connect=connect, finiteCheck=False)
        self._rect = QRectF(float(xs[0]), float(ys[0]),
                            float(xs[-1] - xs[0]), float(ys[-1] - ys[0]))
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def point_counts(self) -> list[int]:
        """How many points the lines of each level have."""
        return [len(points) for points, _ in self._lines]

    def lines(self, index: int) -> list[FloatArray]:
        """The polylines of level index, each of shape (k, 2)."""
        points, offsets = self._lines[index]
        return np.split(points, offsets[1:-1])

    def boundingRect(self) -> QRectF:  # Qt's name
        """The domain: the lines never leave it."""
        return self._rect

    def paint(self, painter: QPainter, *args: object) -> None:
        """Stroke every line with the one pen (the cache calls this only when it must)."""
        painter.setPen(self._pen)
        painter.drawPath(self.path)


class ContourLandscape:
    """The layers that show f under the paths: gap colour, colour map, colour bar, contours."""

    def __init__(self, plot: pg.PlotWidget, value_label: str) -> None:
        self._plot = plot
        item = plot.getPlotItem()
        self.gap = QGraphicsRectItem()
        self.gap.setBrush(pg.mkBrush(GAP_COLOR))
        self.gap.setPen(pg.mkPen(None))
        self.gap.setZValue(_Z_GAP)
        self.gap.hide()
        item.addItem(self.gap, ignoreBounds=True)

        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setZValue(_Z_IMAGE)
        item.addItem(self.image)
        self.color_bar = pg.ColorBarItem(
            colorMap=pg.colormap.get(COLORMAP),
            label=value_label,
            interactive=False,
            colorMapMenu=False,
            width=18,
        )
        self.color_bar.getAxis("left").setTextPen((220, 220, 220))
        self.color_bar.axis.setTextPen((220, 220, 220))
        self.color_bar.setImageItem(self.image, insert_in=item)
        self.contours: ContourLinesItem | None = None

    def set_domain(self, grid: LandscapeGrid) -> None:
        """Cover the domain with the gap colour where f has gaps (it shows through them)."""
        xmin, xmax, ymin, ymax = grid.domain
        self.gap.setRect(QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
        self.gap.setVisible(grid.has_gaps)

    def draw(self, grid: LandscapeGrid, log: bool, title: str) -> None:
        """Draw f on the linear or log scale: colour map, colour bar titled title, contours."""
        display = grid.transformed(log)
        low, high = finite_range(display)
        if not high > low:
            low, high = low - 0.5, high + 0.5
        self.image.setImage(display, autoLevels=False, levels=(low, high))
        self.image.setRect(_pixel_rect(grid.xs, grid.ys))
        self.color_bar.setLevels((low, high))
        self.set_title(title)

        if self.contours is not None:
            self._plot.removeItem(self.contours)
        pen = pg.mkPen(255, 255, 255, 130, width=1)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        levels = contour_levels(grid, CONTOUR_COUNT, log)
        self.contours = ContourLinesItem(grid.xs, grid.ys, display, levels, pen)
        self.contours.setZValue(_Z_CONTOUR)
        self._plot.addItem(self.contours, ignoreBounds=True)

    def set_title(self, title: str) -> None:
        """Name the colour bar's scale."""
        self.color_bar.getAxis("left").setLabel(title, color="#dddddd")


def _pixel_rect(xs: FloatArray, ys: FloatArray) -> QRectF:
    """The image rectangle that centres pixel (i, j) on the sample (xs[i], ys[j])."""
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
    return QRectF(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)
