"""The surface view: f as a shaded 3D surface with the descent paths lying on it; click to start."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from numpy.typing import ArrayLike, NDArray
from OpenGL import GL
from pyqtgraph.opengl import shaders
from pyqtgraph.opengl.GLGraphicsItem import GLGraphicsItem
from pyqtgraph.opengl.items.GLLinePlotItem import GLLinePlotItem
from pyqtgraph.opengl.items.GLScatterPlotItem import GLScatterPlotItem
from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMatrix4x4,
    QMouseEvent,
    QOpenGLContext,
    QPainter,
    QVector3D,
)
from PySide6.QtWidgets import QVBoxLayout, QWidget

from explorer.core.landscape import Domain, to_display
from explorer.gui.model.colors import (
    COLORMAP,
    GAP_COLOR,
    OUTLINE_COLOR,
    RGB,
    SURFACE_POINTS_BUDGET,
    decimation_indices,
    equal_aspect,
    points_per_path,
    rgba_float,
)
from explorer.gui.views.offscreen_gl import OffscreenGLWidget
from explorer.gui.views.trail_layer import grew_from, mark_rows, trail_stride

if TYPE_CHECKING:
    from explorer.core.landscape import LandscapeGrid

FloatArray = NDArray[np.float64]

# pyqtgraph compiles each shader once per process and reuses it in every GL widget: that only
# works when all widgets share one context, which Qt arranges if told before the app starts.
if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

SURFACE_HEIGHT = 0.5  # the surface's height as a fraction of its width
MAX_SURFACE_POINTS = 128  # per axis: finer meshes slow every redraw in software GL
_COLOR_TABLE = np.asarray(
    pg.colormap.get(COLORMAP).getLookupTable(0.0, 1.0, 1024, alpha=True, mode="float"),
    dtype=np.float32,
)
# Renderer names of software OpenGL (lowercase), where smooth lines are slow.
SOFTWARE_GL = ("llvmpipe", "softpipe", "software", "swrast", "lavapipe")
CLICK_SLOP = 4.0  # pixels the mouse may move between press and release and still click
_LIFT = 0.006  # paths float this far above the surface so that it does not hide them
_FLOOR = -0.02  # the tick grid lies just under the lowest point
_CROSS = 0.025  # half size of a pending-start cross, in scene units

_DEPTH = {GL.GL_DEPTH_TEST: True, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
          "glBlendFuncSeparate": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA,
                                  GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA),
          "glDepthFunc": (GL.GL_LEQUAL,)}
_ON_TOP = {**_DEPTH, GL.GL_DEPTH_TEST: False}
_SURFACE = {GL.GL_DEPTH_TEST: True, GL.GL_BLEND: False, GL.GL_CULL_FACE: False,
            "glDepthFunc": (GL.GL_LEQUAL,),
            # Push the surface back a little so that lines lying on it win the depth test.
            GL.GL_POLYGON_OFFSET_FILL: True, "glPolygonOffset": (1.0, 1.0)}


# -- geometry: data <-> scene, picking ----------------------------------------------------------


@dataclass(frozen=True)
class SceneMapping:
    """The one place that maps data (x, y, display value) to scene coordinates and back.

    x and y go to a box of width at most 1 centred on the origin (to scale when the domain is not
    too elongated); display values go linearly to 0 .. SURFACE_HEIGHT.
    """

    domain: Domain
    low: float
    high: float

    @property
    def scale(self) -> tuple[float, float]:
        """Scene units per data unit along x and y."""
        xmin, xmax, ymin, ymax = self.domain
        if equal_aspect(self.domain):
            s = 1.0 / max(xmax - xmin, ymax - ymin)
            return s, s
        return 1.0 / (xmax - xmin), 1.0 / (ymax - ymin)

    @property
    def centre(self) -> tuple[float, float]:
        """The domain's centre, which goes to the scene origin."""
        xmin, xmax, ymin, ymax = self.domain
        return (xmin + xmax) / 2.0, (ymin + ymax) / 2.0

    @property
    def extent(self) -> tuple[float, float]:
        """Half the scene width and depth of the domain."""
        xmin, xmax, ymin, ymax = self.domain
        sx, sy = self.scale
        return (xmax - xmin) * sx / 2.0, (ymax - ymin) * sy / 2.0

    @property
    def height(self) -> float:
        """The scene height of the highest display value."""
        return SURFACE_HEIGHT * 2.0 * max(self.extent)

    def to_scene(self, x: ArrayLike, y: ArrayLike, d: ArrayLike) -> FloatArray:
        """Data points (x, y, display value) -> scene points, shape (..., 3)."""
        (cx, cy), (sx, sy) = self.centre, self.scale
        span = self.high - self.low if self.high > self.low else 1.0
        sz = (np.asarray(d, dtype=np.float64) - self.low) / span * self.height
        return np.stack(np.broadcast_arrays(
            (np.asarray(x, dtype=np.float64) - cx) * sx,
            (np.asarray(y, dtype=np.float64) - cy) * sy,
            sz,
        ), axis=-1)

    def from_scene(self, points: ArrayLike) -> FloatArray:
        """Scene points (..., 3) -> data points (x, y, display value)."""
        p = np.asarray(points, dtype=np.float64)
        (cx, cy), (sx, sy) = self.centre, self.scale
        span = self.high - self.low if self.high > self.low else 1.0
        return np.stack(
            [p[..., 0] / sx + cx, p[..., 1] / sy + cy, p[..., 2] / self.height * span + self.low],
            axis=-1,
        )



