"""Where the surface view's paths lie in its GL scene: on f's height, lifted, clipped to the box."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from explorer.core.landscape import to_display
from explorer.gui.model.colors import RGB
from explorer.gui.views.clipping import clamp_points, inside_box
from explorer.gui.views.crowd import Growth, current_row, mark_rows, trail_stride
from explorer.gui.views.surface_geometry import SURFACE_HEIGHT, HeightField, SceneMapping

if TYPE_CHECKING:
    from explorer.core.landscape import LandscapeGrid

FloatArray = NDArray[np.float64]

LIFT = 0.006  # paths float this far above the surface so that it does not hide them


@dataclass(eq=False)
class PathData:
    """What set_path was given for one path, and where it lies in the scene."""

    color: RGB
    # Kept to redraw the path when the landscape or the scale changes.
    xy: FloatArray = field(default_factory=lambda: np.empty((0, 2)))
    f: FloatArray = field(default_factory=lambda: np.empty(0))
    current: int | None = None
    line: FloatArray = field(default_factory=lambda: np.empty((0, 3)))  # scene points drawn
    marks: FloatArray = field(default_factory=lambda: np.empty((0, 3)))  # start, current
    # The scene points of rows 0, s, 2s, ... (s = growth.stride), kept while the path grows:
    # each frame only the new rows are placed. Valid for one scene (SurfaceScene.scene_id).
    kept: FloatArray = field(default_factory=lambda: np.empty((0, 3)))
    growth: Growth = field(default_factory=Growth)
    scene_id: int = -1


@dataclass(frozen=True, eq=False)
class SurfaceScene:
    """One drawn landscape: its grid and scale, its data <-> scene mapping and height field."""

    grid: LandscapeGrid
    log: bool
    mapping: SceneMapping
    field: HeightField
    scene_id: int  # a new one whenever the mapping changes: paths' cached points go stale

    def points(self, xy: FloatArray, f: FloatArray) -> FloatArray:
        """Path points in the scene: at f's height (clipped to the surface's range), never under
        the drawn surface, lifted a little."""
        mapping, grid = self.mapping, self.grid
        with np.errstate(invalid="ignore", over="ignore"):
            d = to_display(f, grid.z_min, grid.z_max, self.log)
        d = np.clip(np.nan_to_num(d, nan=mapping.high, posinf=mapping.high, neginf=mapping.low),
                    mapping.low, mapping.high)
        points = mapping.to_scene(xy[:, 0], xy[:, 1], d)
        ex, ey = mapping.extent
        # Far-off points (a diverging path) are pulled to a few box widths: GL loses precision.
        points[:, 0] = np.clip(points[:, 0], -20 * ex, 20 * ex)
        points[:, 1] = np.clip(points[:, 1], -20 * ey, 20 * ey)
        ground = self.field.height_at(points[:, 0], points[:, 1])
        points[:, 2] = np.fmax(points[:, 2], ground)
        points[:, 2] += LIFT * mapping.height / SURFACE_HEIGHT
        return points


def place(paths: list[PathData], scene: SurfaceScene | None, limit: int) -> None:
    """Compute the paths' scene points (decimated) and marks, all in one go.

    A path keeps rows 0, s, 2s, ... (s from trail_stride, at most about `limit` points) and
    its last row; the kept rows' scene points are cached while it grows, so each frame places
    only its new rows. Without a scene every path is emptied.
    """
    jobs: list[tuple[PathData, int, bool, tuple[int, int]]] = []
    rows: list[NDArray[np.intp]] = []
    for data in paths:
        n = len(data.f)
        marked = mark_rows(data.xy, current_row(n, data.current)) if n else None
        if marked is None or scene is None:
            data.line, data.marks = np.empty((0, 3)), np.empty((0, 3))
            data.kept, data.growth = np.empty((0, 3)), Growth()
            continue
        stride = trail_stride(n, limit)
        if data.scene_id != scene.scene_id:
            data.growth.forget()
        have = data.growth.follow(data.xy, stride)  # 0: not the same path grown
        data.kept = data.kept[:have]
        data.scene_id = scene.scene_id
        new = list(range(have * stride, n, stride))
        data.growth.mark_drawn(data.xy, have + len(new))
        tail = (n - 1) % stride != 0
        rows.append(np.array(new + [n - 1] * tail + list(marked), dtype=np.intp))
        jobs.append((data, len(new), tail, marked))
    if not jobs:
        return
    assert scene is not None
    mapping = scene.mapping
    xy = np.concatenate([data.xy[r] for (data, *_), r in zip(jobs, rows, strict=True)])
    points = scene.points(
        clamp_points(xy, mapping.domain),
        np.concatenate([data.f[r] for (data, *_), r in zip(jobs, rows, strict=True)]),
    )
    # The lines stop at the surface's box: a point outside it breaks the line (NaN row);
    # the start and current markers stay on the box's edge (the last two rows per job).
    line_row = np.ones(len(xy), dtype=bool)
    line_row[np.cumsum([len(r) for r in rows]) - 1] = False
    line_row[np.cumsum([len(r) for r in rows]) - 2] = False
    outside = ~inside_box(xy, mapping.domain)
    points[line_row & outside] = np.nan
    # A marker pulled onto the edge sits on the surface there, not at the height of the
    # huge f the diverged path reached (it floated beside the box).
    edge = ~line_row & outside
    if edge.any():
        ground = scene.field.height_at(points[edge, 0], points[edge, 1])
        points[edge, 2] = ground + LIFT * mapping.height / SURFACE_HEIGHT
    # Markers are flat sprites: lift them more so that slopes do not cut them.
    lift = 2.0 * LIFT * mapping.height / SURFACE_HEIGHT
    end = 0
    for data, count, tail, _ in jobs:
        begin = end
        end = begin + count + tail + 2
        if count:
            data.kept = np.concatenate([data.kept, points[begin : begin + count]])
        data.line = (np.concatenate([data.kept, points[begin + count : end - 2]]) if tail
                     else data.kept)
        data.marks = points[end - 2 : end].copy()
        data.marks[:, 2] += lift
