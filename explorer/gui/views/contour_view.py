"""The contour view: f as a colour map with contour lines, descent paths on top; click to start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import contourpy
import numpy as np
import pyqtgraph as pg
from numpy.typing import ArrayLike, NDArray
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QVBoxLayout, QWidget

from explorer.core.landscape import contour_levels
from explorer.gui.model.colors import (
    COLORMAP,
    GAP_COLOR,
    OUTLINE_COLOR,
    RGB,
    decimation_indices,
    equal_aspect,
    points_per_path,
    rgba,
)
from explorer.gui.views.curves import PiecewiseCurveItem
from explorer.gui.views.images import save_widget_png
from explorer.gui.views.trail_layer import MarkerStyle, TrailLayer

if TYPE_CHECKING:
    from explorer.core.landscape import LandscapeGrid

FloatArray = NDArray[np.float64]

CONTOUR_COUNT = 14
# Contours are traced on every other sample while their lines would have more points than
# this. contourpy traces 14 levels of a 256 x 256 grid in about 3 ms whatever the landscape,
# but a busy one (Rastrigin: 39,000 points) then costs more to build and stroke: its redraw
# took ~17 ms traced whole, ~12 ms on every other sample (~16 ms with the old tracer), with
# cells still a few pixels wide on screen.
CONTOUR_POINT_BUDGET = 16_000
_MIN_TRACE_CELLS = 128  # ...but never on fewer samples than this per axis
HINT = "click: descend from there  ·  shift+click: add a start  ·  drag: pan  ·  wheel: zoom"
INSPECT_HINT = "inspect mode: click a point to inspect it  ·  press I to descend again"

# Paths farther than this many domain widths away are clipped: Qt refuses huge coordinates.
_CLIP_SPANS = 1e4
# Step markers only while they can be told apart.
_MAX_STEP_MARKERS = 400

# Stacking order, bottom to top.
_Z_GAP, _Z_IMAGE, _Z_CONTOUR, _Z_PENDING, _Z_PATH, _Z_HIGHLIGHT, _Z_TEXT = (
    -20, -10, 1, 5, 10, 50, 100,
)


# Above this many paths, only the selected path is drawn with a halo.
_MAX_HALOED_PATHS = 12
# Above this many paths, all but the selected one are drawn together by a few shared items
# per colour ("the crowd"): seven items per path would cost ~20 ms each to make and a
# bounding-box query each on every repaint.
CROWD_PATHS = 40


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
    for (points,), (offsets,) in generator.multi_lines(wanted):
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


@dataclass(eq=False)
class _PathData:
    """One path as set_path was given it, kept for every path whether it has items of its own
    or is drawn by the crowd's layer."""

    color: RGB
    xy: FloatArray = field(default_factory=lambda: np.empty((0, 2)))
    current: int | None = None
    # For a path with items of its own: its decimated, clipped points and its start and
    # current point, worked out when it is drawn (None until then).
    line: FloatArray | None = None
    marks: FloatArray | None = None


@dataclass(eq=False)
class _PathItems:
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
    # Per spot, in painting order, from _style: (0 start or 1 current, size, pen, brush).
    spot_style: list[tuple[int, int, object, object]] = field(default_factory=list)

    def items(self) -> tuple[pg.GraphicsObject, ...]:
        """All items, bottom to top."""
        return (self.halo, self.line, self.steps, self.spots)


