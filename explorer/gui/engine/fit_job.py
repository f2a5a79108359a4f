"""Minibatch training runs (core.fitting.fit), each on a QThread of its own: progress, cancel.

Each fit is tagged with the caller's token (the path id it will be shown as); a cancelled fit
may still be winding down when the next starts, and whatever it reports late is dropped.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

if TYPE_CHECKING:
    from explorer.core.fitting import FitSettings
    from explorer.core.model_landscape import ModelLandscape

# Progress reports at most this often.
EMIT_INTERVAL_S = 1.0 / 30.0


@dataclass(frozen=True, eq=False)
class FitRequest:
    """One training run: the model's landscape, the start (p1, p2) and the fit settings;
    steps: how many optimiser steps it takes (core.fitting.check_fit), for the progress."""

    token: int
    landscape: ModelLandscape
    start: tuple[float, float]
    settings: FitSettings
    steps: int = 1


class _FitTask(QObject):
    """Runs one fit on its thread; emits from there (queued to the GUI thread)."""

    progressed = Signal(int, float)  # token, fraction 0..1
    finished = Signal(int, object)  # token, FitResult
    failed = Signal(int, str)

    def __init__(self, request: FitRequest) -> None:
        super().__init__()
        self.request = request
        self.stop_flag = threading.Event()
        self._last_emit = 0.0

    def run(self) -> None:
        """The thread's body: fit, then report finished or failed (nothing once cancelled)."""
        from explorer.core.fitting import fit

        request = self.request
        try:
            result = fit(request.landscape, request.start, request.settings,
                         should_stop=self.stop_flag.is_set, on_progress=self._progress)
        except Exception as error:  # bad settings or a failed evaluation: say so, in words
            if not self.stop_flag.is_set():
                self.failed.emit(request.token, str(error) or type(error).__name__)
        else:
            if not self.stop_flag.is_set():
                self.finished.emit(request.token, result)
        finally:
            thread = self.thread()
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            thread.quit()

    def _progress(self, done: int) -> None:
        now = time.perf_counter()
        if now - self._last_emit >= EMIT_INTERVAL_S:
            self._last_emit = now
            self.progressed.emit(self.request.token, min(1.0, done / max(self.request.steps, 1)))


@dataclass(eq=False)
class _Running:
    thread: QThread
    task: _FitTask


class FitJob(QObject):
    """Computes minibatch fits off the GUI thread; every signal arrives in the GUI thread."""

    progressed = Signal(int, float)  # token, fraction 0..1
    finished = Signal(int, object)  # token, FitResult
    failed = Signal(int, str)  # token, why

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: list[_Running] = []
        self._live: set[int] = set()

    @property
    def running(self) -> bool:
        """True while some fit computes."""
        return bool(self._live)

    def thread_count(self) -> int:
        """Threads not yet ended (cancelled ones winding down included)."""
        return len(self._threads)

    def start(self, request: FitRequest) -> None:
        """Compute this fit on a new thread."""
        task = _FitTask(request)
        thread = QThread()
        thread.setObjectName(f"FitJob-{request.token}")
        task.moveToThread(thread)
        thread.started.connect(task.run)
        task.progressed.connect(self._on_progressed)
        task.finished.connect(self._on_finished)
        task.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._threads.append(_Running(thread, task))
        self._live.add(request.token)
        thread.start()

    def cancel(self, token: int | None = None) -> None:
        """Stop one fit (or all) at its next batch; nothing more is reported for it."""
        for running in self._threads:
            if token is None or running.task.request.token == token:
                running.task.stop_flag.set()
                self._live.discard(running.task.request.token)

    def shutdown(self) -> None:
        """Cancel and join every thread."""
        self.cancel()
        for running in self._threads:
            running.thread.wait()
        self._threads.clear()

    # ----- slots (GUI thread) ----------------------------------------------------------------

    def _on_progressed(self, token: int, fraction: float) -> None:
        if token in self._live:
            self.progressed.emit(token, fraction)

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
