"""The crowd: past a number of paths, a view draws all but the selected one together.

A view with a few paths gives each its own items (a line, markers, a halo). Items cost time
on every repaint whatever they draw, so past `limit` paths all but the selected one are
drawn by the view's shared drawing ("the crowd": one kept image, or a few GL items with a
colour per vertex), which redraws at most once per event-loop turn (flush). This module
holds the rules the views share, and each view only its drawing:

  - Crowd: which paths are drawn on their own and which by the crowd, paths joining and
    leaving it (a selection, a crowd starting or dissolving), and whether the crowd changed
    since it was drawn last;
  - Growth: for a path that grows a few steps a frame, which of its kept rows were drawn
    already, and when it must be drawn again from scratch (it shrank, was replaced, or its
    decimation coarsened);
  - trail_stride and kept_rows: the decimation of a growing path, by a stride that doubles
    only a few times as the path grows, so that the rows drawn stay the rows to draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QTimer

FloatArray = NDArray[np.float64]

# Above this many paths, all but the selected one are drawn by the crowd (the contour map and
# the loss plot: seven items per path would cost ~20 ms each to make and a bounding-box query
# each on every repaint).
CROWD_PATHS = 40

T = TypeVar("T")


# -- growing paths: decimation and what was drawn -----------------------------------------------


def trail_stride(points: int, limit: int) -> int:
    """The decimation stride: the smallest power of two that keeps at most limit points
    (rows 0, s, 2s, ... and the last row)."""
    limit = max(int(limit), 2)
    if points <= limit:
        return 1
    # ceil((points - 1) / s) + 1 rows are kept: at most limit for s >= (points - 1) / (limit - 1).
    return 1 << max(math.ceil(math.log2((points - 1) / (limit - 1))), 0)


def kept_rows(points: int, stride: int) -> NDArray[np.intp]:
    """The rows a path of `points` points draws: every stride-th, and always the last."""
    rows = np.arange(0, points, stride)
    if points and rows[-1] != points - 1:
        rows = np.append(rows, points - 1)
    return rows


def grew_from(xy: FloatArray, start: list[float], stride: int, kept: int,
              last: list[float]) -> bool:
    """True if xy is the path of which rows 0, s, 2s, ... (`kept` of them, s = stride) were
    taken before, grown since: its first point is still `start` and its last kept row still
    `last`. A path replaced by another (even from the same start) is not."""
    if len(xy) == 0 or xy[0].tolist() != start:
        return False
    if kept == 0:
        return True
    row = (kept - 1) * stride
    return row < len(xy) and xy[row].tolist() == last


def current_row(points: int, current: int | None) -> int:
    """The row of a path's current point: `current` (negative counts from the end; None: the
    last row), kept inside the path (0 for an empty path)."""
    index = points - 1 if current is None else int(current)
    return min(max(index if index >= 0 else points + index, 0), max(points - 1, 0))


def mark_rows(xy: FloatArray, current: int) -> tuple[int, int] | None:
    """The rows of a path's start and current point: its first finite row and its last finite
    row up to row current; None if it has none."""
    if len(xy) == 0:
        return None
    if math.isfinite(sum(xy[0].tolist()) + sum(xy[current].tolist())):  # the usual case
        return 0, int(current)
    finite = np.flatnonzero(np.isfinite(xy[: current + 1]).all(axis=1))
    if finite.size == 0:
        return None
    return int(finite[0]), int(finite[-1])


@dataclass(eq=False)
class Growth:
    """What was drawn of a growing path: its kept rows 0, s, 2s, ... (s = stride), `drawn` of
    them, and the points that tell whether a later path grew from them (see grew_from)."""

    stride: int = 0
    drawn: int = 0
    start: list[float] = field(default_factory=list)  # xy of row 0 when last followed
    last: list[float] = field(default_factory=list)  # xy of the last drawn kept row

    def grew(self, xy: FloatArray, stride: int) -> bool:
        """True if xy, kept at this stride, extends what was drawn."""
        return (stride == self.stride and self.drawn <= (len(xy) - 1) // stride + 1
                and grew_from(xy, self.start, stride, self.drawn, self.last))

    def follow(self, xy: FloatArray, stride: int) -> int:
        """Take xy, kept at this stride, as the path now; how many of its kept rows are drawn
        already (0: it must be drawn from scratch)."""
        if not self.grew(xy, stride):
            self.drawn = 0
        self.stride = stride
        self.start = xy[0].tolist() if len(xy) else []
        return self.drawn

    def mark_drawn(self, xy: FloatArray, kept: int) -> None:
        """Rows 0, s, ..., (kept - 1) s of xy are drawn now."""
        self.drawn = kept
        self.last = xy[(kept - 1) * self.stride].tolist() if kept else []

    def forget(self) -> None:
        """Nothing of the path is drawn (the drawing was cleared)."""
        self.drawn = 0


# -- which paths the crowd draws ----------------------------------------------------------------


@dataclass(frozen=True)
class CrowdHooks:
    """What a view does for its crowd: the drawing. The rules are the Crowd's."""

    draw_alone: Callable[[int], None]  # give a path its own items (make them if need be), draw
    drop_alone: Callable[[int], None]  # remove a path's own items, if it has any
    join: Callable[[int], None]  # hand a path (new, or changed) to the crowd's drawing
    leave: Callable[[int], None]  # take a path out of the crowd's drawing (if it is there)
    clear: Callable[[], None]  # empty and hide the crowd's drawing (it starts or dissolves)
    draw: Callable[[], None]  # draw the crowd again, after it changed (once per flush at most)
    restyle: Callable[[], None]  # the selection changed: restyle the paths' own items
    # Called at each flush while crowded, before drawing: a view may call rejoin_all there.
    prepare: Callable[[], None] | None = None


