"""The frame scheduler: reveals computed steps at the chosen speed and paces the views' repaints.

Computing and animating are separate: the worker's rows arrive in the run store whenever they
come; one timer reveals them so that each path takes the time the user chose, whatever its
length (a reveal clock counts the seconds of animation since each path began, so a path that
waits a few frames for its turn catches up) and hands the changed paths to the views, one view
per event-loop turn, no more often than each view's repaint cost allows. Each repaint must have
happened before the next view updates: a turn that repainted every view would hold up input
for their sum.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QWidget

from explorer.gui.model.run_store import RunStore
from explorer.gui.model.shown import ShownTrajectory

FRAME_MS = 16
# A view update waits at most this long for the repaint of the one before it.
AWAIT_PAINT_MAX_S = 0.25
# Per frame, the views are updated for at most this long; the other paths wait a frame.
# Every path still moves, and the event loop never stalls on a hundred of them.
VIEW_BUDGET_S = 0.010
PAINT_SHARE = 1.5
TABLE_INTERVAL_S = 0.1
# A stalled frame does not make the paths jump: the reveal clock moves at most this much a tick.
MAX_TICK_S = 0.25
# Per frame, paths are moved for at most this long, checking the time every this many paths.
ANIMATION_BUDGET_S = 0.010
ANIMATION_SLICE = 256
TABLE_MAX_WAIT_S = 0.5  # the table waits for a turn without a view repaint at most this long
# Per update, table rows are refreshed for at most this long; the rest wait their turn.
TABLE_BUDGET_S = 0.008


@dataclass(eq=False)
class PacedViews:
    """Views updated together, no more often than their repainting allows.

    cost_s is the event-loop time that followed their last update (mostly their repaint, which
    Qt does after the timer tick). The next update waits PAINT_SHARE times what all the views
    cost (up to max_interval_s), so the window keeps answering input even when frames are slow
    (software OpenGL, many paths, a busy machine).
    """

    draw: Callable[[ShownTrajectory], None]
    # However slow the painting, paths move at least this often.
    max_interval_s: float
    # Called after each batch of draws: views that draw many paths together redraw once.
    flush: Callable[[], None] = lambda: None
    # The widget whose repaint shows the update.
    widget: QWidget | None = None
    dirty: dict[int, None] = field(default_factory=dict)  # an ordered set: oldest first
    cost_s: float = 0.0
    next_s: float = 0.0


class _PaintWatch(QObject):
    """Calls back when a watched widget gets a paint event, or for a widget with a `rendered`
    signal (the 3D view, which renders in a turn before it paints), when that fires."""

    def __init__(self, on_paint: Callable[[QObject], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_paint = on_paint
        self._watched: list[QObject] = []

    def watch(self, widget: QWidget) -> None:
        """Start watching widget (once)."""
        if not any(widget is known for known in self._watched):
            rendered = getattr(widget, "rendered", None)
            if rendered is not None:
                rendered.connect(lambda: self._on_paint(widget))
            else:
                widget.installEventFilter(self)
            self._watched.append(widget)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        """Report paint events; let every event through."""
        if event.type() == QEvent.Type.Paint:
            self._on_paint(watched)
        return False


class FrameScheduler(QObject):
    """One timer: the reveal clock, the paced views and the runs table's refreshes."""

    # True while paths move (or wait to be drawn), False once everything is on screen.
    activity_changed = Signal(bool)
    # Everything is revealed and drawn, and nothing is computing any more.
    went_idle = Signal()

    def __init__(self, store: RunStore, path_time: Callable[[], float],
                 refresh_row: Callable[[ShownTrajectory], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        # Seconds a whole path takes to draw; 0: each row as soon as it is computed.
        self._path_time = path_time
        self._refresh_row = refresh_row
        self.paused = False
        self.closing = False
        self.paced: list[PacedViews] = []
        self._last_tick = time.perf_counter()
        self._tick_done = self._last_tick
        self._last_table = 0.0
        # The views last updated, until their repaint: no other view updates meanwhile, so
        # that two repaints never fall into one event-loop turn (see _update_views).
        self._awaiting: PacedViews | None = None
        self._awaiting_since = 0.0
        self._awaiting_painted = False
        self._paint_watch = _PaintWatch(self._on_view_painted, self)
        self._updated: PacedViews | None = None
        self._table_dirty: dict[int, None] = {}  # an ordered set: oldest first
        # The paths that may still be revealed or computed, each with the reveal clock (seconds
        # of animation, not counting pauses) when it began.
        self.animating: dict[int, float] = {}
        self._clock = 0.0
        self._sweep: list[int] = []  # the animating paths this round still has to move
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_tick)

    # ----- what changed ---------------------------------------------------------------------

    def add_views(self, views: PacedViews) -> None:
        """Pace these views too; every path on screen is drawn in them."""
        self.paced.append(views)
        for path_id in self._store.paths:
            views.dirty[path_id] = None
        if self._store.paths:
            self.ensure_running()

    def animate(self, path_id: int) -> None:
        """This path may move: it has rows to reveal or is still computing."""
        self.animating.setdefault(path_id, self._clock)

    def mark_dirty(self, path_id: int) -> None:
        """Draw this path again in every view."""
        for views in self.paced:
            views.dirty[path_id] = None

    def mark_row(self, path_id: int) -> None:
        """Refresh this path's row in the table."""
        self._table_dirty[path_id] = None

    def forget(self, path_id: int) -> None:
        """A removed path: nothing of it is drawn or refreshed any more."""
        for views in self.paced:
            views.dirty.pop(path_id, None)
        self._table_dirty.pop(path_id, None)
        self.animating.pop(path_id, None)

    def is_busy(self) -> bool:
        """True while some path moves or waits to be drawn or listed."""
        return (
            any(views.dirty for views in self.paced)
            or bool(self._table_dirty)
            or any(self._store.paths[i].animating for i in self.animating
                   if i in self._store.paths)
        )

    # ----- the clock ------------------------------------------------------------------------

    def ensure_running(self) -> None:
        """Start the timer (it stops by itself once everything is on screen)."""
        if not self._timer.isActive() and not self.closing:
            self._last_tick = self._tick_done = time.perf_counter()
            self._updated = None
            self._timer.start()

    def stop(self) -> None:
        """Stop the timer for good (the window closes)."""
        self.closing = True
        self._timer.stop()

    def reset_credit(self) -> None:
        """The path time changed, or the animation resumes: each path goes on from where it
        is drawn, at the pace the path time gives it now."""
        duration = self._path_time()
        for path_id in self.animating:
            shown = self._store.paths.get(path_id)
            if shown is not None and duration > 0:
                done = max(shown.shown - 1, 0) / max(_length(shown), 1)
                self.animating[path_id] = self._clock - done * duration

    def hold_paths(self) -> None:
        """Paused: each path stops where it is drawn now."""
        for path_id in self.animating:
            shown = self._store.paths[path_id]
            shown.step_target = shown.shown

    def flush_everything(self) -> None:
        """Draw and list every change now, whatever it costs (the runs were stopped)."""
        for views in self.paced:
            self._flush_views(views)
        self._flush_table()

    def _on_tick(self) -> None:
        now = time.perf_counter()
        elapsed, self._last_tick = now - self._last_tick, now
        if not self.paused:
            self._clock += min(elapsed, MAX_TICK_S)
        self._advance_paths(time.perf_counter() + ANIMATION_BUDGET_S)
        self._update_views(now)
        # The table repaints in a turn of its own too, unless it has waited too long.
        table_due = now - self._last_table >= (
            TABLE_INTERVAL_S if self._updated is None else TABLE_MAX_WAIT_S)
        if self._table_dirty and table_due:
            self._flush_table(TABLE_BUDGET_S)
        if not self.animating and not any(views.dirty for views in self.paced) \
                and not self._store.in_flight and not self._table_dirty:
            self._timer.stop()
            self.activity_changed.emit(False)
            self.went_idle.emit()
        else:
            self.activity_changed.emit(not self.paused)
        self._tick_done = time.perf_counter()

    def _advance_paths(self, deadline: float) -> None:
        """Reveal the steps the clock allows, path by path, until the round or the time ends."""
        if not self._sweep:
            self._sweep = list(reversed(self.animating))
        paths = self._store.paths
        duration = self._path_time()
        while self._sweep:
            path_id = self._sweep.pop()
            began = self.animating.get(path_id)
            if began is None:
                continue  # removed meanwhile
            shown = paths.get(path_id)
            if shown is None or not shown.animating:
                del self.animating[path_id]
                continue
            if self.paused:
                target = shown.step_target
            elif duration <= 0:
                target = shown.received
            else:
                # Row 0 (the start) at once, the last row after `duration` seconds (the clock
                # sums frame times: a step due at 1.0 s must not wait for 0.9999999 s to round).
                target = 1 + int((self._clock - began) / duration * _length(shown) + 1e-6)
            new = min(shown.received, max(target, shown.shown))
            if new != shown.shown:
                shown.shown = new
                self.mark_dirty(shown.path_id)
                self._table_dirty[shown.path_id] = None
            if not shown.ended:
                shown.step_target = max(shown.step_target, shown.shown)
            if not shown.animating:
                del self.animating[path_id]
                self._table_dirty[shown.path_id] = None
            if len(self._sweep) % ANIMATION_SLICE == 0 and time.perf_counter() > deadline:
                break

    # ----- pacing the views -----------------------------------------------------------------

    def _update_views(self, now: float) -> None:
        """Update the most overdue views that are due, and learn what their repaint costs."""
        gap = max(now - self._tick_done - FRAME_MS / 1000.0, 0.0)
        if self._updated is not None:
            self._updated.cost_s = 0.5 * self._updated.cost_s + 0.5 * gap
        if self._awaiting is not None:
            # The last update's repaint comes first; then this tick, which may fall in the
            # repaint's turn, leaves the turn to input: the next view waits for the next tick.
            if self._awaiting_painted or now - self._awaiting_since >= AWAIT_PAINT_MAX_S:
                self._awaiting = None
            self._updated = None
            return
        due = [views for views in self.paced if views.dirty and now >= views.next_s]
        self._updated = min(due, key=lambda views: views.next_s) if due else None
        if self._updated is not None:
            self._flush_views(self._updated, VIEW_BUDGET_S)
            widget = self._updated.widget
            if widget is not None and widget.isVisible():
                self._awaiting, self._awaiting_since = self._updated, now
                self._awaiting_painted = False
                self._paint_watch.watch(widget)
            # The views share the event loop: each waits for what all of them cost.
            total = sum(views.cost_s for views in self.paced)
            wait = min(PAINT_SHARE * total, self._updated.max_interval_s)
            self._updated.next_s = now + wait

    def _on_view_painted(self, widget: QObject) -> None:
        if self._awaiting is not None and self._awaiting.widget is widget:
            self._awaiting_painted = True

    def _flush_views(self, views: PacedViews, budget_s: float | None = None) -> None:
        """Draw the paths that changed, oldest first, for at most budget_s."""
        self._drain(views.dirty, views.draw, budget_s)
        views.flush()

    def _flush_table(self, budget_s: float | None = None) -> None:
        """Refresh the rows that changed, oldest first, for at most budget_s."""
        self._last_table = time.perf_counter()
        self._drain(self._table_dirty, self._refresh_row, budget_s)

    def _drain(self, dirty: dict[int, None], apply: Callable[[ShownTrajectory], None],
               budget_s: float | None) -> None:
        deadline = math.inf if budget_s is None else time.perf_counter() + budget_s
        paths = self._store.paths
        while dirty:
            path_id = next(iter(dirty))
            del dirty[path_id]
            shown = paths.get(path_id)
            if shown is not None:
                apply(shown)
            if time.perf_counter() > deadline:
                break


def _length(shown: ShownTrajectory) -> int:
    """The steps a path has: known once it is computed, the step budget until then."""
    return max(shown.received - 1, 0) if shown.ended else shown.settings.steps
