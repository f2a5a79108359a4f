"""The runner: starts, steps, pauses and stops the descents the window shows.

It owns the descent worker and the run store, takes in what the worker sends (a slice of paths
per event-loop turn), and tells the frame scheduler which paths moved. Tools that start runs
(the race) or submit their own (sweep, tuning) are given the runner, never the window.
"""

from __future__ import annotations

import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from explorer.core.trajectory import Reason, RunSettings, Status, Trajectory
from explorer.gui.engine.descent_worker import ChunkPayload, DescentWorker, RunRequest, RunResult
from explorer.gui.model.document import Document
from explorer.gui.model.run_store import Point, RunStore
from explorer.gui.model.scheduler import FrameScheduler
from explorer.gui.model.shown import RGB, ShownTrajectory
from explorer.gui.model.state_replay import keeps_state

# The most steps (rows of x, y, f, gradient) the window keeps in memory, over all paths.
# Each row costs about 40 bytes here and as much in the worker's buffers, so this bounds the
# paths' memory to about 400 MB; past it the runs stop (the command line has no such limit).
MAX_HELD_ROWS = 5_000_000
# The worker's chunks are applied for at most this long per event-loop turn, in slices of
# this many paths.
INBOX_BUDGET_S = 0.012
INBOX_SLICE = 256

_STATUSES = {int(status): status for status in Status}
_REASONS = {int(reason): reason for reason in Reason}


@dataclass(eq=False)
class _Mail:
    """One message from the worker: a chunk (applied from path next on), a result, a failure."""

    run_id: int
    item: ChunkPayload | RunResult | str
    next: int = 0


