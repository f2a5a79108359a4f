"""The QThread bridge to core.descent: immutable requests, run ids, pause, step, throttled emits.

The worker thread imports torch itself, so the window can be shown before the engine has loaded.
It interleaves the active runs chunk by chunk (a new click never waits for a long run to end),
checks its control flags between chunks, and sends copied rows at most about 60 times a second.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QThread, Signal

from explorer.core.scipy_methods import is_scipy_method
from explorer.core.trajectory import RunSettings, Trajectory
from explorer.gui.engine.threads import return_to_gui_thread

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from explorer.core.descent import Chunk
    from explorer.core.trajectory import Run
    from explorer.gui.model.document import Descendable

# About one emit per screen frame: faster only floods the GUI thread's event queue.
EMIT_INTERVAL_S = 1.0 / 60.0
# ...but the GUI thread takes in an emit path by path (some microseconds each): a batch of
# thousands of paths emits less often, so that taking them in stays a small part of its time.
EMIT_INTERVAL_PER_PATH_S = 25e-6
# The GIL: every Qt callback into Python on the GUI thread (a paint, a slot) must take it back
# from this thread. A thread waiting for the GIL gets it after at most the switch interval
# (5 ms by default, 1 ms here), and between bursts of computing this thread rests without it,
# so the GUI thread can run a whole frame of Python undisturbed.
SWITCH_INTERVAL_S = 0.001
BURST_S = 0.006
REST_S = 0.003


@dataclass(frozen=True, eq=False)
class RunRequest:
    """One batched descent: a function, its starts (N, 2), the settings, and the run id.

    lrs, when given, holds one learning rate per start (a learning-rate sweep); settings.lr is
    then ignored. state: also send the optimiser's per-coordinate state after every step.
    """

    run_id: int
    expression: Descendable  # an Expression, or a model's loss (document.LandscapeTarget)
    starts: NDArray[np.float64]
    settings: RunSettings
    lrs: NDArray[np.float64] | None = None
    state: bool = False

    def __post_init__(self) -> None:
        starts = np.array(self.starts, dtype=np.float64).reshape(-1, 2)
        starts.flags.writeable = False
        object.__setattr__(self, "starts", starts)
        if self.lrs is not None:
            lrs = np.array(self.lrs, dtype=np.float64).reshape(-1)
            if len(lrs) != len(starts):
                raise ValueError(f"{len(lrs)} learning rates for {len(starts)} starts")
            lrs.flags.writeable = False
            object.__setattr__(self, "lrs", lrs)


@dataclass(frozen=True, eq=False)
class ChunkPayload:
    """New rows of a run, copied: column i gained rows begin[i]..end[i] (absolute row numbers).

    xy, f and grad hold rows first_row..first_row + len(f) of every column; use rows(i).
    """

    first_row: int
    xy: NDArray[np.float64]
    f: NDArray[np.float64]
    grad: NDArray[np.float64]
    begin: NDArray[np.int64]
    end: NDArray[np.int64]
    status: NDArray[np.int8]
    reason: NDArray[np.int8]
    # The optimiser's state tensors over the same rows: name -> (rows, N, 2) (runs asked for it).
    state: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)
    # Columns whose whole path these rows complete, as made (a scipy method's: with the points
    # where f was evaluated, which the rows alone lack): column -> Trajectory.
    finished: Mapping[int, Trajectory] = field(default_factory=dict)

    def rows(
        self, i: int
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Column i's new rows: xy (k, 2), f (k,), grad (k, 2)."""
        lo, hi = int(self.begin[i]) - self.first_row, int(self.end[i]) - self.first_row
        return self.xy[lo:hi, i], self.f[lo:hi, i], self.grad[lo:hi, i]

    def state_rows(self, i: int) -> dict[str, NDArray[np.float64]]:
        """Column i's new rows of each state tensor: name -> (k, 2)."""
        lo, hi = int(self.begin[i]) - self.first_row, int(self.end[i]) - self.first_row
        return {name: values[lo:hi, i] for name, values in self.state.items()}


@dataclass(frozen=True, eq=False)
class RunResult:
    """A finished run: copies of every trajectory, exactly as the engine computed them."""

    trajectories: tuple[Trajectory, ...]


