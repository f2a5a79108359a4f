"""The 3D view's geometry: data <-> scene coordinates, the surface as a height field, picking
a point with a ray, light on the slopes, round tick values (pure numpy: no Qt, no GL)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.core.landscape import Domain
from explorer.gui.model.colors import equal_aspect

FloatArray = NDArray[np.float64]

SURFACE_HEIGHT = 0.5  # the surface's height as a fraction of its width


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


class Matrix4x4(Protocol):
    """What matrix_to_numpy reads of a QMatrix4x4 (this module imports no Qt)."""

    def data(self) -> Sequence[float]:
        """The 16 entries, column by column."""


def matrix_to_numpy(matrix: Matrix4x4) -> FloatArray:
    """A QMatrix4x4 as a 4x4 numpy array (row-major, acting on column vectors)."""
    return np.array(matrix.data(), dtype=np.float64).reshape(4, 4).T


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
        first: FloatArray = points[0]
        return first
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
    hit: FloatArray = origin + b * direction
    return hit


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


def tick_text(value: float) -> str:
    """A tick value as a short label."""
    return f"{value:.4g}"