class Crowd(Generic[T]):
    """The paths of one view, in the order they came, and which of them the crowd draws.

    Past `limit` paths (or as many expected: expect) all but the selected one are in the
    crowd; at `limit` or fewer again, each gets its own items back. A path that changes in the
    crowd only marks it changed: the crowd is drawn at flush(), which a zero timer calls once
    the event loop turns, however many paths changed before.
    """

    def __init__(self, hooks: CrowdHooks, limit: int = CROWD_PATHS,
                 parent: QObject | None = None) -> None:
        self.paths: dict[int, T] = {}  # every path's data, in the order they came
        self.limit = int(limit)
        self._hooks = hooks
        self._highlight: int | None = None
        self._expected = 0  # how many paths the window holds (expect)
        self._crowded = False
        self._changed = False  # the crowd changed since it was drawn last
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.flush)

    @property
    def crowded(self) -> bool:
        """True when the paths but the selected one are drawn by the crowd."""
        return self._crowded

    @property
    def highlight(self) -> int | None:
        """The selected path, or None."""
        return self._highlight

    def count(self) -> int:
        """How many paths the view holds or expects, whichever is more."""
        return max(len(self.paths), self._expected)

    def put(self, path_id: int, data: T) -> bool:
        """Store a path's (new) data and route it (see route); the crowd starts when there
        are too many paths for items of their own."""
        self.paths[path_id] = data
        if not self._crowded and len(self.paths) > self.limit:
            self._start()
        return self.route(path_id)

    def route(self, path_id: int) -> bool:
        """A path changed: True if it has items of its own, which the caller draws now; False
        if the crowd draws it, at the next flush."""
        if self._crowded:
            self._schedule()  # also for the selected path: a view may prepare the crowd anew
            if path_id != self._highlight:
                self._hooks.join(path_id)
                self._changed = True
                return False
        return True

    def remove(self, path_id: int) -> T | None:
        """Forget a path and take it out of the drawing; its data, or None if unknown."""
        data = self.paths.get(path_id)
        if data is None:
            return None
        self._hooks.drop_alone(path_id)
        self._hooks.leave(path_id)
        del self.paths[path_id]
        selected = self._highlight == path_id
        if selected:
            self._highlight = None
        if self._crowded:
            # The crowd is redrawn (or dissolved) once, however many paths go at once.
            self._changed = True
            self._schedule()
        elif selected:
            self._hooks.restyle()
        return data

    def clear(self) -> None:
        """Forget every path."""
        for path_id in self.paths:
            self._hooks.drop_alone(path_id)
        self._hooks.clear()
        self.paths.clear()
        self._changed = False
        self._expected = 0
        self._crowded = False
        self._highlight = None
        self._timer.stop()

    def select(self, path_id: int | None) -> None:
        """Select one path (None: none); in a crowd it leaves the crowd for items of its own,
        and the one selected before joins it again."""
        new = path_id if path_id in self.paths else None
        old, self._highlight = self._highlight, new
        if not self._crowded:
            self._hooks.restyle()
            return
        if old != new:
            if old is not None and old in self.paths:
                self._hooks.drop_alone(old)  # back into the crowd
                self._hooks.join(old)
            if new is not None:
                self._hooks.leave(new)
                self._hooks.draw_alone(new)
            self._changed = True
        self.flush()

    def rejoin_all(self) -> None:
        """Hand every path in the crowd to its drawing again (their look changed)."""
        for path_id in self.paths:
            if path_id != self._highlight:
                self._hooks.join(path_id)
        self._changed = True

    def expect(self, count: int) -> None:
        """Say how many paths are coming in all: past the limit the crowd starts now, before
        the first of them gets items of its own only to give them up again."""
        self._expected = int(count)
        if count > self.limit and not self._crowded:
            self._start()

    def flush(self) -> None:
        """Draw the crowd if it changed (at most once per call); dissolve it when few paths
        are left."""
        self._timer.stop()
        if self._crowded and self.count() <= self.limit:
            self._dissolve()
        if not self._crowded:
            return
        if self._hooks.prepare is not None:
            self._hooks.prepare()
        if not self._changed:
            return
        self._changed = False
        self._hooks.draw()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _start(self) -> None:
        """Too many paths for items of their own: all but the selected one join the crowd."""
        self._crowded = True
        for path_id in self.paths:
            if path_id != self._highlight:
                self._hooks.drop_alone(path_id)
        self._hooks.clear()
        self.rejoin_all()
        self._hooks.restyle()  # the selected path's look in a crowd
        self._schedule()

    def _dissolve(self) -> None:
        """Few paths again: each gets its own items back."""
        self._hooks.clear()
        self._changed = False
        self._crowded = False
        for path_id in self.paths:
            self._hooks.draw_alone(path_id)


class CrowdedView:
    """What every view with a crowd offers the window about its paths, answered by the crowd
    (a mixin for QWidget views that keep theirs in self._crowd)."""

    _crowd: Crowd[Any]

    def path_ids(self) -> list[int]:
        """The ids of the paths drawn now."""
        return list(self._crowd.paths)

    def is_crowded(self) -> bool:
        """True when the paths but the selected one are drawn by the crowd."""
        return self._crowd.crowded

    def set_highlight(self, path_id: int | None) -> None:
        """Draw one path thicker and on top with the others dimmed; None shows all alike."""
        self._crowd.select(path_id)

    def flush(self) -> None:
        """Draw the crowd after paths changed (at most once per call; a timer calls it soon
        after they change)."""
        self._crowd.flush()

    def expect_paths(self, count: int) -> None:
        """Say how many paths are coming in all: past the crowd's limit the crowd starts now,
        before the first of them gets items of its own only to give them up again."""
        self._crowd.expect(count)