class Runner(QObject):
    """The runs on screen and the worker that computes them."""

    # A line for the status bar, and how long it stays (ms).
    message = Signal(str, int)
    # A problem the user must see: title, text.
    error = Signal(str, str)
    # True while something runs and is not paused (the controls' Run/Pause button).
    running_changed = Signal(bool)
    # Paths were added to / removed from the store (their ids).
    paths_added = Signal(list)
    paths_removed = Signal(list)
    # The Shift-click starts waiting for Run changed.
    pending_changed = Signal()

    def __init__(self, document: Document, settings: Callable[[], RunSettings],
                 path_time: Callable[[], float],
                 refresh_row: Callable[[ShownTrajectory], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._settings = settings  # the controls' settings, for runs started without any
        self.store = RunStore()
        # path_time: seconds a whole path takes to draw (0: instant).
        self.scheduler = FrameScheduler(self.store, path_time, refresh_row, self)
        self.scheduler.activity_changed.connect(self.running_changed)
        self.scheduler.went_idle.connect(self._on_went_idle)
        self.worker = DescentWorker()
        self.worker.chunk_ready.connect(self._receive)
        self.worker.finished.connect(self._receive)
        self.worker.failed.connect(self._receive)
        # What the worker sent, applied in order a slice of paths at a time: a chunk of ten
        # thousand paths would otherwise hold up the event loop for a tenth of a second.
        self._inbox: deque[_Mail] = deque()
        self._inbox_timer = QTimer(self)
        self._inbox_timer.setInterval(0)
        self._inbox_timer.timeout.connect(self._drain_inbox)

    # ----- state ----------------------------------------------------------------------------

    def shown_trajectories(self) -> list[ShownTrajectory]:
        """Every trajectory on screen, oldest first."""
        return list(self.store.paths.values())

    def pending_starts(self) -> list[Point]:
        """Starts added with Shift-click, waiting for Run."""
        return list(self.store.pending)

    def is_paused(self) -> bool:
        """True while the animation and the worker are paused."""
        return self.scheduler.paused

    def is_animating(self) -> bool:
        """True while some path is still computing, being revealed or waiting to be drawn."""
        return bool(self.store.in_flight) or bool(self._inbox) or self.scheduler.is_busy()

    def new_run_id(self) -> int:
        """A run id no other request to the worker uses (tools that submit their own runs)."""
        return self.store.new_run_id()

    # ----- starting -------------------------------------------------------------------------

    def add_pending(self, x: float, y: float) -> None:
        """Add a start that waits for Run."""
        self.store.pending.append((x, y))
        self.pending_changed.emit()

    def set_pending(self, starts: list[Point]) -> None:
        """Replace the starts waiting for Run."""
        self.store.pending = list(starts)
        self.pending_changed.emit()

    def take_pending_starts(self) -> list[Point]:
        """Remove and return the Shift-click starts waiting for Run."""
        starts, self.store.pending = self.store.pending, []
        self.pending_changed.emit()
        return starts

    def start_runs(self, starts: list[Point], settings: RunSettings | None = None,
                   color: RGB | None = None, path_ids: list[int] | None = None) -> int | None:
        """Start one batched run from these points; its run id.

        settings: the controls' settings unless given; color: one colour for all its paths
        (a race entry) instead of one each; path_ids: the ids the paths had (a session's).
        """
        expression = self._document.target()  # f, or a model's full-data loss
        if expression is None or not starts:
            return None
        settings = settings if settings is not None else self._settings()
        run_id = self.store.new_run_id()
        xy = np.array(starts, dtype=np.float64).reshape(-1, 2)
        added = self.store.add_batch(run_id, xy, self.values_at(xy), settings, expression.text,
                                     color, path_ids)
        for shown in added:
            self.scheduler.animate(shown.path_id)
            # Drawn by the next frames, within their time budget: a hundred new paths at
            # once must not freeze the window.
            self.scheduler.mark_dirty(shown.path_id)
        self.paths_added.emit(added)
        # The window draws what the optimiser remembers: its runs keep torch's state.
        self.worker.submit(RunRequest(run_id, expression, xy, settings,
                                      state=keeps_state(settings)))
        if self.scheduler.paused:
            self.set_paused(False)
        self.scheduler.ensure_running()
        self.running_changed.emit(True)
        if not self.worker.is_ready:
            self.message.emit("The run starts as soon as the engine (torch) has loaded…", 5000)
        return run_id

    def add_finished(self, trajectories: list[Trajectory], settings: RunSettings | None, *,
                     imported: bool, source: str = "",
                     path_ids: list[int] | None = None) -> list[ShownTrajectory]:
        """Show paths already computed (a session's, or imported read-only)."""
        added = self.store.add_finished(trajectories, settings, imported=imported,
                                        source=source, path_ids=path_ids)
        self._show_whole(added)
        return added

    def restore_paths(self, paths: list[ShownTrajectory], next_path_id: int) -> None:
        """Show again paths taken off screen (Undo), with their ids; the next new path gets
        next_path_id. Paths that were computing stay stopped where they were."""
        self.discard()
        self.store.restore(paths, next_path_id)
        self._show_whole(paths)

    def set_next_path_id(self, next_path_id: int) -> None:
        """Number new paths from here on (a session's count), never below an id shown."""
        self.store.restart_numbering(next_path_id)

    def _show_whole(self, added: list[ShownTrajectory]) -> None:
        for shown in added:
            self.scheduler.mark_dirty(shown.path_id)
            self.scheduler.mark_row(shown.path_id)
        self.paths_added.emit(added)
        self.scheduler.ensure_running()

    def values_at(self, xy: np.ndarray) -> np.ndarray:
        """f at points (n, 2); NaN until the engine (torch, which evaluates f) has loaded."""
        if self._document.landscape is None or not self.worker.is_ready:
            return np.full(len(xy), np.nan)
        return self._document.values_at(xy)

    def run_pending(self) -> int | None:
        """Start the waiting starts as one batch."""
        return self.start_runs(self.take_pending_starts())

    # ----- run controls ---------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        """Pause or resume the animation and the worker."""
        self.scheduler.paused = paused
        if paused:
            self.worker.pause()
            self.scheduler.hold_paths()
            self.message.emit("Paused: Space resumes, the Right arrow steps.", 8000)
        else:
            self.worker.resume()
            self.scheduler.reset_credit()
        self.running_changed.emit(not paused and self.is_animating())

    def run_or_pause(self) -> None:
        """Space: run the waiting starts, or pause, or resume."""
        if self.store.pending:
            self.run_pending()
        elif self.scheduler.paused:
            self.set_paused(False)
            self.scheduler.ensure_running()
        elif self.is_animating():
            self.set_paused(True)
        else:
            self.message.emit(
                "Nothing to run: click the map to start there, or Shift-click to add starts "
                "and then press Space.", 8000)

    def step(self) -> None:
        """Pause and move every path one step (the worker computes what is missing)."""
        if self.store.pending:
            self.run_pending()
        if not self.scheduler.paused:
            self.set_paused(True)
        credits: dict[int, int] = {}
        for path_id in self.scheduler.animating:
            shown = self.store.paths[path_id]
            if not shown.animating:
                continue
            # The first step shows the start and the point after one step.
            shown.step_target = max(shown.step_target, shown.shown, 1) + 1
            missing = shown.step_target - shown.received
            if missing > 0 and not shown.ended:
                credits[shown.run_id] = credits.get(shown.run_id, 0) + missing
        for run_id, count in credits.items():
            self.worker.step([run_id] * count)
        self.scheduler.ensure_running()

    def stop(self) -> None:
        """Stop every path where it is drawn now, and say how many stopped."""
        stopped = self.stop_all(keep_paths=True)
        if stopped:
            self.message.emit(f"Stopped {stopped} path{'s' if stopped > 1 else ''}.", 5000)

    def stop_all(self, *, keep_paths: bool) -> int:
        """Stop every run; the paths stay where they are drawn now. Returns how many stopped."""
        self.worker.stop(list(self.store.in_flight))
        self.store.in_flight.clear()
        count = 0
        for path_id in self.scheduler.animating:
            shown = self.store.paths[path_id]
            if shown.animating:
                shown.stopped = True
                shown.received = shown.shown
                count += 1
                self.scheduler.mark_row(shown.path_id)
                if keep_paths:
                    self.scheduler.mark_dirty(shown.path_id)
        if self.scheduler.paused:
            self.scheduler.paused = False
            self.worker.resume()
        if keep_paths:
            self.scheduler.flush_everything()
        self.running_changed.emit(False)
        return count

    def reset(self) -> None:
        """Remove the paths and keep their starts, ready to run again."""
        starts = [shown.start for shown in self.store.paths.values()]
        self.stop_all(keep_paths=False)
        self._remove(list(self.store.paths))
        for start in starts:
            if start not in self.store.pending:
                self.store.pending.append(start)
        self.pending_changed.emit()
        if self.store.pending:
            self.message.emit(
                f"{len(self.store.pending)} starts ready: press Space to run them with the "
                "current settings.", 8000)

    def clear(self) -> None:
        """Clear all: stop and remove every path and start; new paths are numbered from 1."""
        self.discard()
        self.store.restart_numbering()

    def discard(self) -> None:
        """Stop and remove every path and every waiting start; the numbering goes on (a new
        function: Undo may bring the paths back with their ids)."""
        self.stop_all(keep_paths=False)
        self._remove(list(self.store.paths))
        self.store.pending = []
        self.pending_changed.emit()

    def remove_paths(self, path_ids: list[int]) -> None:
        """Remove these trajectories everywhere; a run whose paths are all gone is stopped."""
        self._remove(path_ids)
        for run_id in self.store.emptied_runs():
            self.worker.stop([run_id])
            del self.store.in_flight[run_id]

    def _remove(self, path_ids: list[int]) -> None:
        removed = self.store.remove(path_ids)
        for path_id in removed:
            self.scheduler.forget(path_id)
        self.paths_removed.emit(removed)

    def _on_went_idle(self) -> None:
        if self.scheduler.paused:
            self.set_paused(False)

    # ----- what the worker sends ------------------------------------------------------------

    def _receive(self, run_id: int, item: ChunkPayload | RunResult | str) -> None:
        """Queue a chunk, a result or a failure behind what still waits; apply what time allows."""
        self._inbox.append(_Mail(run_id, item))
        self._drain_inbox()

    def _drain_inbox(self) -> None:
        """Apply what the worker sent, oldest first, for at most INBOX_BUDGET_S per turn."""
        deadline = time.perf_counter() + INBOX_BUDGET_S
        while self._inbox:
            mail = self._inbox[0]
            if isinstance(mail.item, RunResult):
                self._inbox.popleft()
                self._apply_finished(mail.run_id, mail.item)
            elif isinstance(mail.item, str):
                self._inbox.popleft()
                self._apply_failed(mail.run_id, mail.item)
            elif self._apply_chunk(mail, deadline):
                self._inbox.popleft()
            if time.perf_counter() > deadline:
                break
        if self._inbox:
            self._inbox_timer.start()
        else:
            self._inbox_timer.stop()

    def _apply_chunk(self, mail: _Mail, deadline: float) -> bool:
        """Add a chunk's rows to its paths from mail.next on; True once all are added."""
        column = self.store.in_flight.get(mail.run_id)
        payload = mail.item
        if column is None or not isinstance(payload, ChunkPayload):
            return True  # stopped or replaced meanwhile: stale
        added = 0
        # Plain ints and a lookup: Status(int(...)) per path costs more than the path's rows.
        statuses, reasons = payload.status.tolist(), payload.reason.tolist()
        begin, end = payload.begin.tolist(), payload.end.tolist()
        index = mail.next
        while index < len(column):
            shown = column[index]
            if shown is not None:
                if end[index] > begin[index]:
                    before = shown.received
                    shown.append(*payload.rows(index), state=payload.state_rows(index))
                    whole = payload.finished.get(index)
                    if whole is not None:  # a scipy method's path: its dots come with it
                        shown.evaluations, shown.scipy = whole.evaluations, whole.scipy
                    added += shown.received - before
                    self.scheduler.animate(shown.path_id)
                shown.status = _STATUSES[statuses[index]]
                shown.reason = _REASONS[reasons[index]]
            index += 1
            if index % INBOX_SLICE == 0 and time.perf_counter() > deadline:
                break
        mail.next = index
        self.store.held_rows += added
        if self.store.held_rows > MAX_HELD_ROWS and self.store.in_flight \
                and self.store.recount_rows() > MAX_HELD_ROWS:
            self.stop_all(keep_paths=True)
            self.error.emit(
                "The runs were stopped",
                f"The paths on screen hold {self.store.held_rows:,} steps, more than the window "
                f"keeps in memory ({MAX_HELD_ROWS:,}, about 400 MB).\n\nEverything computed "
                "so far is kept and can be exported. For longer runs, remove some paths, "
                "use fewer steps, or use the command line (python main.py run … --csv), "
                "which has no such limit.")
        self.scheduler.ensure_running()
        return index >= len(column)

    def _apply_finished(self, run_id: int, result: RunResult) -> None:
        column = self.store.in_flight.pop(run_id, None)
        if column is None:
            return
        for shown, final in zip(column, result.trajectories, strict=False):
            if shown is None:
                continue
            # The final copy is authoritative: what was streamed must agree with it.
            if shown.received != len(final.x):
                shown.received = 0
                shown.append(np.column_stack([final.x, final.y]), final.f,
                             np.column_stack([final.grad_x, final.grad_y]), final.state)
            shown.status, shown.reason = final.status, final.reason
            # The counts, and a scipy method's evaluated points and message (the final
            # trajectory has them; the streamed rows do not).
            shown.evaluations, shown.scipy = final.evaluations, final.scipy
            if final.status is Status.DIVERGED and not shown.settings.ascent \
                    and final.scipy is None:  # a scipy method has no lr to blame
                shown.note = self._stability_note(shown.start, shown.settings.lr,
                                                  final.end)
            self.scheduler.mark_row(shown.path_id)
            self.scheduler.animate(shown.path_id)
        self.scheduler.ensure_running()

    def _stability_note(self, start: Point, lr: float, end: Point) -> str:
        """Why a run may have diverged: f undefined where it stopped, or lr against 2 / lambda_max
        at its start ('' if neither)."""
        landscape = self._document.landscape  # f, or a model's full-data loss
        if landscape is None:
            return ""
        from explorer.core.stability import stability_note

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return stability_note(landscape, start, lr, end)

    def _apply_failed(self, run_id: int, message: str) -> None:
        column = self.store.in_flight.pop(run_id, None)
        if column is None:
            return
        for shown in column:
            if shown is not None:
                shown.failure = message
                self.scheduler.mark_row(shown.path_id)
        self.message.emit(f"The run could not go on: {message}", 15000)
        self.scheduler.ensure_running()
