"""The surface view: f as a shaded 3D surface with the descent paths lying on it; click to start."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from numpy.typing import NDArray
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QVector3D
from PySide6.QtWidgets import QVBoxLayout, QWidget

from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames
from explorer.gui.model.colors import (
    COLORMAP,
    GAP_COLOR,
    RGB,
    SURFACE_POINTS_BUDGET,
    decimation_indices,
    points_per_path,
    rgba_float,
)
from explorer.gui.views.crowd import (
    Crowd,
    CrowdedView,
    CrowdHooks,
)
from explorer.gui.views.gl_overlays import AxisLabels, ColorBarOverlay, floor_grid
from explorer.gui.views.log_scale import LogScaled, finite_range
from explorer.gui.views.surface_geometry import (
    SURFACE_HEIGHT,
    HeightField,
    SceneMapping,
    intersect_height_field,
    matrix_to_numpy,
    pick_ray,
    shade,
)
from explorer.gui.views.surface_gl import DEPTH, ON_TOP, SURFACE, SurfaceGLWidget
from explorer.gui.views.surface_paths import PathItems, draw_crowd, make_crowd_items
from explorer.gui.views.surface_placing import PathData, SurfaceScene, place

if TYPE_CHECKING:
    from explorer.core.landscape import LandscapeGrid

FloatArray = NDArray[np.float64]

MAX_SURFACE_POINTS = 128  # per axis: finer meshes slow every redraw in software GL
_COLOR_TABLE = np.asarray(
    pg.colormap.get(COLORMAP).getLookupTable(0.0, 1.0, 1024, alpha=True, mode="float"),
    dtype=np.float32,
)
_FLOOR = -0.02  # the tick grid lies just under the lowest point
_CROSS = 0.025  # half size of a pending-start cross, in scene units

# Above this many paths, all but the selected one are drawn together by eight shared items
# with a colour per vertex ("the crowd"), not eight items each: each GL item costs about 0.3 ms
# a frame in software GL, whatever it draws.
CROWD_PATHS = 4


class SurfaceView(LogScaled, CrowdedView, QWidget):
    """f as a shaded surface coloured like the contour map; paths drawn on it; click to start."""

    start_requested = Signal(float, float, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid: LandscapeGrid | None = None
        self._names = FUNCTION_AXES
        self._log = False
        # Every path (and which of them the crowd draws: past CROWD_PATHS, all but the
        # selected one, by shared items; their scene points are placed together at a flush).
        self._crowd: Crowd[PathData] = Crowd(CrowdHooks(
            draw_alone=self._draw_alone, drop_alone=self._drop_items, join=self._join,
            leave=self._leave, clear=self._clear_crowd, draw=self._draw_crowd,
            restyle=self._restyle,
        ), CROWD_PATHS, self)
        self._paths: dict[int, PathItems] = {}  # the paths with items of their own
        self._crowd_items: PathItems | None = None
        self._stale: dict[int, None] = {}  # crowd paths whose scene points are out of date
        self._scene_id = 0  # bumped whenever the scene mapping changes
        self._scene: SurfaceScene | None = None
        self._pending_xy = np.empty((0, 2))
        self._pending_f = np.empty(0)

        self._gl = SurfaceGLWidget(self)
        self._gl.setBackgroundColor((25, 25, 25))
        self._gl.setMinimumSize(200, 150)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._gl)

        # Lighting is baked into the vertex colours (see shade): no normals to compute on the
        # CPU for every new landscape, which is what makes pyqtgraph's shaded surfaces slow.
        self._surface = gl.GLSurfacePlotItem(computeNormals=False, glOptions=SURFACE)
        self._surface.setDepthValue(0)
        self._surface.hide()
        self._gl.addItem(self._surface)
        self._gl.set_static(self._surface)
        self._floor = gl.GLLinePlotItem(mode="lines", glOptions=DEPTH, antialias=True)
        self._floor.setDepthValue(-5)
        self._gl.addItem(self._floor)
        self._gl.set_static(self._floor)
        self._legend = ColorBarOverlay()
        self._legend.setDepthValue(100)
        # The floor's labels keep clear of the colour bar (a narrow view puts the y axis'
        # labels under it otherwise).
        self._labels = AxisLabels(self._legend)
        self._labels.setDepthValue(90)
        self._gl.addItem(self._labels)
        self._pending = gl.GLLinePlotItem(mode="lines", glOptions=ON_TOP, antialias=True)
        self._pending.setDepthValue(40)
        self._gl.addItem(self._pending)
        self._gl.addItem(self._legend)
        self._gl.clicked.connect(self._on_clicked)

    # -- landscape ---------------------------------------------------------------------------

    def set_landscape(self, grid: LandscapeGrid, log: bool) -> None:
        """Show a new landscape on the linear or log scale and frame the camera on it."""
        self._grid = grid
        self._draw_landscape(log)
        self.reset_camera()
        self._gl.prerender()  # the GL draws the surface while the caller goes on

    def reset_camera(self) -> None:
        """Look at the whole surface from the front left, somewhat above."""
        height = self._scene.mapping.height if self._scene else SURFACE_HEIGHT
        self._gl.setCameraPosition(
            pos=QVector3D(0.06, 0.0, 0.3 * height), distance=2.3, elevation=32, azimuth=-62
        )
        self._gl.setCameraParams(fov=45)

    def _draw_landscape(self, log: bool) -> None:
        grid = self._grid
        assert grid is not None
        self._log = log
        rows = decimation_indices(len(grid.xs), MAX_SURFACE_POINTS)
        cols = decimation_indices(len(grid.ys), MAX_SURFACE_POINTS)
        display = grid.transformed(log)[np.ix_(rows, cols)]
        finite = np.isfinite(display)
        low, high = finite_range(display)
        mapping = SceneMapping(grid.domain, low, high)
        xs, ys = grid.xs[rows], grid.ys[cols]
        scene_x = mapping.to_scene(xs, 0.0, low)[:, 0]
        scene_y = mapping.to_scene(0.0, ys, low)[:, 1]
        heights = mapping.to_scene(0.0, 0.0, np.where(finite, display, low))[..., 2]

        span = high - low if high > low else 1.0
        level = np.clip((np.where(finite, display, low) - low) / span, 0.0, 1.0)
        # A 1024-entry table (ColorMap.map interpolates every vertex: eight times slower).
        colors = _COLOR_TABLE[np.rint(level.ravel() * (len(_COLOR_TABLE) - 1)).astype(np.intp)]
        colors[~finite.ravel()] = rgba_float(GAP_COLOR)
        colors = shade(scene_x, scene_y, heights, colors)
        self._surface.setData(x=scene_x, y=scene_y, z=heights, colors=colors)
        self._surface.show()
        self._draw_axes(mapping)
        self._legend.set_range(low, high, self._names.scale_title(log))
        self._scene_id += 1  # the paths' cached scene points are out of date
        self._scene = SurfaceScene(grid, log, mapping, HeightField(scene_x, scene_y, heights),
                                   self._scene_id)
        for path_id in self._crowd.paths:
            self._redraw(path_id)
        self._draw_pending()

    def _draw_axes(self, mapping: SceneMapping) -> None:
        """Grid lines on the floor at round x and y values, with their labels."""
        lines, labels = floor_grid(mapping, self._names, _FLOOR)
        self._floor.setData(pos=lines, color=(1.0, 1.0, 1.0, 0.22), width=1.0)
        self._labels.set_labels(labels)

    def set_axis_names(self, x: str, y: str, value: str) -> None:
        """Name the floor's axes and the colour bar: x, y, f(x, y), or parameters and loss."""
        self._names = AxisNames(x, y, value)
        self._legend.set_title(self._names.scale_title(self._log))
        if self._scene is not None:
            self._draw_axes(self._scene.mapping)

    def axis_names(self) -> AxisNames:
        """What the axes and the colour bar are called now."""
        return self._names

    def label_texts(self) -> tuple[list[str], str]:
        """The floor's labels and the colour bar's title as drawn (for tests)."""
        return self._labels.texts(), self._legend.title()

    def label_layout(self) -> tuple[list[tuple[str, QRectF]], list[QRectF]]:
        """Where the floor's labels were last painted and what the colour bar covers in the
        view now (its title, its bar and numbers), in the GL widget's pixels (for tests)."""
        return self._labels.drawn_rects(), self._legend.footprint(self._gl.width(),
                                                                  self._gl.height())

    def scene_mapping(self) -> SceneMapping | None:
        """The data <-> scene mapping of the current landscape."""
        return self._scene.mapping if self._scene else None

    def height_field(self) -> HeightField | None:
        """The displayed surface in scene coordinates."""
        return self._scene.field if self._scene else None

    def surface_item(self) -> gl.GLSurfacePlotItem:
        """The surface item (for tests)."""
        return self._surface

    # -- clicks ------------------------------------------------------------------------------

    def pick(self, px: float, py: float) -> tuple[float, float] | None:
        """The data point (x, y) on the surface under widget pixel (px, py), or None."""
        if self._scene is None:
            return None
        width, height = max(self._gl.width(), 1), max(self._gl.height(), 1)
        viewport = (0, 0, width, height)
        projection = matrix_to_numpy(self._gl.projectionMatrix(viewport, viewport))
        view = matrix_to_numpy(self._gl.viewMatrix())
        origin, direction = pick_ray(projection, view, px, py, width, height)
        hit = intersect_height_field(origin, direction, self._scene.field)
        if hit is None:
            return None
        x, y, _ = self._scene.mapping.from_scene(hit)
        xmin, xmax, ymin, ymax = self._scene.mapping.domain
        return float(np.clip(x, xmin, xmax)), float(np.clip(y, ymin, ymax))

    def _on_clicked(self, px: float, py: float, shift: bool) -> None:
        point = self.pick(px, py)
        if point is not None:
            self.start_requested.emit(point[0], point[1], shift)

    # -- paths -------------------------------------------------------------------------------

    def set_path(self, path_id: int, xy: np.ndarray, f: np.ndarray,
                 color: tuple[int, int, int], *, current: int | None = None) -> None:
        """Draw (or update) a path on the surface with its start and current point.

        In a crowd (more than CROWD_PATHS paths) the path is drawn by flush() (or soon after,
        by a timer) together with the others.
        """
        rgb = (int(color[0]), int(color[1]), int(color[2]))
        data = self._crowd.paths.get(path_id) or PathData(rgb)
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        values = np.asarray(f, dtype=np.float64).reshape(-1)
        n = min(len(points), len(values))
        data.color, data.xy, data.f, data.current = rgb, points[:n], values[:n], current
        if self._crowd.put(path_id, data):
            self._draw_alone(path_id)

    def _redraw(self, path_id: int) -> None:
        """Redraw one path now when it has its own items, else at the crowd's next flush."""
        if self._crowd.route(path_id):
            self._draw_alone(path_id)

    def _draw_alone(self, path_id: int) -> None:
        """Place one path and draw it with its own items."""
        data = self._crowd.paths[path_id]
        self._place([data])
        items = self._paths.get(path_id)
        if items is None:
            items = PathItems.make(self._gl, data.color)
            self._paths[path_id] = items
        items.color = data.color
        items.set_path(data.line, data.marks)
        if len(items.marks):
            self._style(path_id, items)

    def _drop_items(self, path_id: int) -> None:
        items = self._paths.pop(path_id, None)
        if items is not None:
            items.remove_from(self._gl)

    def _style(self, path_id: int, items: PathItems) -> None:
        """Apply the normal, highlighted or dimmed look to one path."""
        highlight = self._crowd.highlight
        items.style(highlight == path_id, highlight is not None and highlight != path_id)
        self._gl.update()

    def _restyle(self) -> None:
        """The selection changed: restyle every path with items of its own."""
        for key, items in self._paths.items():
            if len(items.marks):
                self._style(key, items)

    def remove_path(self, path_id: int) -> None:
        """Remove one path (unknown ids are ignored)."""
        self._crowd.remove(path_id)

    def clear_paths(self) -> None:
        """Remove every path."""
        self._crowd.clear()
        self._gl.update()

    def path_items(self, path_id: int) -> PathItems:
        """The items of one path that has its own (for tests; a crowded path has none)."""
        return self._paths[path_id]

    def path_data(self, path_id: int) -> tuple[FloatArray, FloatArray, RGB]:
        """What one path draws, in scene coordinates: its line's points (k, 3), its start and
        current point (2, 3) (empty when nothing is drawn) and its colour. Flushes first."""
        self.flush()
        data = self._crowd.paths[path_id]
        line = data.line[np.isfinite(data.line).all(axis=1)]
        return line.copy(), data.marks.copy(), data.color

    def crowd_items(self) -> PathItems | None:
        """The shared items that draw the crowd (for tests)."""
        return self._crowd_items

    def _place(self, paths: list[PathData]) -> None:
        """Place the paths in the current scene, decimated for the paths shown."""
        place(paths, self._scene, points_per_path(self._crowd.count(), SURFACE_POINTS_BUDGET))

    # -- the crowd ---------------------------------------------------------------------------

    def _join(self, path_id: int) -> None:
        self._stale[path_id] = None  # placed at the next flush, with the others

    def _leave(self, path_id: int) -> None:
        self._stale.pop(path_id, None)

    def _clear_crowd(self) -> None:
        self._stale.clear()
        if self._crowd_items is not None:
            self._crowd_items.hide()

    def _draw_crowd(self) -> None:
        """Place the crowd's changed paths and draw them all with the shared items."""
        paths = self._crowd.paths
        stale, self._stale = self._stale, {}
        self._place([paths[path_id] for path_id in stale if path_id in paths])
        highlight = self._crowd.highlight
        members = [(data.line, data.marks, data.color) for path_id, data in paths.items()
                   if path_id != highlight and len(data.marks)]
        if self._crowd_items is None:
            self._crowd_items = make_crowd_items(self._gl)
        draw_crowd(self._crowd_items, members, dimmed=highlight is not None)
        if members:
            self._gl.update()

    def set_pending_starts(self, xy: np.ndarray, f: np.ndarray) -> None:
        """Show starts that are waiting to run as white crosses on the surface."""
        self._pending_xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self._pending_f = np.asarray(f, dtype=np.float64).reshape(-1)
        self._draw_pending()

    def _draw_pending(self) -> None:
        n = min(len(self._pending_xy), len(self._pending_f))
        xy, f = self._pending_xy[:n], self._pending_f[:n]
        keep = np.isfinite(xy).all(axis=1)
        if self._scene is None or not keep.any():
            self._pending.setVisible(False)
            return
        centres = self._scene.points(xy[keep], f[keep])
        arms = np.array([[-_CROSS, -_CROSS, 0], [_CROSS, _CROSS, 0],
                         [-_CROSS, _CROSS, 0], [_CROSS, -_CROSS, 0]])
        pos = (centres[:, None, :] + arms[None, :, :]).reshape(-1, 3)
        self._pending.setData(pos=pos.astype(np.float32), color=(1.0, 1.0, 1.0, 1.0), width=3.0)
        self._pending.setVisible(True)

    # -- export ------------------------------------------------------------------------------

    def render_image(self) -> object:
        """The current picture as a QImage (renders the GL scene)."""
        return self._gl.grabFramebuffer()

    def save_png(self, path: str) -> None:
        """Save the 3D picture as it looks now as PNG; raise OSError when it cannot be written."""
        image = self._gl.grabFramebuffer()
        if image.isNull():
            raise OSError(f"could not render the 3D view to save it as {path}")
        # PySide6's stub types the format as bytes, but the binding accepts only a str.
        saved = image.save(str(path), "PNG")  # type: ignore[call-overload]  # stub: bytes
        if not saved:
            raise OSError(f"could not write the picture to {path}: check the folder and its rights")

    def gl_widget(self) -> SurfaceGLWidget:
        """The pyqtgraph GL widget (for tests and the window)."""
        return self._gl
