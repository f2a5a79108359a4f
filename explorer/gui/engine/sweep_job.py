"""Many learning rates from a few starts, computed on the window's worker (never the GUI thread).

One batched request: every start with every learning rate, a learning rate per trajectory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, Signal

from explorer.core.race import tune_grid
from explorer.core.trajectory import RunSettings, Status, Trajectory
from explorer.gui.engine.descent_worker import ChunkPayload, DescentWorker, RunRequest, RunResult

if TYPE_CHECKING:
    from explorer.gui.model.document import Descendable


class SweepJob(QObject):
    """Starts x learning rates as one worker request; reports progress, the trajectories, or why.

    finished carries the trajectories with row k * S + s for start s at lrs[k].
    """

    progressed = Signal(float)  # 0..1
    finished = Signal(object)  # list[Trajectory]
    failed = Signal(str)

    def __init__(
        self,
        worker: DescentWorker,
        new_run_id: Callable[[], int],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._new_run_id = new_run_id
        self._order: list[int] = []
        self._results: dict[int, tuple[Trajectory, ...]] = {}
        self._progress: dict[int, float] = {}
        self._steps = 1
        worker.chunk_ready.connect(self._on_chunk_ready)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)

    def start(
        self,
        expression: Descendable,
        starts: Sequence[tuple[float, float]],
        lrs: NDArray[np.float64],
        settings: RunSettings,
    ) -> None:
        """Submit the runs (cancelling any still going from an earlier start)."""
        self.cancel()
        self._steps = settings.steps + 1
        grid, rates = tune_grid(starts, lrs)
        requests = [RunRequest(self._new_run_id(), expression, grid, settings, lrs=rates)]
        self._order = [request.run_id for request in requests]
        self._progress = dict.fromkeys(self._order, 0.0)
        for request in requests:
            self._worker.submit(request)

    def cancel(self) -> None:
        """Stop the runs still going; nothing more is reported for them."""
        if self._order:
            self._worker.stop(self._order)
        self._order = []
        self._results = {}
        self._progress = {}

    @property
    def running(self) -> bool:
        """True while some of its runs are still computing."""
        return bool(self._order)

    def _on_chunk_ready(self, run_id: int, payload: ChunkPayload) -> None:
        if run_id not in self._progress:
            return
        done = np.where(payload.status != Status.RUNNING, self._steps, payload.end)
        self._progress[run_id] = float(np.mean(np.minimum(done, self._steps))) / self._steps
        self.progressed.emit(sum(self._progress.values()) / len(self._progress))

    def _on_finished(self, run_id: int, result: RunResult) -> None:
        if run_id not in self._progress:
            return
        self._results[run_id] = result.trajectories
        self._progress[run_id] = 1.0
        self.progressed.emit(sum(self._progress.values()) / len(self._progress))
        if len(self._results) == len(self._order):
            trajectories = [t for i in self._order for t in self._results[i]]
            self._order, self._results, self._progress = [], {}, {}
            self.finished.emit(trajectories)

    def _on_failed(self, run_id: int, message: str) -> None:
        if run_id not in self._progress:
            return
        self.cancel()
        self.failed.emit(message)