class ContourView(QWidget):
    """f as a colour map with contour lines and a colour bar; descent paths drawn on top."""

    start_requested = Signal(float, float, bool)
    point_hovered = Signal(float, float)
    # A click in inspect mode, a Ctrl-click, or a move with Ctrl held.
    inspect_requested = Signal(float, float)
    hover_left = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid: LandscapeGrid | None = None
        self._log = False
        self._data: dict[int, _PathData] = {}  # every path, in the order they came
        self._paths: dict[int, _PathItems] = {}  # the paths with items of their own
        self._highlight: int | None = None
        # The crowd: past CROWD_PATHS paths, all but the selected one are drawn by one layer
        # that strokes only what is new since its last paint (see TrailLayer).
        self._expected = 0  # how many paths the window holds (expect_paths)
        self._crowded = False
        self._layer = TrailLayer(markers=MarkerStyle())
        self._layer.setZValue(_Z_PATH + 0.1)  # like a path's line; a selected path is above
        self._layer.hide()
        self._crowd_dirty = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self.flush)
        self._contours: ContourLinesItem | None = None
        self._hovering = False
        self._inspect_mode = False
        self._ctrl_held = False  # on the last mouse move: Ctrl+hover inspects live
        self._hint = HINT

        self._plot = pg.PlotWidget(background=(25, 25, 25))
        self._plot.setAntialiasing(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)

        item = self._plot.getPlotItem()
        item.setLabel("bottom", "x")
        item.setLabel("left", "y")
        item.setTitle(HINT, size="9pt", color=(170, 170, 170))
        item.showGrid(x=False, y=False)
        item.setMenuEnabled(False)
        for name in ("bottom", "left"):
            item.getAxis(name).setTextPen((220, 220, 220))
        self._view = item.getViewBox()

        self._gap = QGraphicsRectItem()
        self._gap.setBrush(pg.mkBrush(GAP_COLOR))
        self._gap.setPen(pg.mkPen(None))
        self._gap.setZValue(_Z_GAP)
        self._gap.hide()
        item.addItem(self._gap, ignoreBounds=True)

        self._image = pg.ImageItem(axisOrder="col-major")
        self._image.setZValue(_Z_IMAGE)
        item.addItem(self._image)
        self._color_bar = pg.ColorBarItem(
            colorMap=pg.colormap.get(COLORMAP),
            label="f(x, y)",
            interactive=False,
            colorMapMenu=False,
            width=18,
        )
        self._color_bar.getAxis("left").setTextPen((220, 220, 220))
        self._color_bar.axis.setTextPen((220, 220, 220))
        self._color_bar.setImageItem(self._image, insert_in=item)

        self._pending = pg.ScatterPlotItem(
            symbol="+", size=18, pen=pg.mkPen(rgba(OUTLINE_COLOR), width=1.5),
            brush=pg.mkBrush(255, 255, 255), antialias=True,
        )
        self._pending.setZValue(_Z_PENDING)
        item.addItem(self._pending, ignoreBounds=True)
        item.addItem(self._layer, ignoreBounds=True)

        self._hover = pg.TextItem(
            "", color=(255, 255, 255), fill=pg.mkBrush(0, 0, 0, 190),
            border=pg.mkPen(255, 255, 255, 90), anchor=(0, 0),
        )
        self._hover.setParentItem(self._view)  # view pixels: stays in the corner when zooming
        self._hover.setPos(8, 8)
        self._hover.setZValue(_Z_TEXT)
        self._hover.hide()

        scene = self._plot.scene()
        scene.sigMouseClicked.connect(self._on_mouse_clicked)
        self._move_proxy = pg.SignalProxy(
            scene.sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved, threadSafe=False
        )
        self._plot.viewport().installEventFilter(self)

    # -- landscape ---------------------------------------------------------------------------

    def set_landscape(self, grid: LandscapeGrid, log: bool) -> None:
        """Show a new landscape on the linear or log scale and frame its domain."""
        self._grid = grid
        xmin, xmax, ymin, ymax = grid.domain
        self._gap.setRect(QRectF(xmin, ymin, xmax - xmin, ymax - ymin))
        self._gap.setVisible(grid.has_gaps)
        self._view.setAspectLocked(equal_aspect(grid.domain), ratio=1.0)
        reach = _CLIP_SPANS * max(xmax - xmin, ymax - ymin)
        self._layer.set_clip((xmin - reach, ymin - reach), (xmax + reach, ymax + reach))
        self._draw_landscape(log)
        self._view.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0.0)

    def set_log_scale(self, log: bool) -> None:
        """Redraw the current landscape on the log or linear scale."""
        if self._grid is None:
            self._log = log
            return
        self._draw_landscape(log)

    def is_log_scale(self) -> bool:
        """True when the colours show log10(f - min)."""
        return self._log

    def _draw_landscape(self, log: bool) -> None:
        grid = self._grid
        assert grid is not None
        self._log = log
        display = grid.transformed(log)
        finite = display[np.isfinite(display)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if not high > low:
            low, high = low - 0.5, high + 0.5
        self._image.setImage(display, autoLevels=False, levels=(low, high))
        self._image.setRect(_pixel_rect(grid.xs, grid.ys))
        self._color_bar.setLevels((low, high))
        label = "log10(f - min)" if log else "f(x, y)"
        self._color_bar.getAxis("left").setLabel(label, color="#dddddd")

        if self._contours is not None:
            self._plot.removeItem(self._contours)
        pen = pg.mkPen(255, 255, 255, 130, width=1)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        levels = contour_levels(grid, CONTOUR_COUNT, log)
        self._contours = ContourLinesItem(grid.xs, grid.ys, display, levels, pen)
        self._contours.setZValue(_Z_CONTOUR)
        self._plot.addItem(self._contours, ignoreBounds=True)

    def contour_item(self) -> ContourLinesItem | None:
        """The contour lines drawn now, one item for every level (for tests)."""
        return self._contours

    def image_item(self) -> pg.ImageItem:
        """The colour map image (for tests)."""
        return self._image

    def color_bar(self) -> pg.ColorBarItem:
        """The colour bar (for tests)."""
        return self._color_bar

    # -- hover and clicks --------------------------------------------------------------------

    def set_hover_text(self, text: str) -> None:
        """Show text in the box in the top-left corner of the plot (empty text hides it)."""
        self._hover.setText(text)
        self._hover.setVisible(bool(text))

    def hover_text(self) -> str:
        """The text in the hover box."""
        return self._hover.toPlainText() if self._hover.isVisible() else ""

    def set_hint(self, text: str) -> None:
        """Replace the usage hint above the plot (empty text removes it)."""
        self._hint = text
        item = self._plot.getPlotItem()
        if self._inspect_mode and text:
            text = INSPECT_HINT
        if text:
            item.setTitle(text, size="9pt", color=(170, 170, 170))
        else:
            item.setTitle(None)

    def _data_point(self, scene_pos: QPointF) -> tuple[float, float] | None:
        """The data point under a scene position, or None outside the plot or the domain."""
        if self._grid is None or not self._view.sceneBoundingRect().contains(scene_pos):
            return None
        point = self._view.mapSceneToView(scene_pos)
        x, y = point.x(), point.y()
        xmin, xmax, ymin, ymax = self._grid.domain
        if not (xmin <= x <= xmax and ymin <= y <= ymax):
            return None
        return x, y

    def _on_mouse_clicked(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        point = self._data_point(event.scenePos())
        if point is None:
            return
        event.accept()
        if self._inspect_mode or event.modifiers() & Qt.KeyboardModifier.ControlModifier:
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
            self.set_hover_text("")
            self.hover_left.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Hide the hover box when the mouse leaves the plot; note whether Ctrl is held."""
        if event.type() == QEvent.Type.Leave:
            self._leave()
        elif event.type() == QEvent.Type.MouseMove:
            self._ctrl_held = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        return super().eventFilter(watched, event)

    def set_inspect_mode(self, on: bool) -> None:
        """In inspect mode a click inspects the point under it instead of starting a descent."""
        self._inspect_mode = bool(on)
        cursor = Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor
        self._plot.viewport().setCursor(cursor)
        self.set_hint(self._hint)

    def is_inspect_mode(self) -> bool:
        """True while a click inspects instead of starting a descent."""
        return self._inspect_mode

    # -- paths -------------------------------------------------------------------------------

    def set_path(self, path_id: int, xy: np.ndarray, color: tuple[int, int, int], *,
                 current: int | None = None) -> None:
        """Draw (or update) a path: a line with step markers, its start and its current point.

        In a crowd (more than CROWD_PATHS paths) only the selected path has items of its own;
        the others are drawn by the crowd's layer, which repaints at flush() (or soon after,
        by a timer).
        """
        rgb = (int(color[0]), int(color[1]), int(color[2]))
        data = self._data.get(path_id)
        if data is None:
            data = _PathData(rgb)
            self._data[path_id] = data
            if len(self._data) == _MAX_HALOED_PATHS + 1 and not self._crowded:
                self.set_highlight(self._highlight)  # past the limit: drop the other halos
        data.color = rgb
        data.xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        data.current = current
        data.line = data.marks = None
        if not self._crowded and len(self._data) > CROWD_PATHS:
            self._enter_crowd()
        if self._crowded and path_id != self._highlight:
            self._layer.set_trail(path_id, data.xy, rgb, current)
            self._crowd_dirty = True
            if not self._flush_timer.isActive():
                self._flush_timer.start()
            return
        items = self._paths.get(path_id)
        if items is None:
            items = self._new_path(rgb)
            self._paths[path_id] = items
        items.color = rgb
        self._draw_items(path_id, data, items)

    def _shape(self, data: _PathData) -> tuple[FloatArray, FloatArray]:
        """A path's points to draw (decimated, clipped) and its start and current point."""
        if data.line is not None and data.marks is not None:
            return data.line, data.marks
        points = data.xy
        rows = np.flatnonzero(np.isfinite(points).all(axis=1))
        if rows.size == 0:
            data.line, data.marks = np.empty((0, 2)), np.empty((0, 2))
        else:
            limit = points_per_path(max(len(self._data), self._expected))
            data.line = self._clip(points[rows[decimation_indices(rows.size, limit)]])
            index = len(points) - 1 if data.current is None else int(data.current)
            index = min(max(index if index >= 0 else len(points) + index, 0), len(points) - 1)
            usable = rows[rows <= index]
            data.marks = self._clip(points[[rows[0], usable[-1] if usable.size else rows[0]]])
        return data.line, data.marks

    def _draw_items(self, path_id: int, data: _PathData, items: _PathItems) -> None:
        """Give a path's own items its data and its look."""
        drawn, marks = self._shape(data)
        if len(marks) == 0:
            for item in items.items():
                item.setData([], [])
            items.marks = np.empty((0, 2))
            return
        items.halo.setData(drawn[:, 0], drawn[:, 1])
        items.line.setData(drawn[:, 0], drawn[:, 1])
        if len(drawn) <= _MAX_STEP_MARKERS:
            items.steps.setData(pos=drawn)
        else:
            items.steps.setData([], [])
        old = items.marks
        moved = len(old) != 2 or not np.array_equal(old, marks)
        items.marks = marks
        if not self._style(path_id, items) and moved:
            self._place_spots(items)

    @staticmethod
    def _place_spots(items: _PathItems) -> None:
        """Put the start and current spots (with halos, when the style has them) in place."""
        if len(items.marks) != 2 or not items.spot_style:
            return
        which, sizes, pens, brushes = zip(*items.spot_style, strict=True)
        items.spots.setData(pos=items.marks[list(which)], size=list(sizes), pen=list(pens),
                            brush=list(brushes))

    def _new_path(self, color: RGB) -> _PathItems:
        items = _PathItems(
            color=(int(color[0]), int(color[1]), int(color[2])),
            halo=PiecewiseCurveItem(antialias=False),
            line=PiecewiseCurveItem(antialias=True),
            steps=pg.ScatterPlotItem(symbol="o", antialias=True),
            spots=pg.ScatterPlotItem(symbol="o", antialias=True),
        )
        for item in items.items():
            self._plot.addItem(item, ignoreBounds=True)
        return items

    def _drop_items(self, path_id: int) -> None:
        items = self._paths.pop(path_id, None)
        if items is not None:
            for item in items.items():
                self._plot.removeItem(item)

    def _clip(self, xy: FloatArray) -> FloatArray:
        if self._grid is None:
            return np.clip(xy, -1e12, 1e12)
        xmin, xmax, ymin, ymax = self._grid.domain
        reach = _CLIP_SPANS * max(xmax - xmin, ymax - ymin)
        low = np.array([xmin - reach, ymin - reach])
        high = np.array([xmax + reach, ymax + reach])
        return np.clip(xy, low, high)

    def _style(self, path_id: int, items: _PathItems) -> bool:
        """Apply the normal, highlighted or dimmed look to one path; True if it changed."""
        selected = self._highlight == path_id
        dimmed = self._highlight is not None and not selected
        # Wide antialiased halos cost most of a repaint: with many paths only the selected
        # one keeps its halo (and so do the start and current markers).
        haloed = selected or len(self._data) <= _MAX_HALOED_PATHS
        look = (items.color, selected, dimmed, haloed)
        if items.look == look:
            return False
        items.look = look
        alpha = 90 if dimmed else 255
        width = 4.0 if selected else 2.5
        color = rgba(items.color, alpha)
        outline = rgba(OUTLINE_COLOR, 60 if dimmed else 170)
        items.halo.setPen(pg.mkPen(outline, width=width + 3.0))
        items.halo.setVisible(haloed)
        items.line.setPen(pg.mkPen(color, width=width))
        items.steps.setPen(pg.mkPen(outline, width=1.0))
        items.steps.setBrush(pg.mkBrush(color))
        items.steps.setSize(6 if selected else 5)
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
        items.spot_style = [spot[:4] for spot in spots if haloed or not spot[4]]
        base = _Z_HIGHLIGHT if selected else _Z_PATH
        for offset, item in enumerate(items.items()):
            item.setZValue(base + offset * 0.1)
        self._place_spots(items)
        return True

    def remove_path(self, path_id: int) -> None:
        """Remove one path (unknown ids are ignored)."""
        data = self._data.pop(path_id, None)
        if data is None:
            return
        if path_id in self._paths:
            self._drop_items(path_id)
        else:
            self._layer.remove_trail(path_id)
        if self._crowded:
            # The crowd is redrawn (or dissolved) once, however many paths go at once.
            if self._highlight == path_id:
                self._highlight = None
            self._crowd_dirty = True
            if not self._flush_timer.isActive():
                self._flush_timer.start()
        elif self._highlight == path_id or len(self._data) == _MAX_HALOED_PATHS:
            self.set_highlight(None if self._highlight == path_id else self._highlight)

    def clear_paths(self) -> None:
        """Remove every path."""
        for path_id in list(self._paths):
            self._drop_items(path_id)
        self._layer.clear()
        self._layer.hide()
        self._data.clear()
        self._crowd_dirty = False
        self._expected = 0
        self._crowded = False
        self._highlight = None
        self._flush_timer.stop()

    def path_ids(self) -> list[int]:
        """The ids of the paths drawn now."""
        return list(self._data)

    def path_items(self, path_id: int) -> _PathItems:
        """The items of one path that has its own (for tests; a crowded path has none)."""
        return self._paths[path_id]

    def path_data(self, path_id: int) -> tuple[FloatArray, FloatArray, RGB]:
        """What one path draws: its line's points (k, 2), its start and current point (2, 2)
        (empty when it has no finite point) and its colour."""
        if path_id not in self._paths and path_id in self._layer.keys():
            line, marks, color = self._layer.trail(path_id)
            return line[np.isfinite(line).all(axis=1)], marks, color
        data = self._data[path_id]
        line, marks = self._shape(data)
        return line.copy(), marks.copy(), data.color

    def is_crowded(self) -> bool:
        """True when the paths but the selected one are drawn by the crowd's layer."""
        return self._crowded

    def crowd_layer(self) -> TrailLayer:
        """The layer that draws the crowd (for tests)."""
        return self._layer

    def set_highlight(self, path_id: int | None) -> None:
        """Draw one path thicker and on top with the others dimmed; None shows all alike."""
        new = path_id if path_id in self._data else None
        old, self._highlight = self._highlight, new
        if not self._crowded:
            for key, items in self._paths.items():
                self._style(key, items)
            return
        if old != new:
            if old is not None and old in self._data:
                self._drop_items(old)  # back into the crowd
                data = self._data[old]
                self._layer.set_trail(old, data.xy, data.color, data.current)
            if new is not None:
                self._layer.remove_trail(new)
                data = self._data[new]
                items = self._new_path(data.color)
                self._paths[new] = items
                self._draw_items(new, data, items)
            self._crowd_dirty = True
        self.flush()

    # -- the crowd ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Repaint the crowd's layer after paths changed (at most once per call)."""
        self._flush_timer.stop()
        if self._crowded and max(len(self._data), self._expected) <= CROWD_PATHS:
            self._leave_crowd()
        if not self._crowded or not self._crowd_dirty:
            return
        self._crowd_dirty = False
        # Thin lines: Qt strokes one-pixel antialiased lines many times faster than wider ones.
        dimmed = self._highlight is not None
        self._layer.set_alpha(110 if dimmed else 255, 110 if dimmed else 255)
        self._layer.set_limit(points_per_path(max(len(self._data), self._expected)))
        self._layer.setVisible(bool(self._layer.keys()))  # shown once it has paths
        self._layer.update()

    def expect_paths(self, count: int) -> None:
        """Say how many paths are coming in all: past CROWD_PATHS the crowd starts now, before
        the first of them gets items of its own only to give them up again."""
        self._expected = int(count)
        if count > CROWD_PATHS and not self._crowded:
            self._enter_crowd()

    def _enter_crowd(self) -> None:
        """Too many paths for items of their own: all but the selected one join the crowd."""
        self._crowded = True
        self._crowd_dirty = True
        for path_id in list(self._paths):
            if path_id != self._highlight:
                self._drop_items(path_id)
        self._layer.clear()
        for path_id, data in self._data.items():
            if path_id != self._highlight:
                self._layer.set_trail(path_id, data.xy, data.color, data.current)
        if self._highlight is not None:
            self._style(self._highlight, self._paths[self._highlight])
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _leave_crowd(self) -> None:
        """Few paths again: each gets its own items back."""
        self._layer.clear()
        self._layer.hide()
        self._crowd_dirty = False
        self._crowded = False
        for path_id, data in self._data.items():
            items = self._paths.get(path_id)
            if items is None:
                items = self._new_path(data.color)
                self._paths[path_id] = items
            items.color = data.color
            items.look = ()
            self._draw_items(path_id, data, items)

    def set_pending_starts(self, xy: np.ndarray) -> None:
        """Show starts that are waiting to run as crosses; shape (n, 2), n may be 0."""
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        points = points[np.isfinite(points).all(axis=1)]
        self._pending.setData(pos=self._clip(points))

    def pending_item(self) -> pg.ScatterPlotItem:
        """The crosses of the pending starts (for tests)."""
        return self._pending

    # -- export ------------------------------------------------------------------------------

    def save_png(self, path: str) -> None:
        """Save the plot as it looks now as a PNG file; raise OSError when it cannot be written."""
        save_widget_png(self._plot, path)

    def plot_widget(self) -> pg.PlotWidget:
        """The pyqtgraph plot (for tests and the window)."""
        return self._plot


def _pixel_rect(xs: FloatArray, ys: FloatArray) -> QRectF:
    """The image rectangle that centres pixel (i, j) on the sample (xs[i], ys[j])."""
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
    return QRectF(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)
