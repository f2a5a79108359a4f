"""Many growing paths drawn as one item, each new segment drawn once into a kept image.

A crowd of paths (more than a view gives items of their own) animates by growing: each frame
adds a step or two to each path. Redrawing every path in full each frame costs a stroke of all
their points (about 25 ms for 100 paths of 500 points in Qt's raster engine, plus building the
painter paths). This layer keeps what it drew in an image, in device pixels, and each frame
only strokes the segments that are new and copies the image (well under a millisecond).

The image is drawn again from scratch only when it no longer matches: the view moved (pan,
zoom, resize), a path shrank, changed colour or left, the look changed (dimmed), or a path's
decimation coarsened. Decimation keeps every s-th point, s a power of two chosen so that a path
keeps at most `limit` points: as a path grows, s doubles only a few times, so the points already
drawn stay the points to draw. The stretch from the last kept point to the newest point (the
"tail") is drawn fresh every frame, as are the start and current markers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap, QTransform

from explorer.gui.model.colors import RGB
from explorer.gui.views.clipping import Box, clip_polyline
from explorer.gui.views.crowd import (
    Growth,
    current_row,
    kept_rows,
    mark_rows,
    trail_stride,
)

FloatArray = NDArray[np.float64]


@dataclass(eq=False)
class _Trail:
    xy: FloatArray  # all the path's points (not copied: paths only grow)
    color: RGB
    current: int  # the row of the current marker
    growth: Growth  # the stride, and how many kept rows (0, s, 2s, ...) are in the image
    marks: FloatArray = field(default_factory=lambda: np.empty((0, 2)))  # start, current
    box: tuple[float, float, float, float] = (math.inf, -math.inf, math.inf, -math.inf)


@dataclass(frozen=True)
class MarkerStyle:
    """How the layer draws start and current markers (sizes in pixels)."""

    start_size: float = 13.0
    start_width: float = 3.0
    current_size: float = 14.0
    current_outline: RGB = (255, 255, 255)
    current_width: float = 1.5


class TrailLayer(pg.GraphicsObject):
    """Draws many paths (and their start and current markers) from a kept image.

    Paths are given in data coordinates; set_clip() bounds them (huge coordinates after a
    divergence would overflow Qt's painter) and is the item's bounding rectangle.
    """

    def __init__(self, *, markers: MarkerStyle | None = None, width: float = 1.0,
                 track_bounds: bool = False) -> None:
        """markers: draw start and current markers so; track_bounds: keep the paths' extent
        for a ViewBox's auto range (dataBounds), at a little cost per set_trail."""
        super().__init__()
        self._track_bounds = track_bounds
        self._trails: dict[int, _Trail] = {}
        self._markers = markers
        self._width = float(width)
        self._alpha = 255
        self._marker_alpha = 255
        self._limit = 2000
        self._low = np.array([-1e12, -1e12])
        self._high = np.array([1e12, 1e12])
        self._bounds = QRectF(-1e12, -1e12, 2e12, 2e12)
        self._cut: Box | None = None  # lines are cut where they leave this box
        self._image: QImage | None = None
        self._sprites: dict[tuple[str, RGB, int, float], QPixmap] = {}
        self._fragments = pg.Qt.internals.PrimitiveArray(QPainter.PixmapFragment, 10)
        self._key: tuple[float, ...] | None = None
        self.full_redraws = 0  # times the image was drawn from scratch (for tests and benches)

    # -- what to draw ------------------------------------------------------------------------

    def set_clip(self, low: tuple[float, float], high: tuple[float, float]) -> None:
        """Points are clipped to this box, which is also the item's extent."""
        self.prepareGeometryChange()
        self._low = np.array(low, dtype=np.float64)
        self._high = np.array(high, dtype=np.float64)
        self._bounds = QRectF(low[0], low[1], high[0] - low[0], high[1] - low[1])
        self.invalidate()

    def cut_lines_at(self, box: Box | None) -> None:
        """Draw the lines only inside box (xmin, xmax, ymin, ymax), cut at its edges."""
        if box != self._cut:
            self._cut = box
            self.invalidate()

    def _cut_lines(self, xy: FloatArray) -> FloatArray:
        return xy if self._cut is None else clip_polyline(xy, self._cut)

    def set_limit(self, points: int) -> None:
        """At most this many points are drawn per path (see trail_stride)."""
        if int(points) != self._limit:
            self._limit = int(points)
            for trail in self._trails.values():
                trail.growth.follow(trail.xy, trail_stride(len(trail.xy), self._limit))
            self.invalidate()

    def set_alpha(self, lines: int, markers: int) -> None:
        """The opacity (0-255) of the lines and of the markers: lower when dimmed."""
        if (lines, markers) != (self._alpha, self._marker_alpha):
            self._alpha, self._marker_alpha = int(lines), int(markers)
            self.invalidate()

    def show_crowd(self, alpha: int, limit: int) -> None:
        """Take a crowd's look (the lines' and markers' opacity, at most limit points per
        path), shown once it has paths."""
        self.set_alpha(alpha, alpha)
        self.set_limit(limit)
        self.setVisible(bool(self._trails))

    def alpha(self) -> int:
        """The lines' opacity (0-255)."""
        return self._alpha

    def set_trail(self, key: int, xy: FloatArray, color: RGB, current: int | None = None) -> None:
        """Show path `key` with points xy (n, 2); its current marker at row `current` (last by
        default). Call update() (or invalidate()) when done setting trails."""
        points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        n = len(points)
        index = current_row(n, current)
        trail = self._trails.get(key)
        old_length = len(trail.xy) if trail is not None else 0
        stride = trail_stride(n, self._limit)
        grows = False
        if trail is None:
            trail = _Trail(points, color, index, Growth())
            self._trails[key] = trail
        else:
            grows = (trail.color == color and n >= len(trail.xy)
                     and trail.growth.grew(points, stride))
            trail.xy, trail.color, trail.current = points, color, index
            if not grows:
                self.invalidate()
        trail.growth.follow(points, stride)
        if self._markers is not None:
            trail.marks = _marks(points, index)
        if self._track_bounds:
            old = trail.box if grows else (math.inf, -math.inf, math.inf, -math.inf)
            fresh = _box(points[old_length:] if grows else points)
            trail.box = (min(old[0], fresh[0]), max(old[1], fresh[1]),
                         min(old[2], fresh[2]), max(old[3], fresh[3]))

    def remove_trail(self, key: int) -> None:
        """Stop showing path `key` (unknown keys are ignored)."""
        if self._trails.pop(key, None) is not None:
            self.invalidate()

    def clear(self) -> None:
        """Remove every path."""
        if self._trails:
            self._trails.clear()
            self.invalidate()

    def keys(self) -> list[int]:
        """The paths shown, in the order they came."""
        return list(self._trails)

    def trail(self, key: int) -> tuple[FloatArray, FloatArray, RGB]:
        """What one path draws: its line's points (k, 2), clipped and decimated (NaN rows where
        it breaks), its start and current point (2, 2; the first and the current finite
        point; empty if none) and its colour."""
        trail = self._trails[key]
        line = self._clip(self._cut_lines(trail.xy[kept_rows(len(trail.xy),
                                                             trail.growth.stride)]))
        return line, self._clip(_marks(trail.xy, trail.current)), trail.color

    def invalidate(self) -> None:
        """Draw everything again from scratch at the next paint."""
        self._key = None
        self.update()

    # -- painting ----------------------------------------------------------------------------

    def boundingRect(self) -> QRectF:  # Qt's name
        return QRectF(self._bounds)

    def dataBounds(self, ax: int, frac: float = 1.0,  # pyqtgraph's names
                   orthoRange: object = None) -> tuple[float, float] | None:
        """The paths' extent along axis ax (0: x, 1: y), for a ViewBox's auto range."""
        if not self._track_bounds or not self._trails:
            return None
        low = min(trail.box[2 * ax] for trail in self._trails.values())
        high = max(trail.box[2 * ax + 1] for trail in self._trails.values())
        if not (math.isfinite(low) and math.isfinite(high)):
            return None
        return low, high

    def pixelPadding(self) -> float:  # pyqtgraph's name
        """Pixels the lines reach beyond their points."""
        return self._width

    def _clip(self, xy: FloatArray) -> FloatArray:
        """xy clipped to the box; rows with an infinite or NaN coordinate become NaN rows,
        which break the line there."""
        clipped = np.clip(xy, self._low, self._high)  # NaN stays NaN
        bad = ~np.isfinite(xy).all(axis=1)
        if bad.any():
            clipped[bad] = np.nan
        return clipped

    def _pen(self, color: RGB, alpha: int) -> QPen:
        pen = QPen(QColor(color[0], color[1], color[2], alpha))
        pen.setWidthF(self._width)
        pen.setCosmetic(True)
        return pen

    def _stroke(self, painter: QPainter, pieces: dict[RGB, list[FloatArray]]) -> None:
        """Stroke each colour's pieces (each a polyline) as one path."""
        for color, parts in pieces.items():
            joined = self._clip(self._cut_lines(
                np.concatenate([row for part in parts for row in (part, _BREAK)])))
            path = pg.arrayToQPath(joined[:, 0], joined[:, 1], connect="finite")
            painter.setPen(self._pen(color, self._alpha))
            painter.drawPath(path)

    def paint(self, painter: QPainter, *args: object) -> None:
        """Bring the image up to date, copy it, then draw the tails and the markers."""
        transform = painter.transform()
        device = painter.device()
        ratio = float(device.devicePixelRatioF()) if device is not None else 1.0
        width = device.width() if device is not None else 1
        height = device.height() if device is not None else 1
        key = (transform.m11(), transform.m12(), transform.m21(), transform.m22(),
               transform.dx(), transform.dy(), float(width), float(height), ratio)
        if key != self._key or self._image is None:
            self._image = QImage(max(math.ceil(width * ratio), 1),
                                 max(math.ceil(height * ratio), 1),
                                 QImage.Format.Format_ARGB32_Premultiplied)
            self._image.setDevicePixelRatio(ratio)
            self._image.fill(0)
            self._key = key
            for trail in self._trails.values():
                trail.growth.forget()
            self.full_redraws += 1
        pieces: dict[RGB, list[FloatArray]] = {}
        tails: dict[RGB, list[FloatArray]] = {}
        starts: dict[RGB, list[FloatArray]] = {}  # of paths new to the image: drawn into it
        for trail in self._trails.values():
            n = len(trail.xy)
            if n == 0:
                continue
            growth = trail.growth
            if growth.drawn == 0 and len(trail.marks) == 2:
                starts.setdefault(trail.color, []).append(trail.marks[0])
            kept = trail.xy[::growth.stride]  # a view: rows 0, s, 2s, ...
            if len(kept) > growth.drawn and len(kept) > 1:
                pieces.setdefault(trail.color, []).append(kept[max(growth.drawn - 1, 0):])
            growth.mark_drawn(trail.xy, len(kept))
            last_kept = (len(kept) - 1) * growth.stride
            if last_kept != n - 1:
                tails.setdefault(trail.color, []).append(trail.xy[last_kept::n - 1 - last_kept])
        if pieces or (starts and self._markers is not None):
            image_painter = QPainter(self._image)
            image_painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            image_painter.setTransform(transform)
            self._stroke(image_painter, pieces)
            if self._markers is not None:
                self._paint_starts(image_painter, starts, transform, ratio)
            image_painter.end()
        painter.save()
        painter.setTransform(QTransform())
        painter.drawImage(QPointF(0.0, 0.0), self._image)
        painter.restore()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._stroke(painter, tails)
        if self._markers is not None:
            self._paint_currents(painter, transform, ratio)

    def _sprite(self, kind: str, color: RGB, ratio: float) -> QPixmap:
        """A marker drawn once into a small pixmap: "start" (a ring) or "current" (a dot)."""
        style = self._markers
        assert style is not None
        key = (kind, color, self._marker_alpha, ratio)
        sprite = self._sprites.get(key)
        if sprite is not None:
            return sprite
        size = style.start_size if kind == "start" else style.current_size
        pen_width = style.start_width if kind == "start" else style.current_width
        extent = size + pen_width + 2.0
        sprite = QPixmap(math.ceil(extent * ratio), math.ceil(extent * ratio))
        sprite.setDevicePixelRatio(ratio)
        sprite.fill(Qt.GlobalColor.transparent)
        sprite_painter = QPainter(sprite)
        sprite_painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        fill = QColor(color[0], color[1], color[2], self._marker_alpha)
        if kind == "start":
            pen = QPen(fill)
            brush = QBrush(Qt.BrushStyle.NoBrush)
        else:
            outline = style.current_outline
            pen = QPen(QColor(outline[0], outline[1], outline[2], self._marker_alpha))
            brush = QBrush(fill)
        pen.setWidthF(pen_width)
        sprite_painter.setPen(pen)
        sprite_painter.setBrush(brush)
        centre = extent / 2.0
        sprite_painter.drawEllipse(QPointF(centre, centre), size / 2.0, size / 2.0)
        sprite_painter.end()
        if len(self._sprites) > 256:
            self._sprites.clear()
        self._sprites[key] = sprite
        return sprite

    def _blit(self, painter: QPainter, by_color: dict[RGB, list[FloatArray]], kind: str,
              transform: QTransform, ratio: float) -> None:
        """Copy a marker sprite to each point, each colour's in one call (pixmap fragments:
        thousands of markers cost about as much as a few)."""
        painter.save()
        painter.setTransform(QTransform())
        for color, points in by_color.items():
            xy = self._clip(np.asarray(points, dtype=np.float64).reshape(-1, 2))
            xy = xy[np.isfinite(xy).all(axis=1)]
            if len(xy) == 0:
                continue
            sprite = self._sprite(kind, color, ratio)
            self._fragments.resize(len(xy))
            fragments = self._fragments.ndarray()
            x, y = xy[:, 0], xy[:, 1]
            fragments[:, 0] = transform.m11() * x + transform.m21() * y + transform.dx()
            fragments[:, 1] = transform.m12() * x + transform.m22() * y + transform.dy()
            fragments[:, 2:6] = (0.0, 0.0, sprite.width(), sprite.height())
            fragments[:, 6:10] = (1.0 / ratio, 1.0 / ratio, 0.0, 1.0)  # scale, rotation, opacity
            # On PySide: the first fragment (a pointer into the array) and how many there are.
            first, count = self._fragments.drawargs()
            painter.drawPixmapFragments(first, count, sprite)
        painter.restore()

    def _paint_starts(self, painter: QPainter, starts: dict[RGB, list[FloatArray]],
                      transform: QTransform, ratio: float) -> None:
        """Start markers (rings). They never move, so they go into the kept image with the
        paths' first segments."""
        self._blit(painter, starts, "start", transform, ratio)

    def _paint_currents(self, painter: QPainter, transform: QTransform, ratio: float) -> None:
        """Current markers (dots with a light outline), drawn fresh on every paint."""
        currents: dict[RGB, list[FloatArray]] = {}
        for trail in self._trails.values():
            if len(trail.marks) == 2:
                currents.setdefault(trail.color, []).append(trail.marks[1])
        self._blit(painter, currents, "current", transform, ratio)


_BREAK = np.full((1, 2), np.nan)  # ends one polyline where several are stroked as one path


def _box(xy: FloatArray) -> tuple[float, float, float, float]:
    """(x min, x max, y min, y max) over the finite points of xy (infinite if none)."""
    if len(xy) <= 8:  # a few new steps, the usual case: numpy's overhead would dominate
        pairs = [(x, y) for x, y in xy.tolist() if math.isfinite(x) and math.isfinite(y)]
        if not pairs:
            return math.inf, -math.inf, math.inf, -math.inf
        xs, ys = zip(*pairs, strict=True)
        return min(xs), max(xs), min(ys), max(ys)
    rows = xy[np.isfinite(xy).all(axis=1)]
    if len(rows) == 0:
        return math.inf, -math.inf, math.inf, -math.inf
    low, high = rows.min(axis=0), rows.max(axis=0)
    return float(low[0]), float(high[0]), float(low[1]), float(high[1])


def _marks(xy: FloatArray, current: int) -> FloatArray:
    """A path's start and current point (2, 2); empty (0, 2) if it has no finite point."""
    rows = mark_rows(xy, current)
    return np.empty((0, 2)) if rows is None else xy[list(rows)]
