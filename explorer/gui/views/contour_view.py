"""The contour view: f as a colour map with contour lines, descent paths on top; click to start."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames
from explorer.gui.model.colors import (
    OUTLINE_COLOR,
    RGB,
    equal_aspect,
    points_per_path,
    rgba,
)
from explorer.gui.views.clipping import Box, clamp_points
from explorer.gui.views.contour_landscape import ContourLandscape, ContourLinesItem
from explorer.gui.views.contour_paths import PathData, PathItems
from explorer.gui.views.crowd import CROWD_PATHS, Crowd, CrowdedView, CrowdHooks
from explorer.gui.views.diverged_marks import DivergedMarks
from explorer.gui.views.figure_names import name_figure
from explorer.gui.views.images import save_widget_png
from explorer.gui.views.log_scale import LogScaled
from explorer.gui.views.map_pointer import MapPointer
from explorer.gui.views.trail_layer import MarkerStyle, TrailLayer

if TYPE_CHECKING:

    from explorer.core.landscape import LandscapeGrid

FloatArray = NDArray[np.float64]

HINT = "click: descend from there  ·  shift+click: add a start  ·  drag: pan  ·  wheel: zoom"
INSPECT_HINT = "inspect mode: click a point to inspect it  ·  press I to descend again"

# Paths farther than this many domain widths away are clipped: Qt refuses huge coordinates.
_CLIP_SPANS = 1e4

# Stacking order, bottom to top, above the landscape's layers (contour_landscape: -20 to 1).
_Z_PENDING, _Z_PATH, _Z_HIGHLIGHT, _Z_TEXT = 5, 10, 50, 100


# Above this many paths, only the selected path is drawn with a halo.
_MAX_HALOED_PATHS = 20  # every path outlined while the colours are all different (PALETTE)


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

        self._landscape = ContourLandscape(self._plot, FUNCTION_AXES.value)

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

        self._pointer = MapPointer(self._plot, self._box, self)
        self._pointer.start_requested.connect(self.start_requested)
        self._pointer.inspect_requested.connect(self.inspect_requested)
        self._pointer.point_hovered.connect(self.point_hovered)
        self._pointer.hover_left.connect(self._on_hover_left)

    # -- landscape ---------------------------------------------------------------------------

    def set_landscape(self, grid: LandscapeGrid, log: bool) -> None:
        """Show a new landscape on the linear or log scale and frame its domain."""
        self._grid = grid
        xmin, xmax, ymin, ymax = grid.domain
        self._landscape.set_domain(grid)
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
        self._landscape.draw(grid, log, self._names.scale_title(log))

    def set_axis_names(self, x: str, y: str, value: str) -> None:
        """Name the axes and the colour bar: x, y, f(x, y), or a model's parameters and loss."""
        self._names = AxisNames(x, y, value)
        item = self._plot.getPlotItem()
        item.setLabel("bottom", x)
        item.setLabel("left", y)
        self._landscape.set_title(self._names.scale_title(self._log))

    def axis_names(self) -> AxisNames:
        """What the axes and the colour bar are called now."""
        return self._names

    def contour_item(self) -> ContourLinesItem | None:
        """The contour lines drawn now, one item for every level (for tests)."""
        return self._landscape.contours

    def image_item(self) -> pg.ImageItem:
        """The colour map image (for tests)."""
        return self._landscape.image

    def color_bar(self) -> pg.ColorBarItem:
        """The colour bar (for tests)."""
        return self._landscape.color_bar

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
        if self._pointer.inspect_mode and text:
            text = INSPECT_HINT
        self._hint_label.setText(text)
        self._hint_label.setVisible(bool(text))

    def hint_text(self) -> str:
        """The usage hint shown above the map ('' when none)."""
        return self._hint_label.text() if self._hint_label.isVisibleTo(self) else ""

    def _on_hover_left(self) -> None:
        self.set_hover_text("")
        self.hover_left.emit()

    def set_inspect_mode(self, on: bool) -> None:
        """In inspect mode a click inspects the point under it instead of starting a descent."""
        self._pointer.inspect_mode = bool(on)
        cursor = Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor
        self._plot.viewport().setCursor(cursor)
        self.set_hint(self._hint)

    def is_inspect_mode(self) -> bool:
        """True while a click inspects instead of starting a descent."""
        return self._pointer.inspect_mode

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

