"""Polylines cut at a box's edges: a diverging path is drawn up to where it leaves the map.

Clamping points to the box (np.clip) would bend the segments that cross its edge and draw
them along the edge; cutting each segment where it crosses (Liang-Barsky) keeps every drawn
piece on the true path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Box = tuple[float, float, float, float]  # xmin, xmax, ymin, ymax


def clip_polyline(xy: FloatArray, box: Box) -> FloatArray:
    """The parts of the polyline xy (n, 2) inside box, NaN rows between the parts.

    A row with a non-finite coordinate breaks the line (no segment to or from it); a single
    finite point is kept when it lies in the box.
    """
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    xmin, xmax, ymin, ymax = box
    if len(points) < 2:
        inside = (np.isfinite(points).all(axis=1)
                  & (points[:, 0] >= xmin) & (points[:, 0] <= xmax)
                  & (points[:, 1] >= ymin) & (points[:, 1] <= ymax))
        return points[inside].copy()
    inside = inside_box(points, box)
    if inside.all():  # the usual case, every frame: nothing to cut
        return points.copy()
    start, end = points[:-1], points[1:]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        delta = end - start
        # Segments with both ends in the box are drawn whole; only the others are cut.
        low = np.zeros(len(start))
        high = np.ones(len(start))
        usable = np.ones(len(start), dtype=bool)
        cut = np.flatnonzero(~(inside[:-1] & inside[1:]))
        low[cut], high[cut], usable[cut] = _cut_segments(start[cut], delta[cut], box)
        shown = np.flatnonzero(usable & (low <= high))
        if shown.size == 0:
            return np.empty((0, 2))
        t0, t1 = low[shown], high[shown]
        enter = start[shown] + t0[:, None] * delta[shown]
        leave = np.where((t1 == 1.0)[:, None], end[shown],
                         start[shown] + t1[:, None] * delta[shown])
        enter = np.where((t0 == 0.0)[:, None], start[shown], enter)
        # Far-off ends round the crossing a little (9e15 + t * -9e15 may give 6 for an edge at
        # 5): put it back on the box, which moves it along the edge by that rounding only.
        enter = np.clip(enter, (xmin, ymin), (xmax, ymax))
        leave = np.clip(leave, (xmin, ymin), (xmax, ymax))
    # A segment continues the one before when that one reached its end point inside the box
    # and this one starts there: its first point is already drawn.
    follows = np.zeros(len(shown), dtype=bool)
    follows[1:] = (shown[1:] == shown[:-1] + 1) & (t1[:-1] == 1.0) & (t0[1:] == 0.0)
    rows = np.empty((len(shown), 3, 2))
    rows[:, 0] = np.nan
    rows[:, 1] = enter
    rows[:, 2] = leave
    keep = np.ones((len(shown), 3), dtype=bool)
    keep[:, 0] = ~follows
    keep[0, 0] = False
    keep[:, 1] = ~follows
    out: FloatArray = rows[keep]
    return out


def _cut_segments(start: FloatArray, delta: FloatArray, box: Box
                  ) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Liang-Barsky: the part [low, high] of each segment start + t delta (0 <= t <= 1) in box,
    and whether the segment can be drawn at all (finite, and not parallel outside an edge)."""
    xmin, xmax, ymin, ymax = box
    low = np.zeros(len(start))
    high = np.ones(len(start))
    usable = np.asarray(np.isfinite(start).all(axis=1) & np.isfinite(delta).all(axis=1))
    for axis, (lo, hi) in enumerate(((xmin, xmax), (ymin, ymax))):
        d, p = delta[:, axis], start[:, axis]
        flat = d == 0
        # A segment parallel to this axis' edges is inside them throughout or not at all.
        usable &= ~flat | ((p >= lo) & (p <= hi))
        t_lo = np.where(flat, -np.inf, (lo - p) / np.where(flat, 1.0, d))
        t_hi = np.where(flat, np.inf, (hi - p) / np.where(flat, 1.0, d))
        low = np.maximum(low, np.minimum(t_lo, t_hi))
        high = np.minimum(high, np.maximum(t_lo, t_hi))
    return low, high, usable


def inside_box(xy: FloatArray, box: Box) -> NDArray[np.bool_]:
    """Which rows of xy (n, 2) lie in box (edges included); non-finite rows do not."""
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    xmin, xmax, ymin, ymax = box
    with np.errstate(invalid="ignore"):
        mask: NDArray[np.bool_] = ((points[:, 0] >= xmin) & (points[:, 0] <= xmax)
                                   & (points[:, 1] >= ymin) & (points[:, 1] <= ymax))
    return mask


def clamp_points(xy: FloatArray, box: Box) -> FloatArray:
    """Points (markers, not lines) moved onto the box where they lie outside it."""
    xmin, xmax, ymin, ymax = box
    clamped: FloatArray = np.clip(np.asarray(xy, dtype=np.float64).reshape(-1, 2),
                                  (xmin, ymin), (xmax, ymax))
    return clamped
