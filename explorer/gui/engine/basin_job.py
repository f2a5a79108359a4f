"""A basin map computed on its own QThread: progress, cancel within a fraction of a second, join.

core.basin.basin_map is one long call; it asks its progress callback every few optimiser steps
whether to go on, so a cancel flag set from the GUI thread stops it at the next check. Each
computation has its own thread and generation number: a cancelled one may still be winding
down while the next one starts, and whatever it reports late is dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal

from explorer.gui.engine.threads import return_to_gui_thread

if TYPE_CHECKING:
    from explorer.core.basin import BasinMap
    from explorer.core.presets import Minimum
    from explorer.core.trajectory import RunSettings
    from explorer.gui.model.document import Descendable

# Progress reports at most this often: a faster stream only floods the GUI thread's queue.
EMIT_INTERVAL_S = 1.0 / 30.0
# Point-steps between cancel checks: a 512 x 512 grid checks every step, a small one every ten.
# On one CPU core this keeps a cancel well under a tenth of a second whatever the grid.
_CHECK_POINT_STEPS = 1 << 17


@dataclass(frozen=True, eq=False)
class BasinRequest:
    """One map: the function, its domain, the optimiser settings and the grid size."""

    expression: Descendable  # f, or a model's full-data loss
    domain: tuple[float, float, float, float]
    settings: RunSettings
    n: int
    known_minima: Sequence[Minimum] | None = None


def check_every_for(n: int) -> int:
    """Optimiser steps between progress (and cancel) checks for an n x n grid."""
    return max(1, min(10, _CHECK_POINT_STEPS // (n * n)))


class _BasinTask(QObject):
    """Runs one basin_map on the job's thread; emits from there (queued to the GUI thread)."""

    progressed = Signal(int, float, str)  # generation, fraction 0..1, phase
    finished = Signal(int, object)  # generation, BasinMap
    failed = Signal(int, str)
    cancelled = Signal(int)

    def __init__(self, generation: int, request: BasinRequest) -> None:
        super().__init__()
        self.generation = generation
        self.request = request
        self.stop_flag = threading.Event()
        self._last_emit = 0.0

    def run(self) -> None:
        """The thread's body: compute, then report exactly one of finished, failed, cancelled."""
        from explorer.core.basin import BasinCancelled, basin_map

        request = self.request
        try:
            result = basin_map(
                request.expression.evaluate,
                request.domain,
                request.settings,
                n=request.n,
                known_minima=request.known_minima,
                progress=self._progress,
                check_every=check_every_for(request.n),
            )
        except BasinCancelled:
            self.cancelled.emit(self.generation)
        except Exception as error:  # bad settings, or f failed to evaluate: say so, in words
            self.failed.emit(self.generation, str(error) or type(error).__name__)
        else:
            if self.stop_flag.is_set():
                self.cancelled.emit(self.generation)
            else:
                self.finished.emit(self.generation, result)
        finally:
            return_to_gui_thread(self)

    def _progress(self, done: int, total: int) -> bool:
        if self.stop_flag.is_set():
            return False
        now = time.perf_counter()
        if done >= total or now - self._last_emit >= EMIT_INTERVAL_S:
            self._last_emit = now
            # The descent is most of the time; grouping the end points into minima follows.
            if done >= total:
                self.progressed.emit(self.generation, 0.97, "minima")
            else:
                self.progressed.emit(self.generation, 0.97 * done / max(total, 1), "descent")
        return True


@dataclass(eq=False)
class _Running:
    thread: QThread
    task: _BasinTask


class BasinJob(QObject):
    """Computes one basin map at a time off the GUI thread; every signal arrives in the GUI thread.

    start() cancels any map still computing. cancel() returns at once (the thread ends within a
    fraction of a second); shutdown() cancels and joins every thread, for closing the window.
    """

    progressed = Signal(float, str)  # fraction 0..1, phase: "descent" or "minima"
    finished = Signal(object)  # BasinMap
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._current: int | None = None
        # Every thread not yet joined, the current one and any winding down after a cancel.
        self._threads: dict[int, _Running] = {}

    @property
    def running(self) -> bool:
        """True while the current map computes (a cancelled one winding down does not count)."""
        return self._current is not None

    def thread_count(self) -> int:
        """Threads not yet ended: the current one and any cancelled ones winding down."""
        return len(self._threads)

    def start(self, request: BasinRequest) -> None:
        """Compute a map (cancelling the one still computing, if any)."""
        self.cancel()
        self._generation += 1
        generation = self._generation
        task = _BasinTask(generation, request)
        thread = QThread()
        thread.setObjectName(f"BasinJob-{generation}")
        task.moveToThread(thread)
        thread.started.connect(task.run)
        task.progressed.connect(self._on_progressed)
        task.finished.connect(self._on_finished)
        task.failed.connect(self._on_failed)
        task.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._on_thread_finished)
        self._threads[generation] = _Running(thread, task)
        self._current = generation
        thread.start()

    def cancel(self) -> bool:
        """Stop the current map at its next check; nothing more is reported for it.

        True if a map was computing.
        """
        generation, self._current = self._current, None
        running = self._threads.get(generation) if generation is not None else None
        if running is None:
            return False
        running.task.stop_flag.set()
        return True

    def shutdown(self) -> None:
        """Cancel and join every thread (they stop at their next check)."""
        self.cancel()
        for running in self._threads.values():
            running.task.stop_flag.set()
            running.thread.wait()
        self._on_thread_finished()

    # ----- slots (GUI thread) ----------------------------------------------------------------

    def _on_progressed(self, generation: int, fraction: float, phase: str) -> None:
        if generation == self._current:
            self.progressed.emit(fraction, phase)

    def _on_finished(self, generation: int, result: BasinMap) -> None:
        if generation == self._current:
            self._current = None
            self.finished.emit(result)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self._current:
            self._current = None
            self.failed.emit(message)

    def _on_cancelled(self, generation: int) -> None:
        if generation == self._current:  # the core stopped by itself: treat as a cancel
            self._current = None
            self.cancelled.emit()

    def _on_thread_finished(self) -> None:
        """Forget the threads that have ended (their objects go with the last reference)."""
        ended = self.sender()
        for generation, running in list(self._threads.items()):
            if running.thread is ended or running.thread.isFinished():
                running.thread.wait()  # at most a moment: it has emitted finished
                del self._threads[generation]