@dataclass(frozen=True, eq=False)
class HeightField:
    """A surface z = h(x, y) sampled on a grid, in scene coordinates (h[i, j] at xs[i], ys[j])."""

    xs: FloatArray
    ys: FloatArray
    heights: FloatArray

    def height_at(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Bilinear height at scene points; NaN outside the grid."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        xs, ys, h = self.xs, self.ys, self.heights
        inside = (x >= xs[0]) & (x <= xs[-1]) & (y >= ys[0]) & (y <= ys[-1])
        i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
        j = np.clip(np.searchsorted(ys, y, side="right") - 1, 0, len(ys) - 2)
        tx = np.clip((x - xs[i]) / (xs[i + 1] - xs[i]), 0.0, 1.0)
        ty = np.clip((y - ys[j]) / (ys[j + 1] - ys[j]), 0.0, 1.0)
        value = (
            h[i, j] * (1 - tx) * (1 - ty)
            + h[i + 1, j] * tx * (1 - ty)
            + h[i, j + 1] * (1 - tx) * ty
            + h[i + 1, j + 1] * tx * ty
        )
        return np.where(inside, value, np.nan)


def matrix_to_numpy(matrix: object) -> FloatArray:
    """A QMatrix4x4 as a 4x4 numpy array (row-major, acting on column vectors)."""
    return np.array(matrix.data(), dtype=np.float64).reshape(4, 4).T  # type: ignore[attr-defined]


def pick_ray(
    projection: FloatArray, view: FloatArray, px: float, py: float, width: float, height: float
) -> tuple[FloatArray, FloatArray]:
    """The ray through widget pixel (px, py): origin on the near plane and unit direction."""
    ndc_x = 2.0 * px / width - 1.0
    ndc_y = 1.0 - 2.0 * py / height
    inverse = np.linalg.inv(projection @ view)
    near = inverse @ np.array([ndc_x, ndc_y, -1.0, 1.0])
    far = inverse @ np.array([ndc_x, ndc_y, 1.0, 1.0])
    near = near[:3] / near[3]
    far = far[:3] / far[3]
    direction = far - near
    return near, direction / np.linalg.norm(direction)


def intersect_height_field(
    origin: FloatArray, direction: FloatArray, surface: HeightField, samples: int | None = None
) -> FloatArray | None:
    """The first point where the ray meets the surface, or None when it misses.

    March along the ray inside the surface's bounding box, then bisect the first step where the
    ray passes from above the surface to below it.
    """
    origin = np.asarray(origin, dtype=np.float64)
    direction = np.asarray(direction, dtype=np.float64)
    finite = surface.heights[np.isfinite(surface.heights)]
    if finite.size == 0:
        return None
    low = np.array([surface.xs[0], surface.ys[0], float(finite.min())])
    high = np.array([surface.xs[-1], surface.ys[-1], float(finite.max())])
    # Slab test: the stretch of the ray inside the bounding box.
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (low - origin) / direction
        t2 = (high - origin) / direction
    t1 = np.where(direction == 0.0, np.where((origin >= low) & (origin <= high), -np.inf, np.inf),
                  t1)
    t2 = np.where(direction == 0.0, np.where((origin >= low) & (origin <= high), np.inf, -np.inf),
                  t2)
    t_enter = max(float(np.max(np.minimum(t1, t2))), 0.0)
    t_exit = float(np.min(np.maximum(t1, t2)))
    if not t_exit >= t_enter:
        return None
    steps = samples or 4 * max(len(surface.xs), len(surface.ys))
    t = np.linspace(t_enter, t_exit, steps + 1)
    points = origin + t[:, None] * direction
    gap = points[:, 2] - surface.height_at(points[:, 0], points[:, 1])
    below = np.flatnonzero(gap <= 0.0)
    if below.size == 0:
        return None
    k = int(below[0])
    if k == 0:
        return points[0]
    a, b = t[k - 1], t[k]
    for _ in range(50):
        mid = 0.5 * (a + b)
        p = origin + mid * direction
        g = p[2] - surface.height_at(p[0:1], p[1:2])[0]
        if g > 0.0:
            a = mid
        elif g <= 0.0:
            b = mid
        else:  # NaN: a gap in the surface; keep the last point known to be below
            break
    return origin + b * direction


# Light from above, over the viewer's left shoulder at the default camera angle.
_LIGHT = np.array([-0.3, -0.55, 0.8]) / np.linalg.norm([-0.3, -0.55, 0.8])


def shade(xs: FloatArray, ys: FloatArray, heights: FloatArray, colors: NDArray[np.float32]
          ) -> NDArray[np.float32]:
    """Colours (nx * ny, 4) darkened by diffuse light on the surface's slopes, plus ambient."""
    if len(xs) < 2 or len(ys) < 2:
        return colors
    dz_dx, dz_dy = np.gradient(heights, xs, ys)
    normal = np.stack([-dz_dx, -dz_dy, np.ones_like(heights)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    light = np.clip(normal @ _LIGHT, 0.0, 1.0).reshape(-1, 1)
    shaded = colors.copy()
    shaded[:, :3] = np.clip(colors[:, :3] * (0.45 + 0.7 * light), 0.0, 1.0)
    return shaded


def nice_ticks(low: float, high: float, count: int = 5) -> FloatArray:
    """About count round values (1, 2 or 5 times a power of ten) between low and high."""
    if not high > low:
        return np.array([low])
    raw = (high - low) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = np.arange(first, high + step * 1e-9, step)
    return np.where(np.abs(ticks) < step * 1e-9, 0.0, ticks)


def _tick_text(value: float) -> str:
    return f"{value:.4g}"


# -- the GL widget ------------------------------------------------------------------------------


def _forget_compiled_shaders() -> None:
    """Drop pyqtgraph's compiled programs, which belong to another (unshared) GL context."""
    GLLinePlotItem._shaderProgram = None
    GLScatterPlotItem._shaderProgram = None
    for program in shaders.ShaderProgram.names.values():
        program.prog = None


class SurfaceGLWidget(OffscreenGLWidget):
    """The 3D view's GL widget; it tells a click (press and release in place) from a camera drag."""

    clicked = Signal(float, float, bool)  # widget pixel x, y; shift held

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._press: QPointF | None = None
        # Smooth (antialiased) GL lines, unless the GL turns out to be software rendering.
        self.smooth_lines = True

    def initializeGL(self) -> None:
        """Set up GL; without context sharing, recompile pyqtgraph's shaders for this context.

        Software GL (Mesa's llvmpipe, on machines without a GPU or under Xvfb) draws smooth
        lines several times slower than plain ones: a hundred paths took 90 ms a frame. There
        the lines are drawn plain.
        """
        context = QOpenGLContext.currentContext()
        shared = QOpenGLContext.globalShareContext()
        if shared is None or context is None or not QOpenGLContext.areSharing(context, shared):
            _forget_compiled_shaders()
        super().initializeGL()
        renderer = GL.glGetString(GL.GL_RENDERER)
        name = renderer.decode(errors="replace").lower() if isinstance(renderer, bytes) else ""
        self.smooth_lines = not any(word in name for word in SOFTWARE_GL)
        for item in self.items:  # those added later read smooth_lines when they are made
            if isinstance(item, GLLinePlotItem):
                item.antialias = self.smooth_lines
        # Compile the path items' shaders now, not in the first frame of the first run.
        GLLinePlotItem.getShaderProgram()
        GLScatterPlotItem.getShaderProgram()

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        """Remember where a left press began."""
        if ev.button() == Qt.MouseButton.LeftButton:
            self._press = ev.position()
        super().mousePressEvent(ev)

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        """Emit clicked when the left button comes up where it went down."""
        press, self._press = self._press, None
        if ev.button() == Qt.MouseButton.LeftButton and press is not None:
            moved = ev.position() - press
            if abs(moved.x()) + abs(moved.y()) <= CLICK_SLOP:
                shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                self.clicked.emit(ev.position().x(), ev.position().y(), shift)
        super().mouseReleaseEvent(ev)


class ColorBarOverlay(GLGraphicsItem):
    """A 2D colour bar painted over the GL scene at the right edge, like the contour view's."""

    def __init__(self) -> None:
        super().__init__()
        self.setGLOptions(_ON_TOP)
        self._low, self._high, self._title = 0.0, 1.0, ""
        self._gradient = pg.colormap.get(COLORMAP).getGradient()
        self._text = TextImages()

    def set_range(self, low: float, high: float, title: str) -> None:
        """The values at the bottom and top of the bar, and its title."""
        self._low, self._high, self._title = float(low), float(high), title
        self.update()

    def title(self) -> str:
        """The bar's title."""
        return self._title

    def paint(self) -> None:
        """Nothing in GL: see paint_overlay."""

    def paint_overlay(self, painter: QPainter) -> None:
        """Draw the bar, its ticks and its title with QPainter over the GL picture."""
        if not self._title:
            return
        view = self.view()
        width, height = view.width(), view.height()
        bar = QRectF(width - 74, 40, 14, max(height - 90, 40))
        painter.setRenderHints(QPainter.RenderHint.Antialiasing)
        self._gradient.setStart(bar.bottomLeft())
        self._gradient.setFinalStop(bar.topLeft())
        painter.fillRect(bar, self._gradient)
        painter.setPen(QColor(220, 220, 220))
        painter.drawRect(bar)
        light = (220, 220, 220)
        title_width = self._text.metrics.horizontalAdvance(self._title)
        self._text.draw(painter, QPointF(min(bar.left(), width - 6 - title_width),
                                         bar.top() - 12), self._title, light)
        span = self._high - self._low
        if span > 0:
            for value in nice_ticks(self._low, self._high):
                y = bar.bottom() - (value - self._low) / span * bar.height()
                painter.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 4, y))
                self._text.draw(painter, QPointF(bar.right() + 7, y + 4), _tick_text(value),
                                light)


class TextImages:
    """Text for QPainter over GL: each (text, colour) drawn once into a small image.

    Text drawn straight onto the GL widget costs about a millisecond a call in software GL;
    an image is kept as a texture by the GL painter, so later frames only place it.
    """

    def __init__(self, point_size: int = 9) -> None:
        self.font = QFont()
        self.font.setPointSize(point_size)
        self.metrics = QFontMetrics(self.font)
        self._images: dict[tuple[str, RGB, float], QImage] = {}

    def draw(self, painter: QPainter, baseline: QPointF, text: str, color: RGB) -> None:
        """Draw text with its baseline starting at baseline, as painter.drawText would."""
        device = painter.device()
        ratio = float(device.devicePixelRatioF()) if device is not None else 1.0
        key = (text, (int(color[0]), int(color[1]), int(color[2])), ratio)
        image = self._images.get(key)
        if image is None:
            width = max(self.metrics.horizontalAdvance(text), 1) + 2
            image = QImage(math.ceil(width * ratio), math.ceil(self.metrics.height() * ratio),
                           QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(ratio)
            image.fill(0)
            text_painter = QPainter(image)
            text_painter.setRenderHints(QPainter.RenderHint.Antialiasing
                                        | QPainter.RenderHint.TextAntialiasing)
            text_painter.setFont(self.font)
            text_painter.setPen(QColor(*key[1]))
            text_painter.drawText(QPointF(1.0, self.metrics.ascent()), text)
            text_painter.end()
            if len(self._images) > 512:  # labels of landscapes long gone
                self._images.clear()
            self._images[key] = image
        painter.drawImage(baseline - QPointF(1.0, self.metrics.ascent()), image)


class AxisLabels(GLGraphicsItem):
    """The floor grid's tick labels, painted with one QPainter over the GL picture (pyqtgraph's
    GLTextItem opens a painter and draws text for each label: see TextImages)."""

    def __init__(self) -> None:
        super().__init__()
        self._labels: list[tuple[FloatArray, str, RGB]] = []
        self._text = TextImages()

    def set_labels(self, labels: list[tuple[FloatArray, str, RGB]]) -> None:
        """Each label: its scene position, its text and its colour."""
        self._labels = list(labels)
        self.update()

    def paint(self) -> None:
        """Nothing in GL: see paint_overlay."""

    def paint_overlay(self, painter: QPainter) -> None:
        """Project every label to the screen and draw them all with the painter."""
        if not self._labels:
            return
        view = self.view()
        rect = QRectF(view.rect())
        to_screen = QMatrix4x4()
        to_screen.viewport(rect.left(), rect.bottom(), rect.width(), -rect.height())
        region = view.getViewport()
        project = to_screen * view.projectionMatrix(region, region) * view.viewMatrix()
        for pos, text, color in self._labels:
            point = project.map(QVector3D(float(pos[0]), float(pos[1]), float(pos[2])))
            self._text.draw(painter, point.toPointF(), text, color)


# -- the view -----------------------------------------------------------------------------------


# Above this many paths, all but the selected one are drawn together by eight shared items
# with a colour per vertex ("the crowd"), not eight items each: each GL item costs about 0.3 ms
# a frame in software GL, whatever it draws.
CROWD_PATHS = 4
# Up to this many paths the crowd looks like paths of their own (as wide, with the faint
# see-through copy that shows the parts behind hills); more are drawn thinner and without it.
FEW_PATHS = 40


@dataclass(eq=False)
class _PathData:
    """What set_path was given for one path, and where it lies in the scene."""

    color: RGB
    # Kept to redraw the path when the landscape or the scale changes.
    xy: FloatArray = field(default_factory=lambda: np.empty((0, 2)))
    f: FloatArray = field(default_factory=lambda: np.empty(0))
    current: int | None = None
    line: FloatArray = field(default_factory=lambda: np.empty((0, 3)))  # scene points drawn
    marks: FloatArray = field(default_factory=lambda: np.empty((0, 3)))  # start, current
    # The scene points of rows 0, s, 2s, ... (s = stride), kept while the path grows: each
    # frame only the new rows are placed. Valid for one scene (see SurfaceView._scene_id).
    kept: FloatArray = field(default_factory=lambda: np.empty((0, 3)))
    stride: int = 0
    scene_id: int = -1
    start: list[float] = field(default_factory=list)  # xy of row 0 when last placed
    last: list[float] = field(default_factory=list)  # xy of the last kept row


@dataclass(eq=False)
class _PathItems:
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

    def items(self) -> tuple[GLGraphicsItem, ...]:
        """All items, bottom to top."""
        return (self.ghost, self.ghost_start, self.halo, self.line, self.start_ring,
                self.start_centre, self.current_halo, self.current_dot)


class SurfaceView(QWidget):
    """f as a shaded surface coloured like the contour map; paths drawn on it; click to start."""

    start_requested = Signal(float, float, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid: LandscapeGrid | None = None
        self._log = False
        self._mapping: SceneMapping | None = None
        self._field: HeightField | None = None
        self._data: dict[int, _PathData] = {}  # every path, in the order they came
        self._paths: dict[int, _PathItems] = {}  # the paths with items of their own
        self._highlight: int | None = None
        # The crowd: past CROWD_PATHS paths, all but the selected one are drawn by shared
        # items; their scene points are computed together, at most once per flush.
        self._expected = 0  # how many paths the window holds (expect_paths)
        self._crowded = False
        self._crowd: _PathItems | None = None
        self._stale: dict[int, None] = {}  # crowd paths whose scene points are out of date
        self._crowd_dirty = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self.flush)
        self._scene_id = 0  # bumped whenever the scene mapping changes
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
        self._surface = gl.GLSurfacePlotItem(computeNormals=False, glOptions=_SURFACE)
        self._surface.setDepthValue(0)
        self._surface.hide()
        self._gl.addItem(self._surface)
        self._gl.set_static(self._surface)
        self._floor = gl.GLLinePlotItem(mode="lines", glOptions=_DEPTH, antialias=True)
        self._floor.setDepthValue(-5)
        self._gl.addItem(self._floor)
        self._gl.set_static(self._floor)
        self._labels = AxisLabels()
        self._labels.setDepthValue(90)
        self._gl.addItem(self._labels)
        self._pending = gl.GLLinePlotItem(mode="lines", glOptions=_ON_TOP, antialias=True)
        self._pending.setDepthValue(40)
        self._gl.addItem(self._pending)
        self._legend = ColorBarOverlay()
        self._legend.setDepthValue(100)
        self._gl.addItem(self._legend)
        self._gl.clicked.connect(self._on_clicked)

    # -- landscape ---------------------------------------------------------------------------

    def set_landscape(self, grid: LandscapeGrid, log: bool) -> None:
        """Show a new landscape on the linear or log scale and frame the camera on it."""
        self._grid = grid
        self._draw_landscape(log)
        self.reset_camera()
        self._gl.prerender()  # the GL draws the surface while the caller goes on

    def set_log_scale(self, log: bool) -> None:
        """Redraw the current landscape (and paths) on the log or linear scale."""
        if self._grid is None:
            self._log = log
            return
        self._draw_landscape(log)

    def is_log_scale(self) -> bool:
        """True when heights show log10(f - min)."""
        return self._log

    def reset_camera(self) -> None:
        """Look at the whole surface from the front left, somewhat above."""
        height = self._mapping.height if self._mapping else SURFACE_HEIGHT
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
        values = display[finite]
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        mapping = SceneMapping(grid.domain, low, high)
        self._mapping = mapping
        xs, ys = grid.xs[rows], grid.ys[cols]
        scene_x = mapping.to_scene(xs, 0.0, low)[:, 0]
        scene_y = mapping.to_scene(0.0, ys, low)[:, 1]
        heights = mapping.to_scene(0.0, 0.0, np.where(finite, display, low))[..., 2]
        self._field = HeightField(scene_x, scene_y, heights)

        span = high - low if high > low else 1.0
        level = np.clip((np.where(finite, display, low) - low) / span, 0.0, 1.0)
        # A 1024-entry table (ColorMap.map interpolates every vertex: eight times slower).
        colors = _COLOR_TABLE[np.rint(level.ravel() * (len(_COLOR_TABLE) - 1)).astype(np.intp)]
        colors[~finite.ravel()] = rgba_float(GAP_COLOR)
        colors = shade(scene_x, scene_y, heights, colors)
        self._surface.setData(x=scene_x, y=scene_y, z=heights, colors=colors)
        self._surface.show()
        self._draw_axes(mapping)
        self._legend.set_range(low, high, "log10(f - min)" if log else "f(x, y)")
        self._scene_id += 1  # the paths' cached scene points are out of date
        for path_id in self._data:
            self._redraw(path_id)
        self._draw_pending()

    def _draw_axes(self, mapping: SceneMapping) -> None:
        """Grid lines on the floor at round x and y values, with their labels and the f axis."""
        xmin, xmax, ymin, ymax = mapping.domain
        ex, ey = mapping.extent
        lines = []
        labels: list[tuple[FloatArray, str, RGB]] = []
        grey, light = (150, 150, 150), (225, 225, 225)
        for x in nice_ticks(xmin, xmax):
            sx = mapping.to_scene(x, 0.0, mapping.low)[0]
            lines += [(sx, -ey, _FLOOR), (sx, ey, _FLOOR)]
            labels.append((np.array([sx, -ey - 0.06, _FLOOR]), _tick_text(x), grey))
        for y in nice_ticks(ymin, ymax):
            sy = mapping.to_scene(0.0, y, mapping.low)[1]
            lines += [(-ex, sy, _FLOOR), (ex, sy, _FLOOR)]
            labels.append((np.array([ex + 0.03, sy, _FLOOR]), _tick_text(y), grey))
        labels.append((np.array([0.0, -ey - 0.16, _FLOOR]), "x", light))
        labels.append((np.array([ex + 0.14, 0.0, _FLOOR]), "y", light))
        self._floor.setData(
            pos=np.array(lines, dtype=np.float32), color=(1.0, 1.0, 1.0, 0.22), width=1.0
        )
        self._labels.set_labels(labels)

    def scene_mapping(self) -> SceneMapping | None:
        """The data <-> scene mapping of the current landscape."""
        return self._mapping

    def height_field(self) -> HeightField | None:
        """The displayed surface in scene coordinates."""
        return self._field

    def surface_item(self) -> gl.GLSurfacePlotItem:
        """The surface item (for tests)."""
        return self._surface

    # -- clicks ------------------------------------------------------------------------------

    def pick(self, px: float, py: float) -> tuple[float, float] | None:
        """The data point (x, y) on the surface under widget pixel (px, py), or None."""
        if self._field is None or self._mapping is None:
            return None
        width, height = max(self._gl.width(), 1), max(self._gl.height(), 1)
        viewport = (0, 0, width, height)
        projection = matrix_to_numpy(self._gl.projectionMatrix(viewport, viewport))
        view = matrix_to_numpy(self._gl.viewMatrix())
        origin, direction = pick_ray(projection, view, px, py, width, height)
        hit = intersect_height_field(origin, direction, self._field)
        if hit is None:
            return None
        x, y, _ = self._mapping.from_scene(hit)
        xmin, xmax, ymin, ymax = self._mapping.domain
        return float(np.clip(x, xmin, xmax)), float(np.clip(y, ymin, ymax))

    def _on_clicked(self, px: float, py: float, shift: bool) -> None:
        point = self.pick(px, py)
        if point is not None:
            self.start_requested.emit(point[0], point[1], shift)

    # -- paths -------------------------------------------------------------------------------

    def _scene_points(self, xy: FloatArray, f: FloatArray) -> FloatArray:
        """Path points in the scene: at f's height (clipped to the surface's range), never under
        the drawn surface, lifted a little."""
        assert self._mapping is not None and self._grid is not None
        mapping, grid = self._mapping, self._grid
        with np.errstate(invalid="ignore", over="ignore"):
            d = to_display(f, grid.z_min, grid.z_max, self._log)
        d = np.clip(np.nan_to_num(d, nan=mapping.high, posinf=mapping.high, neginf=mapping.low),
                    mapping.low, mapping.high)
        points = mapping.to_scene(xy[:, 0], xy[:, 1], d)
        ex, ey = mapping.extent
        # Far-off points (a diverging path) are pulled to a few box widths: GL loses precision.
        points[:, 0] = np.clip(points[:, 0], -20 * ex, 20 * ex)
        points[:, 1] = np.clip(points[:, 1], -20 * ey, 20 * ey)
        if self._field is not None:
            ground = self._field.height_at(points[:, 0], points[:, 1])
            points[:, 2] = np.fmax(points[:, 2], ground)
        points[:, 2] += _LIFT * mapping.height / SURFACE_HEIGHT
        return points

    def set_path(self, path_id: int, xy: np.ndarray, f: np.ndarray,
                 color: tuple[int, int, int], *, current: int | None = None) -> None:
        """Draw (or update) a path on the surface with its start and current point.

        In a crowd (more than CROWD_PATHS paths) the path is drawn by flush() (or soon after,
        by a timer) together with the others.
        """
        rgb = (int(color[0]), int(color[1]), int(color[2]))
        data = self._data.get(path_id)
        if data is None:
            data = _PathData(rgb)
            self._data[path_id] = data
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        values = np.asarray(f, dtype=np.float64).reshape(-1)
        n = min(len(points), len(values))
        data.color, data.xy, data.f, data.current = rgb, points[:n], values[:n], current
        if not self._crowded and len(self._data) > CROWD_PATHS:
            self._enter_crowd()
        self._redraw(path_id)

    def _redraw(self, path_id: int) -> None:
        """Redraw one path now when it has its own items, else at the crowd's next flush."""
        if self._crowded and path_id != self._highlight:
            self._stale[path_id] = None
            self._crowd_dirty = True
            if not self._flush_timer.isActive():
                self._flush_timer.start()
            return
        data = self._data[path_id]
        self._place([data])
        items = self._paths.get(path_id)
        if items is None:
            items = self._new_path(data.color)
            self._paths[path_id] = items
        items.color = data.color
        if len(data.marks) == 0:
            items.marks = np.empty((0, 3))
            for item in items.items():
                item.setVisible(False)
            return
        items.marks = data.marks
        line = data.line[np.isfinite(data.line).all(axis=1)]  # a NaN row: the line jumps it
        for item in (items.ghost, items.halo, items.line):
            item.setData(pos=line.astype(np.float32))
        self._style(path_id, items)

    def _place(self, paths: list[_PathData]) -> None:
        """Compute the paths' scene points (decimated) and marks, all in one go.

        A path keeps rows 0, s, 2s, ... (s from trail_stride) and its last row; the kept rows'
        scene points are cached while it grows, so each frame places only its new rows.
        """
        limit = points_per_path(max(len(self._data), self._expected), SURFACE_POINTS_BUDGET)
        jobs: list[tuple[_PathData, int, bool, tuple[int, int]]] = []
        rows: list[NDArray[np.intp]] = []
        for data in paths:
            n = len(data.f)
            index = n - 1 if data.current is None else int(data.current)
            index = min(max(index if index >= 0 else n + index, 0), max(n - 1, 0))
            marked = mark_rows(data.xy, index) if n else None
            if marked is None or self._mapping is None:
                data.line, data.marks = np.empty((0, 3)), np.empty((0, 3))
                data.kept, data.stride = np.empty((0, 3)), 0
                continue
            stride = trail_stride(n, limit)
            have = len(data.kept)
            if (stride != data.stride or data.scene_id != self._scene_id
                    or have > (n - 1) // stride + 1
                    or not grew_from(data.xy, data.start, stride, have, data.last)):
                have = 0  # not the same path grown: place it all again
                data.kept = np.empty((0, 3))
            data.stride, data.scene_id, data.start = stride, self._scene_id, data.xy[0].tolist()
            new = list(range(have * stride, n, stride))
            data.last = data.xy[new[-1] if new else (have - 1) * stride].tolist()
            tail = (n - 1) % stride != 0
            rows.append(np.array(new + [n - 1] * tail + list(marked), dtype=np.intp))
            jobs.append((data, len(new), tail, marked))
        if not jobs:
            return
        assert self._mapping is not None
        scene = self._scene_points(
            np.concatenate([data.xy[r] for (data, *_), r in zip(jobs, rows, strict=True)]),
            np.concatenate([data.f[r] for (data, *_), r in zip(jobs, rows, strict=True)]),
        )
        # Markers are flat sprites: lift them more so that slopes do not cut them.
        lift = 2.0 * _LIFT * self._mapping.height / SURFACE_HEIGHT
        end = 0
        for data, count, tail, _ in jobs:
            begin = end
            end = begin + count + tail + 2
            if count:
                data.kept = np.concatenate([data.kept, scene[begin : begin + count]])
            data.line = (np.concatenate([data.kept, scene[begin + count : end - 2]]) if tail
                         else data.kept)
            data.marks = scene[end - 2 : end].copy()
            data.marks[:, 2] += lift

    def _new_path(self, color: RGB) -> _PathItems:
        items = _PathItems(
            color=(int(color[0]), int(color[1]), int(color[2])),
            ghost=gl.GLLinePlotItem(glOptions=_ON_TOP, antialias=self._gl.smooth_lines),
            halo=gl.GLLinePlotItem(glOptions=_DEPTH, antialias=self._gl.smooth_lines),
            line=gl.GLLinePlotItem(glOptions=_DEPTH, antialias=self._gl.smooth_lines),
            ghost_start=gl.GLScatterPlotItem(glOptions=_ON_TOP),
            start_ring=gl.GLScatterPlotItem(glOptions=_DEPTH),
            start_centre=gl.GLScatterPlotItem(glOptions=_DEPTH),
            current_halo=gl.GLScatterPlotItem(glOptions=_ON_TOP),
            current_dot=gl.GLScatterPlotItem(glOptions=_ON_TOP),
        )
        for item in items.items():
            self._gl.addItem(item)
        return items

    def _drop_items(self, path_id: int) -> None:
        items = self._paths.pop(path_id, None)
        if items is not None:
            for item in items.items():
                self._gl.removeItem(item)

    def _style(self, path_id: int, items: _PathItems) -> None:
        """Apply the normal, highlighted or dimmed look to one path."""
        selected = self._highlight == path_id
        dimmed = self._highlight is not None and not selected
        alpha = 0.3 if dimmed else 1.0
        width = 4.5 if selected else 3.0
        color = items.color
        items.ghost.setData(color=rgba_float(color, 0.12 if dimmed else 0.35), width=width - 1.0)
        items.halo.setData(color=rgba_float(OUTLINE_COLOR, 0.6 * alpha), width=width + 3.0)
        items.line.setData(color=rgba_float(color, alpha), width=width)
        size = 16.0 if selected else 13.0
        start, now = items.marks[:1].astype(np.float32), items.marks[1:].astype(np.float32)
        # The start: a ring (colour around a dark centre); the current point: a larger dot.
        items.ghost_start.setData(pos=start, color=rgba_float(color, 0.12 if dimmed else 0.35),
                                  size=size)
        items.start_ring.setData(pos=start, color=rgba_float(color, alpha), size=size)
        items.start_centre.setData(pos=start, color=rgba_float(OUTLINE_COLOR, alpha),
                                   size=size * 0.45)
        items.current_halo.setData(pos=now, color=rgba_float(OUTLINE_COLOR, 0.8 * alpha),
                                   size=size + 6.0)
        items.current_dot.setData(pos=now, color=rgba_float(color, alpha), size=size + 2.0)
        base = 30 if selected else 10
        for offset, item in enumerate(items.items()):
            item.setDepthValue(base + offset)
            item.setVisible(True)
        self._gl.update()

    def remove_path(self, path_id: int) -> None:
        """Remove one path (unknown ids are ignored)."""
        if self._data.pop(path_id, None) is None:
            return
        self._stale.pop(path_id, None)
        if path_id in self._paths:
            self._drop_items(path_id)
        else:
            self._crowd_dirty = True
        if self._highlight == path_id:
            self._highlight = None
            self._crowd_dirty = True
            if not self._crowded:
                self.set_highlight(None)
        if self._crowded and not self._flush_timer.isActive():
            self._flush_timer.start()  # the crowd is redrawn once, however many paths go

    def clear_paths(self) -> None:
        """Remove every path."""
        for path_id in list(self._paths):
            self._drop_items(path_id)
        self._data.clear()
        self._stale.clear()
        self._highlight = None
        self._expected = 0
        self._crowded = False
        self._crowd_dirty = False
        if self._crowd is not None:
            for item in self._crowd.items():
                item.setVisible(False)
        self._flush_timer.stop()
        self._gl.update()

    def path_ids(self) -> list[int]:
        """The ids of the paths drawn now."""
        return list(self._data)

    def path_items(self, path_id: int) -> _PathItems:
        """The items of one path that has its own (for tests; a crowded path has none)."""
        return self._paths[path_id]

    def path_data(self, path_id: int) -> tuple[FloatArray, FloatArray, RGB]:
        """What one path draws, in scene coordinates: its line's points (k, 3), its start and
        current point (2, 3) (empty when nothing is drawn) and its colour. Flushes first."""
        self.flush()
        data = self._data[path_id]
        line = data.line[np.isfinite(data.line).all(axis=1)]
        return line.copy(), data.marks.copy(), data.color

    def is_crowded(self) -> bool:
        """True when the paths but the selected one are drawn by shared items."""
        return self._crowded

    def crowd_items(self) -> _PathItems | None:
        """The shared items that draw the crowd (for tests)."""
        return self._crowd

    def set_highlight(self, path_id: int | None) -> None:
        """Draw one path thicker and on top with the others dimmed; None shows all alike."""
        new = path_id if path_id in self._data else None
        old, self._highlight = self._highlight, new
        if not self._crowded:
            for key, items in self._paths.items():
                if len(items.marks):
                    self._style(key, items)
            return
        if old != new:
            self._crowd_dirty = True
            if old is not None and old in self._data:
                self._drop_items(old)  # back into the crowd
            if new is not None:
                self._redraw(new)
        self.flush()

    # -- the crowd ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Redraw the crowd's shared items after paths changed (at most once per call)."""
        self._flush_timer.stop()
        if self._crowded and max(len(self._data), self._expected) <= CROWD_PATHS:
            self._leave_crowd()
        if not self._crowded or not self._crowd_dirty:
            return
        self._crowd_dirty = False
        stale, self._stale = self._stale, {}
        self._place([self._data[path_id] for path_id in stale if path_id in self._data])
        members = [data for path_id, data in self._data.items()
                   if path_id != self._highlight and len(data.marks)]
        crowd = self._crowd
        if crowd is None:
            crowd = self._crowd = self._new_crowd()
        if not members:
            if any(item.visible() for item in crowd.items()):
                for item in crowd.items():
                    item.setVisible(False)  # each asks the view to render again
            return
        dimmed = self._highlight is not None
        alpha = 0.3 if dimmed else 1.0
        lengths = np.array([len(data.line) for data in members])
        colors = np.array([data.color for data in members], dtype=np.float32) / 255.0
        points = np.concatenate([data.line for data in members]).astype(np.float32)
        # GL draws each pair of vertices as a segment: pair every point with the next one on
        # the same path, so that no segment joins two paths.
        follows = np.isfinite(points).all(axis=1)
        follows[:-1] &= follows[1:]  # both ends finite (NaN rows: the path breaks there)
        follows[np.cumsum(lengths) - 1] = False
        first = np.flatnonzero(follows)
        pairs = np.stack([first, first + 1], axis=1).ravel()
        point_colors = np.repeat(colors, lengths, axis=0)[pairs]
        marks = np.stack([data.marks for data in members]).astype(np.float32)

        def with_alpha(rgb: NDArray[np.float32], a: float) -> NDArray[np.float32]:
            return np.column_stack([rgb, np.full(len(rgb), a, dtype=np.float32)])

        has_lines = len(pairs) > 0
        few = len(members) <= FEW_PATHS
        width = 3.0 if few else 2.0
        if has_lines:
            ends = points[pairs]
            crowd.halo.setData(pos=ends, color=rgba_float(OUTLINE_COLOR, 0.5 * alpha),
                               width=width + (3.0 if few else 2.0))
            crowd.line.setData(pos=ends, color=with_alpha(point_colors, alpha), width=width)
            if few:
                crowd.ghost.setData(pos=ends, color=with_alpha(point_colors, 0.12 if dimmed
                                                                else 0.35), width=width - 1.0)
        for item in (crowd.halo, crowd.line):
            item.setVisible(has_lines)
        crowd.ghost.setVisible(has_lines and few)
        start, now = marks[:, 0], marks[:, 1]
        size = 13.0 if few else 12.0
        crowd.ghost_start.setVisible(few)
        if few:
            crowd.ghost_start.setData(pos=start, color=with_alpha(colors, 0.12 if dimmed
                                                                  else 0.35), size=size)
        crowd.start_ring.setData(pos=start, color=with_alpha(colors, alpha), size=size)
        crowd.start_centre.setData(pos=start, color=rgba_float(OUTLINE_COLOR, alpha),
                                   size=size * 0.45)
        crowd.current_halo.setData(pos=now, color=rgba_float(OUTLINE_COLOR, 0.8 * alpha),
                                   size=size + 5.0)
        crowd.current_dot.setData(pos=now, color=with_alpha(colors, alpha), size=size + 2.0)
        for item in (crowd.start_ring, crowd.start_centre, crowd.current_halo, crowd.current_dot):
            item.setVisible(True)
        self._gl.update()

    def _new_crowd(self) -> _PathItems:
        """The crowd's shared items. Past FEW_PATHS they have no faint see-through copies
        (ghosts): among many paths those would only blur the picture, and cost a third of the
        drawing."""
        crowd = self._new_path(OUTLINE_COLOR)  # colours come per vertex
        for item in (crowd.ghost, crowd.ghost_start):
            item.setVisible(False)
        for item in (crowd.ghost, crowd.halo, crowd.line):
            item.setData(mode="lines")
        for offset, item in enumerate(crowd.items()):
            item.setDepthValue(10 + offset)  # like a path's items; the selected one above
        return crowd

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
        for path_id in self._data:
            if path_id != self._highlight:
                self._stale[path_id] = None
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _leave_crowd(self) -> None:
        """Few paths again: each gets its own items back."""
        self._crowded = False
        self._crowd_dirty = False
        self._stale.clear()
        if self._crowd is not None:
            for item in self._crowd.items():
                item.setVisible(False)
        for path_id in self._data:
            self._redraw(path_id)

    def set_pending_starts(self, xy: np.ndarray, f: np.ndarray) -> None:
        """Show starts that are waiting to run as white crosses on the surface."""
        self._pending_xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self._pending_f = np.asarray(f, dtype=np.float64).reshape(-1)
        self._draw_pending()

    def _draw_pending(self) -> None:
        n = min(len(self._pending_xy), len(self._pending_f))
        xy, f = self._pending_xy[:n], self._pending_f[:n]
        keep = np.isfinite(xy).all(axis=1)
        if self._mapping is None or not keep.any():
            self._pending.setVisible(False)
            return
        centres = self._scene_points(xy[keep], f[keep])
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
        if not image.save(str(path), "PNG"):
            raise OSError(f"could not write the picture to {path}: check the folder and its rights")

    def gl_widget(self) -> SurfaceGLWidget:
        """The pyqtgraph GL widget (for tests and the window)."""
        return self._gl
