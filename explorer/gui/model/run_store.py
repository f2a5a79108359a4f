"""The runs the window shows: trajectories by id, the batches still computing, waiting starts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from explorer.core.optimizers import REGISTRY
from explorer.core.trajectory import RunSettings, Status, Trajectory
from explorer.gui.model.colors import trajectory_color
from explorer.gui.model.shown import RGB, ShownTrajectory

Point = tuple[float, float]


class RunStore:
    """The one owner of the trajectories on screen, their ids and their colours.

    A path id names one trajectory everywhere (views, table, CSV, session); a run id names one
    request to the worker (a batch of starts), and a batch still computing keeps its paths in
    order in `in_flight`, a removed path leaving None in its column.
    """

    def __init__(self) -> None:
        self.paths: dict[int, ShownTrajectory] = {}
        self.in_flight: dict[int, list[ShownTrajectory | None]] = {}
        self.pending: list[Point] = []
        # Rows received by the paths on screen (recounted exactly when it matters).
        self.held_rows = 0
        self._next_run_id = 1
        # Path ids count up from 1 and are never given twice: removing a path or resetting
        # to the starts keeps the count, only Clear all starts it again (restart_numbering).
        self._next_path_id = 1

    def new_run_id(self) -> int:
        """A run id no other request to the worker uses."""
        run_id = self._next_run_id
        self._next_run_id += 1
        return run_id

    @property
    def next_path_id(self) -> int:
        """The id the next path gets."""
        return self._next_path_id

    def _new_path(self, run_id: int, column: int, start: Point, settings: RunSettings,
                  function: str, start_f: float, color: RGB | None, *,
                  imported: bool = False, source: str = "",
                  path_id: int | None = None) -> ShownTrajectory:
        path_id = self._take_path_id(path_id)
        shown = ShownTrajectory(
            path_id=path_id,
            run_id=run_id,
            column=column,
            # The colour follows the id, so that #n has the same colour wherever it is shown.
            color=color if color is not None else trajectory_color(path_id - 1),
            start=start,
            settings=settings,
            function=function,
            start_f=start_f,
            imported=imported,
            source=source,
        )
        self.paths[shown.path_id] = shown
        return shown

    def _take_path_id(self, wanted: int | None) -> int:
        """wanted (a session's id) if no path on screen has it, else the next new id."""
        if wanted is None or wanted < 1 or wanted in self.paths:
            wanted = self._next_path_id
        self._next_path_id = max(self._next_path_id, wanted + 1)
        return wanted

    def add_batch(self, run_id: int, xy: np.ndarray, values: np.ndarray,
                  settings: RunSettings, function: str, color: RGB | None = None,
                  path_ids: Sequence[int] | None = None) -> list[ShownTrajectory]:
        """Paths for a batch about to be computed: one per start, in order (path_ids: the ids
        they had, from a session; new ones where missing or taken)."""
        column: list[ShownTrajectory | None] = []
        for index, (point, value) in enumerate(zip(xy.tolist(), values.tolist(), strict=True)):
            column.append(self._new_path(run_id, index, (float(point[0]), float(point[1])),
                                         settings, function, float(value), color,
                                         path_id=_wanted(path_ids, index)))
        self.in_flight[run_id] = column
        return [shown for shown in column if shown is not None]

    def add_finished(self, trajectories: list[Trajectory], settings: RunSettings | None, *,
                     imported: bool, source: str = "",
                     path_ids: Sequence[int] | None = None) -> list[ShownTrajectory]:
        """Paths already computed (a session's, or read from a CSV), shown whole."""
        run_id = self.new_run_id()  # never submitted: a batch label for session files
        added = []
        for index, t in enumerate(trajectories):
            shown = self._new_path(
                run_id, index, t.start,
                settings if settings is not None else RunSettings(
                    optimizer=t.optimizer if t.optimizer in REGISTRY else "sgd", lr=t.lr),
                t.function, float(t.f[0]), None, imported=imported,
                source=source or t.optimizer, path_id=_wanted(path_ids, index))
            shown.append(np.column_stack([t.x, t.y]), t.f, np.column_stack([t.grad_x, t.grad_y]))
            self.held_rows += shown.received
            shown.shown = shown.received
            shown.status, shown.reason = t.status, t.reason
            shown.evaluations, shown.scipy = t.evaluations, t.scipy
            if shown.status is Status.RUNNING:
                shown.stopped = True
            added.append(shown)
        return added

    def remove(self, path_ids: list[int]) -> list[int]:
        """Forget these paths (a batch in flight keeps a hole); the ids that were there."""
        removed = []
        for path_id in path_ids:
            shown = self.paths.pop(path_id, None)
            if shown is None:
                continue
            self.held_rows -= shown.received
            column = self.in_flight.get(shown.run_id)
            if column is not None:
                column[shown.column] = None
            removed.append(path_id)
        return removed

    def emptied_runs(self) -> list[int]:
        """Batches in flight none of whose paths is left (nobody waits for them any more)."""
        return [run_id for run_id, column in self.in_flight.items()
                if all(shown is None for shown in column)]

    def restore(self, paths: Sequence[ShownTrajectory], next_path_id: int) -> None:
        """Put back paths taken off screen, with their ids (Undo); nothing may be shown now."""
        for shown in paths:
            self.paths[shown.path_id] = shown
            self.held_rows += shown.received
        self._next_path_id = max([next_path_id, *(shown.path_id + 1 for shown in paths)])

    def restart_numbering(self, next_path_id: int = 1) -> None:
        """Number new paths from next_path_id (1 after Clear all), colours with them."""
        self._next_path_id = max([int(next_path_id), *(i + 1 for i in self.paths)])

    def recount_rows(self) -> int:
        """The exact number of rows the paths hold."""
        self.held_rows = sum(shown.received for shown in self.paths.values())
        return self.held_rows

    def pending_array(self) -> np.ndarray:
        """The waiting starts as an (n, 2) array."""
        return np.array(self.pending, dtype=np.float64).reshape(-1, 2)


def _wanted(path_ids: Sequence[int] | None, index: int) -> int | None:
    """The id asked for the index-th path, if any."""
    return path_ids[index] if path_ids is not None and index < len(path_ids) else None