@dataclass(eq=False)
class _ActiveRun:
    """The worker's private state for one run."""

    request: RunRequest
    chunks: Iterator[Chunk]
    run: Run | None = None
    sent: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    progress: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    column: int = -1
    last_emit: float = 0.0
    # The trajectories as a scipy method made them (with their evaluated points), when the
    # run is one: its result, instead of copies of the run's buffers.
    finished: list[Trajectory] | None = None


def emit_interval(request: RunRequest) -> float:
    """Seconds between two emits of a run's new rows."""
    return max(EMIT_INTERVAL_S, EMIT_INTERVAL_PER_PATH_S * len(request.starts))


def chunk_steps_for(request: RunRequest) -> int:
    """Optimiser steps per chunk: the engine checks the control flags between chunks.

    A step costs a fraction of a millisecond on a small batch, and yielding costs about a
    microsecond, so single steps keep pause and stop within a frame at no real cost; only very
    large batches get longer chunks.
    """
    n = len(request.starts)
    return 1 if n <= 4096 else 1 + min(7, n // 4096)


class _EngineSignals(QObject):
    """What the engine reports, declared once for the loop and for the worker that relays it."""

    engine_ready = Signal()
    engine_failed = Signal(str)
    chunk_ready = Signal(int, object)  # run id, ChunkPayload
    finished = Signal(int, object)  # run id, RunResult
    failed = Signal(int, str)

    def relay(self, source: _EngineSignals) -> None:
        """Re-emit every signal of source from this object, in this object's thread."""
        for name in ("engine_ready", "engine_failed", "chunk_ready", "finished", "failed"):
            getattr(source, name).connect(getattr(self, name))


class DescentWorker(_EngineSignals):
    """Runs descents on its own thread; lives in the GUI thread and emits its signals there.

    Every public method is safe to call from the GUI thread. The loop on the worker thread
    emits to this object through queued connections, so any receiver, even a plain function
    or pytest-qt's waitSignal, runs in the GUI thread.
    """

    def __init__(self) -> None:
        super().__init__()
        self._loop = _DescentLoop()
        self._thread = QThread()
        self._thread.setObjectName("DescentWorker")
        self._loop.moveToThread(self._thread)
        self._thread.started.connect(self._loop.serve)
        self.relay(self._loop)

    def start(self) -> None:
        """Start the thread; it loads torch and then emits engine_ready."""
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._thread.start()

    @property
    def thread_handle(self) -> QThread:
        """The QThread the loop runs on."""
        return self._thread

    @property
    def is_ready(self) -> bool:
        """True once torch has loaded."""
        return self._loop.is_ready

    @property
    def is_idle(self) -> bool:
        """True when no run is queued or active."""
        return self._loop.is_idle

    def submit(self, request: RunRequest) -> None:
        """Queue a run; it starts as soon as the engine is ready (paused if the worker is)."""
        self._loop.submit(request)

    def stop(self, run_ids: Iterable[int]) -> None:
        """Drop these runs at the next chunk; the GUI treats their late signals as stale."""
        self._loop.stop(run_ids)

    def pause(self) -> None:
        """Stop computing after the current chunk."""
        self._loop.pause()

    def resume(self) -> None:
        """Compute again."""
        self._loop.resume()

    def step(self, run_ids: Iterable[int]) -> None:
        """While paused, let each listed run compute one more chunk (list an id twice: two)."""
        self._loop.step(run_ids)

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop every run, end the thread and join it; False if it did not end in time."""
        self._loop.request_quit()
        if not self._thread.isRunning():
            return True
        self._thread.quit()
        return bool(self._thread.wait(timeout_ms))

    def join(self) -> None:
        """Wait for the thread however long it takes (it may be importing torch)."""
        self._thread.quit()
        self._thread.wait()


class _DescentLoop(_EngineSignals):
    """The loop on the worker thread; its control methods are called from the GUI thread."""

    def __init__(self) -> None:
        super().__init__()
        self._cond = threading.Condition()
        # Shared with the GUI thread, guarded by _cond.
        self._incoming: list[RunRequest] = []
        self._stopped: set[int] = set()
        self._step_credits: dict[int, int] = {}
        self._paused = False
        self._quit = False
        self._busy = 0
        self._ready = False
        # Worker thread only.
        self._active: dict[int, _ActiveRun] = {}
        self._order: deque[int] = deque()
        self._burst_start = 0.0

    @property
    def is_ready(self) -> bool:
        """True once torch has loaded."""
        with self._cond:
            return self._ready

    @property
    def is_idle(self) -> bool:
        """True when no run is queued or active."""
        with self._cond:
            return self._busy == 0

    def submit(self, request: RunRequest) -> None:
        """Queue a run."""
        with self._cond:
            self._incoming.append(request)
            self._busy += 1
            self._cond.notify_all()

    def stop(self, run_ids: Iterable[int]) -> None:
        """Drop these runs."""
        with self._cond:
            self._stopped.update(run_ids)
            self._cond.notify_all()

    def pause(self) -> None:
        """Stop computing after the current chunk."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        """Compute again."""
        with self._cond:
            self._paused = False
            self._step_credits.clear()
            self._cond.notify_all()

    def step(self, run_ids: Iterable[int]) -> None:
        """While paused, let each listed run compute one more chunk."""
        with self._cond:
            for run_id in run_ids:
                self._step_credits[run_id] = self._step_credits.get(run_id, 0) + 1
            self._cond.notify_all()

    def request_quit(self) -> None:
        """Make serve() return after the current chunk."""
        with self._cond:
            self._quit = True
            self._cond.notify_all()

    # ----- worker thread --------------------------------------------------------------------

    def serve(self) -> None:
        """The thread's body: load the engine, then serve requests until shutdown."""
        try:
            try:
                self._load_engine()
            except Exception as error:  # a broken torch install: say so, keep the window usable
                self.engine_failed.emit(f"{type(error).__name__}: {error}")
                return
            with self._cond:
                self._ready = True
            self.engine_ready.emit()
            while self._next_round():
                pass
        finally:
            for active in self._active.values():
                _close(active)
            self._active.clear()
            self._order.clear()
            # Back to the GUI thread, which owns it; the worker's shutdown() quits the thread.
            return_to_gui_thread(self, quit_thread=False)

    @staticmethod
    def _load_engine() -> None:
        import torch

        # Small tensors on two shared cores: one thread is several times faster than many.
        torch.set_num_threads(1)
        from explorer.core import descent

        # Warm up: the first optimiser step imports torch.optim internals and builds kernels.
        descent.run_descent(
            lambda x, y: x * x + y * y, [[1.0, 1.0]], RunSettings(optimizer="adam", steps=2)
        )

    def _next_round(self) -> bool:
        """Take commands, then advance one runnable run by one chunk; False on shutdown."""
        with self._cond:
            while True:
                if self._quit:
                    return False
                self._take_commands()
                run_id = self._pick_runnable()
                if run_id is not None:
                    break
                # Nothing may run now: send what is buffered, then sleep until told otherwise.
                self._cond.release()
                try:
                    self._flush_all(force=True)
                finally:
                    self._cond.acquire()
                if self._quit or self._incoming or self._stopped or self._has_runnable():
                    continue
                self._cond.wait()
            paused = self._paused
        self._advance(self._active[run_id], paused)
        now = time.perf_counter()
        if now - self._burst_start >= BURST_S:
            time.sleep(REST_S)
            self._burst_start = time.perf_counter()
        return True

    def _take_commands(self) -> None:
        """Accept queued requests and drop stopped runs (called with the lock held)."""
        for request in self._incoming:
            if request.run_id in self._stopped:
                self._busy -= 1
                continue
            finished: list[Trajectory] | None = None
            if is_scipy_method(request.settings.optimizer):
                from explorer.core.scipy_descent import descend_scipy

                # One minimize per start, each whole: a stop takes effect between starts.
                finished = []
                chunks = descend_scipy(request.expression.evaluate, request.starts,
                                       request.settings, function=request.expression.text,
                                       finished=finished)
            else:
                from explorer.core.descent import descend

                chunks = descend(
                    request.expression.evaluate,
                    request.starts,
                    request.settings,
                    function=request.expression.text,
                    chunk_steps=chunk_steps_for(request),
                    lrs=request.lrs,
                    state=request.state,
                )
            self._active[request.run_id] = _ActiveRun(request, chunks, finished=finished)
            self._order.append(request.run_id)
        self._incoming.clear()
        for run_id in self._stopped:
            self._drop(run_id)  # the condition's lock is re-entrant
        self._stopped.clear()

    def _has_runnable(self) -> bool:
        return any(self._may_run(run_id) for run_id in self._order)

    def _may_run(self, run_id: int) -> bool:
        return not self._paused or self._step_credits.get(run_id, 0) > 0

    def _pick_runnable(self) -> int | None:
        """The next run in round-robin order allowed to compute (called with the lock held)."""
        for _ in range(len(self._order)):
            run_id = self._order[0]
            self._order.rotate(-1)
            if self._may_run(run_id):
                if self._paused:
                    self._step_credits[run_id] -= 1
                return run_id
        return None

    def _advance(self, active: _ActiveRun, paused: bool) -> None:
        """Compute one chunk of a run; emit its rows when due, and its end."""
        run_id = active.request.run_id
        try:
            chunk = next(active.chunks)
        except StopIteration:
            self._finish(active)
            return
        except Exception as error:  # the optimiser or the function refused: report, carry on
            self._drop(run_id)
            message = str(error) or type(error).__name__
            self.failed.emit(run_id, message)
            return
        self._note_chunk(active, chunk)
        now = time.perf_counter()
        if paused or now - active.last_emit >= emit_interval(active.request):
            self._emit_rows(active, now)

    def _note_chunk(self, active: _ActiveRun, chunk: Chunk) -> None:
        """Record how many rows of each column are now valid."""
        if active.run is None:
            active.run = chunk.run
            active.sent = np.zeros(chunk.run.size, dtype=np.int64)
            active.progress = np.zeros(chunk.run.size, dtype=np.int64)
        if not _elementwise(active.request.settings):
            # One start at a time, in order: each column's first chunk begins at row 0.
            if chunk.first_row == 0:
                active.column += 1
            active.progress[active.column] = chunk.end_row
        else:
            active.progress[:] = chunk.end_row

    def _emit_rows(self, active: _ActiveRun, now: float) -> None:
        """Send every column's unsent rows as one copied payload."""
        run = active.run
        if run is None:
            return
        active.last_emit = now
        stopped = run.status != 0
        end = np.where(stopped, run.last_row + 1, active.progress)
        fresh = end > active.sent
        if not fresh.any():
            return
        begin = active.sent.copy()
        lo, hi = int(begin[fresh].min()), int(end.max())
        payload = ChunkPayload(
            first_row=lo,
            xy=run.xy[lo:hi].copy(),
            f=run.f[lo:hi].copy(),
            grad=run.grad[lo:hi].copy(),
            begin=begin,
            end=end.astype(np.int64),
            status=run.status.copy(),
            reason=run.reason.copy(),
            state={name: values[lo:hi].copy() for name, values in run.state.items()},
            finished={i: path for i, path in enumerate(active.finished or ()) if fresh[i]},
        )
        active.sent = payload.end.copy()
        self.chunk_ready.emit(active.request.run_id, payload)

    def _flush_all(self, *, force: bool) -> None:
        now = time.perf_counter()
        for active in list(self._active.values()):
            if force or now - active.last_emit >= emit_interval(active.request):
                self._emit_rows(active, now)

    def _finish(self, active: _ActiveRun) -> None:
        run_id = active.request.run_id
        self._emit_rows(active, time.perf_counter())
        if active.finished is not None:
            result = RunResult(tuple(active.finished))
        else:
            result = RunResult(tuple(active.run.trajectories()) if active.run is not None else ())
        self._drop(run_id)
        self.finished.emit(run_id, result)

    def _drop(self, run_id: int) -> None:
        """Forget a run: close its generator and free its place (takes the lock)."""
        with self._cond:
            active = self._active.pop(run_id, None)
            if active is not None:
                _close(active)
                self._order.remove(run_id)
                self._busy -= 1
            self._step_credits.pop(run_id, None)


def _elementwise(settings: RunSettings) -> bool:
    from explorer.core.optimizers import get_spec

    # A scipy method runs its starts one at a time, like L-BFGS.
    return not is_scipy_method(settings.optimizer) and get_spec(settings.optimizer).elementwise


def _close(active: _ActiveRun) -> None:
    close = getattr(active.chunks, "close", None)
    if close is not None:
        close()
