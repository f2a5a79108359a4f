"""The contour view: f as a colour map with contour lines, descent paths on top; click to start."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import contourpy
import numpy as np
import pyqtgraph as pg
from numpy.typing import ArrayLike, NDArray
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QLabel, QVBoxLayout, QWidget

from explorer.core.landscape import contour_levels
from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames
from explorer.gui.model.colors import (
    COLORMAP,
    GAP_COLOR,
    OUTLINE_COLOR,
    RGB,
    equal_aspect,
    points_per_path,
    rgba,
)
from explorer.gui.views.clipping import Box, clamp_points
from explorer.gui.views.contour_paths import PathData, PathItems
from explorer.gui.views.crowd import CROWD_PATHS, Crowd, CrowdedView, CrowdHooks
from explorer.gui.views.diverged_marks import DivergedMarks
from explorer.gui.views.figure_names import name_figure
from explorer.gui.views.images import save_widget_png
from explorer.gui.views.log_scale import LogScaled, finite_range
from explorer.gui.views.trail_layer import MarkerStyle, TrailLayer

if TYPE_CHECKING:
    from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent

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
HINT = "click: descend from there  ·  shift+click: add a start  ·  drag: pan  ·  wheel: zoom"
INSPECT_HINT = "inspect mode: click a point to inspect it  ·  press I to descend again"

# Paths farther than this many domain widths away are clipped: Qt refuses huge coordinates.
_CLIP_SPANS = 1e4

# Stacking order, bottom to top.
_Z_GAP, _Z_IMAGE, _Z_CONTOUR, _Z_PENDING, _Z_PATH, _Z_HIGHLIGHT, _Z_TEXT = (
    -20, -10, 1, 5, 10, 50, 100,
)


# Above this many paths, only the selected path is drawn with a halo.
_MAX_HALOED_PATHS = 20  # every path outlined while the colours are all different (PALETTE)


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


class ContourView(LogScaled, CrowdedView, QWidget):
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
        self._names = FUNCTION_AXES
        # Every path, and which of them the crowd draws: past CROWD_PATHS, all but the
        # selected one, by one layer that strokes only what is new since its last paint.
        self._crowd: Crowd[PathData] = Crowd(CrowdHooks(
            draw_alone=self._draw_alone, drop_alone=self._drop_items,
            join=self._join, leave=self._layer_remove, clear=self._clear_layer,
            draw=self._draw_crowd, restyle=self._restyle,
        ), CROWD_PATHS, self)
        self._paths: dict[int, PathItems] = {}  # the paths with items of their own
        self._layer = TrailLayer(markers=MarkerStyle())
        self._layer.setZValue(_Z_PATH + 0.1)  # like a path's line; a selected path is above
        self._layer.hide()
        self._contours: ContourLinesItem | None = None
        self._hovering = False
        self._inspect_mode = False
        self._ctrl_held = False  # on the last mouse move: Ctrl+hover inspects live
        self._hint = HINT

        self._plot = pg.PlotWidget(background=(25, 25, 25))
        self._plot.setAntialiasing(True)
        # The usage hint is a wrapped label above the plot, not the plot's title: pyqtgraph
        # makes a title's whole width the plot's minimum, and on a narrow map that pushed the
        # domain and the colour bar out of sight.
        self._hint_label = QLabel(HINT)
        self._hint_label.setWordWrap(True)
        self._hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint_label.setStyleSheet(
            "QLabel { background: rgb(25, 25, 25); color: rgb(170, 170, 170); padding: 3px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._hint_label)
        layout.addWidget(self._plot, 1)

        item = self._plot.getPlotItem()
        item.setLabel("bottom", FUNCTION_AXES.x)
        item.setLabel("left", FUNCTION_AXES.y)
        item.showGrid(x=False, y=False)
        item.setMenuEnabled(False)
        name_figure(self._plot, "Contour map")
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
            label=FUNCTION_AXES.value,
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
        self._diverged = DivergedMarks(self._plot, _Z_HIGHLIGHT + 1)
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
        self._layer.cut_lines_at(grid.domain)
        self._draw_landscape(log)
        self._view.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0.0)

    def _draw_landscape(self, log: bool) -> None:
        grid = self._grid
        assert grid is not None
        self._log = log
        display = grid.transformed(log)
        low, high = finite_range(display)
        if not high > low:
            low, high = low - 0.5, high + 0.5
        self._image.setImage(display, autoLevels=False, levels=(low, high))
        self._image.setRect(_pixel_rect(grid.xs, grid.ys))
        self._color_bar.setLevels((low, high))
        self._label_color_bar()

        if self._contours is not None:
            self._plot.removeItem(self._contours)
        pen = pg.mkPen(255, 255, 255, 130, width=1)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        levels = contour_levels(grid, CONTOUR_COUNT, log)
        self._contours = ContourLinesItem(grid.xs, grid.ys, display, levels, pen)
        self._contours.setZValue(_Z_CONTOUR)
        self._plot.addItem(self._contours, ignoreBounds=True)

    def set_axis_names(self, x: str, y: str, value: str) -> None:
        """Name the axes and the colour bar: x, y, f(x, y), or a model's parameters and loss."""
        self._names = AxisNames(x, y, value)
        item = self._plot.getPlotItem()
        item.setLabel("bottom", x)
        item.setLabel("left", y)
        self._label_color_bar()

    def axis_names(self) -> AxisNames:
        """What the axes and the colour bar are called now."""
        return self._names

    def _label_color_bar(self) -> None:
        self._color_bar.getAxis("left").setLabel(self._names.scale_title(self._log),
                                                 color="#dddddd")

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
        if self._inspect_mode and text:
            text = INSPECT_HINT
        self._hint_label.setText(text)
        self._hint_label.setVisible(bool(text))

    def hint_text(self) -> str:
        """The usage hint shown above the map ('' when none)."""
        return self._hint_label.text() if self._hint_label.isVisibleTo(self) else ""

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

    def _on_mouse_clicked(self, event: MouseClickEvent) -> None:
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
        elif event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
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
                 current: int | None = None, diverged: str = "") -> None:
        """Draw (or update) a path: a line with step markers, its start and its current point;
        the line is cut where it leaves the domain. diverged: why the path diverged (a red
        cross marks where it was last seen), empty while it has not.

        In a crowd (more than CROWD_PATHS paths) only the selected path has items of its own;
        the others are drawn by the crowd's layer, which repaints at flush() (or soon after,
        by a timer).
        """
        rgb = (int(color[0]), int(color[1]), int(color[2]))
        data = self._crowd.paths.get(path_id)
        new = data is None
        if data is None:
            data = PathData(rgb)
        data.color = rgb
        data.xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        data.current = current
        data.line = data.marks = None
        self._diverged.set(path_id, data.xy, diverged, self._box())
        if self._crowd.put(path_id, data):
            if new and len(self._crowd.paths) == _MAX_HALOED_PATHS + 1:
                self._restyle()  # past the limit: drop the other halos
            self._draw_alone(path_id)

    def _draw_alone(self, path_id: int) -> None:
        """Draw a path with its own items (made if it has none)."""
        data = self._crowd.paths[path_id]
        items = self._paths.get(path_id)
        if items is None:
            items = PathItems.make(self._plot, data.color)
            self._paths[path_id] = items
        items.color = data.color
        moved = items.set_path(*data.shape(points_per_path(self._crowd.count()), self._box()))
        if len(items.marks) and not self._style(path_id, items) and moved:
            items.place_spots()

    def _drop_items(self, path_id: int) -> None:
        items = self._paths.pop(path_id, None)
        if items is not None:
            items.remove_from(self._plot)

    def _box(self) -> Box | None:
        """Where paths are drawn: the domain (None before there is a landscape)."""
        return None if self._grid is None else self._grid.domain

    def _style(self, path_id: int, items: PathItems) -> bool:
        """Apply the normal, highlighted or dimmed look to one path; True if it changed."""
        highlight = self._crowd.highlight
        selected = highlight == path_id
        # Wide antialiased halos cost most of a repaint: with many paths only the selected
        # one keeps its halo (and so do the start and current markers).
        haloed = selected or len(self._crowd.paths) <= _MAX_HALOED_PATHS
        return items.style(selected, highlight is not None and not selected, haloed,
                           _Z_HIGHLIGHT if selected else _Z_PATH)

    def _restyle(self) -> None:
        """The selection (or the number of paths) changed: restyle the paths' own items."""
        for key, items in self._paths.items():
            self._style(key, items)

    def remove_path(self, path_id: int) -> None:
        """Remove one path (unknown ids are ignored)."""
        self._diverged.remove(path_id)
        if (self._crowd.remove(path_id) is not None and not self._crowd.crowded
                and len(self._crowd.paths) == _MAX_HALOED_PATHS):
            self._restyle()  # few enough for halos again

    def clear_paths(self) -> None:
        """Remove every path."""
        self._crowd.clear()
        self._diverged.clear()

    def path_items(self, path_id: int) -> PathItems:
        """The items of one path that has its own (for tests; a crowded path has none)."""
        return self._paths[path_id]

    def path_data(self, path_id: int) -> tuple[FloatArray, FloatArray, RGB]:
        """What one path draws: its line's points (k, 2), its start and current point (2, 2)
        (empty when it has no finite point) and its colour."""
        if path_id not in self._paths and path_id in self._layer.keys():
            line, marks, color = self._layer.trail(path_id)
            return line[np.isfinite(line).all(axis=1)], marks, color
        data = self._crowd.paths[path_id]
        line, marks = data.shape(points_per_path(self._crowd.count()), self._box())
        return line[np.isfinite(line).all(axis=1)], marks.copy(), data.color

    def diverged_marks(self) -> dict[int, tuple[float, float, str]]:
        """Per diverged path: where its red cross is and why it diverged (for tests)."""
        return self._diverged.marks()

    def crowd_layer(self) -> TrailLayer:
        """The layer that draws the crowd (for tests)."""
        return self._layer

    # -- the crowd ---------------------------------------------------------------------------

    def _join(self, path_id: int) -> None:
        data = self._crowd.paths[path_id]
        self._layer.set_trail(path_id, data.xy, data.color, data.current)

    def _layer_remove(self, path_id: int) -> None:
        self._layer.remove_trail(path_id)

    def _clear_layer(self) -> None:
        self._layer.clear()
        self._layer.hide()

    def _draw_crowd(self) -> None:
        # Thin lines: Qt strokes one-pixel antialiased lines many times faster than wider ones.
        alpha = 110 if self._crowd.highlight is not None else 255
        self._layer.show_crowd(alpha, points_per_path(self._crowd.count()))
        self._layer.update()

    def set_pending_starts(self, xy: np.ndarray) -> None:
        """Show starts that are waiting to run as crosses; shape (n, 2), n may be 0."""
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        points = points[np.isfinite(points).all(axis=1)]
        box = self._box()
        self._pending.setData(pos=points if box is None else clamp_points(points, box))

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
