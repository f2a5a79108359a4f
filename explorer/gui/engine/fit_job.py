"""Work off the GUI thread, each piece on a QThread of its own: minibatch fits
(core.fitting.fit) and, through the same plumbing, a model's loss grids (grid_job).

Each piece of work is tagged with the caller's token; a cancelled one may still be winding
down when the next starts, and whatever it reports late is dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal

from explorer.gui.engine.threads import return_to_gui_thread

if TYPE_CHECKING:
    from explorer.core.fitting import FitResult, FitSettings
    from explorer.core.model_landscape import ModelLandscape

# Progress reports at most this often.
EMIT_INTERVAL_S = 1.0 / 30.0

# A piece of work: called with should_stop() and report(value) on its thread; returns the result.
Work = Callable[[Callable[[], bool], Callable[[object], None]], object]


@dataclass(frozen=True, eq=False)
class FitRequest:
    """One training run: the model's landscape, the start (p1, p2) and the fit settings;
    steps: how many optimiser steps it takes (core.fitting.check_fit), for the progress."""

    token: int
    landscape: ModelLandscape
    start: tuple[float, float]
    settings: FitSettings
    steps: int = 1


class _Task(QObject):
    """Runs one piece of work on its thread; emits from there (queued to the GUI thread)."""

    reported = Signal(int, object)  # token, a value the work reported on its way
    finished = Signal(int, object)  # token, the result
    failed = Signal(int, str)

    def __init__(self, token: int, work: Work) -> None:
        super().__init__()
        self.token = token
        self.work = work
        self.stop_flag = threading.Event()

    def run(self) -> None:
        """The thread's body: work, then report finished or failed (nothing once cancelled)."""
        try:
            result = self.work(self.stop_flag.is_set, self._report)
        except Exception as error:  # bad settings or a failed evaluation: say so, in words
            if not self.stop_flag.is_set():
                self.failed.emit(self.token, str(error) or type(error).__name__)
        else:
            if not self.stop_flag.is_set():
                self.finished.emit(self.token, result)
        finally:
            return_to_gui_thread(self)

    def _report(self, value: object) -> None:
        if not self.stop_flag.is_set():
            self.reported.emit(self.token, value)


@dataclass(eq=False)
class _Running:
    thread: QThread
    task: _Task


class ThreadJob(QObject):
    """Computes work off the GUI thread, one thread each; every signal arrives in the GUI thread
    and only for work not cancelled."""

    reported = Signal(int, object)  # token, a value reported on the way
    finished = Signal(int, object)  # token, the result
    failed = Signal(int, str)  # token, why

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: list[_Running] = []
        self._live: set[int] = set()

    @property
    def running(self) -> bool:
        """True while some work computes."""
        return bool(self._live)

    def thread_count(self) -> int:
        """Threads not yet ended (cancelled ones winding down included)."""
        return len(self._threads)

    def start_work(self, token: int, work: Work, name: str) -> None:
        """Compute this work on a new thread, named name."""
        task = _Task(token, work)
        thread = QThread()
        thread.setObjectName(name)
        task.moveToThread(thread)
        thread.started.connect(task.run)
        task.reported.connect(self._on_reported)
        task.finished.connect(self._on_finished)
        task.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._threads.append(_Running(thread, task))
        self._live.add(token)
        thread.start()

    def cancel(self, token: int | None = None) -> None:
        """Stop one piece of work (or all) at its next check; nothing more is reported for it."""
        for running in self._threads:
            if token is None or running.task.token == token:
                running.task.stop_flag.set()
                self._live.discard(running.task.token)

    def shutdown(self) -> None:
        """Cancel and join every thread."""
        self.cancel()
        for running in self._threads:
            running.thread.wait()
        self._threads.clear()

    # ----- slots (GUI thread) ----------------------------------------------------------------

    def _on_reported(self, token: int, value: object) -> None:
        if token in self._live:
            self.reported.emit(token, value)

    def _on_finished(self, token: int, result: object) -> None:
        if token in self._live:
            self._live.discard(token)
            self.finished.emit(token, result)

    def _on_failed(self, token: int, message: str) -> None:
        if token in self._live:
            self._live.discard(token)
            self.failed.emit(token, message)

    def _on_thread_finished(self) -> None:
        for running in list(self._threads):
            if running.thread.isFinished():
                running.thread.wait()
                self._threads.remove(running)


class FitJob(ThreadJob):
    """Minibatch fits off the GUI thread: progress (0..1) now and then, then the FitResult."""

    progressed = Signal(int, float)  # token, fraction 0..1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reported.connect(self._on_progress_reported)

    def start(self, request: FitRequest) -> None:
        """Compute this fit on a new thread."""
        self.start_work(request.token, lambda stop, report: _fit(request, stop, report),
                        f"FitJob-{request.token}")

    def _on_progress_reported(self, token: int, fraction: object) -> None:
        if isinstance(fraction, float):
            self.progressed.emit(token, fraction)


def _fit(request: FitRequest, should_stop: Callable[[], bool],
         report: Callable[[object], None]) -> FitResult:
    """The fit, reporting the fraction of its steps done at most EMIT_INTERVAL_S apart."""
    from explorer.core.fitting import fit

    last = [0.0]

    def progress(done: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= EMIT_INTERVAL_S:
            last[0] = now
            report(min(1.0, done / max(request.steps, 1)))

    return fit(request.landscape, request.start, request.settings, should_stop=should_stop,
               on_progress=progress)
