"""scipy.optimize methods as the engine's chunks: one minimize per start, its whole path at once."""

from __future__ import annotations

from collections.abc import Iterator

from numpy.typing import ArrayLike

from explorer.core.descent import Chunk, run_descent, starts_array
from explorer.core.scipy_methods import Objective, is_scipy_method, minimize
from explorer.core.trajectory import Run, RunSettings, Trajectory


def descend_scipy(
    objective: Objective,
    starts: ArrayLike,
    settings: RunSettings,
    *,
    function: str = "",
    finished: list[Trajectory] | None = None,
) -> Iterator[Chunk]:
    """minimize from each start in turn (settings.steps as maxiter, settings.tol as tol, the
    params as the method's options); after each, its whole path as one chunk of its column.

    finished, when given, gets each start's Trajectory as minimize made it (with the points
    where f was evaluated and scipy's counts), which the run's buffers do not hold.
    """
    run = Run(starts_array(starts), settings, function)
    for i in range(run.size):
        start = (float(run.starts[i, 0]), float(run.starts[i, 1]))
        result = minimize(
            objective,
            start,
            settings.optimizer,
            steps=settings.steps,
            tol=settings.tol,
            options=settings.param_dict,  # type: ignore[arg-type]  # checked where they were set
            function=function,
        )
        trajectory = result.trajectory
        if finished is not None:
            finished.append(trajectory)
        # maxiter bounds the callbacks, so the path fits steps + 1 rows.
        rows = min(len(trajectory.x), settings.steps + 1)
        run.ensure_rows(rows)
        run.xy[:rows, i, 0] = trajectory.x[:rows]
        run.xy[:rows, i, 1] = trajectory.y[:rows]
        run.f[:rows, i] = trajectory.f[:rows]
        run.grad[:rows, i, 0] = trajectory.grad_x[:rows]
        run.grad[:rows, i, 1] = trajectory.grad_y[:rows]
        run.last_row[i] = rows - 1
        run.status[i] = int(trajectory.status)
        run.reason[i] = int(trajectory.reason)
        run.rows = max(run.rows, rows)
        yield Chunk(run, 0, rows, slice(i, i + 1))


def run_paths(
    objective: Objective, starts: ArrayLike, settings: RunSettings, function: str = ""
) -> list[Trajectory]:
    """Every start's whole path, whichever method the settings name (a session run again)."""
    if not is_scipy_method(settings.optimizer):
        return run_descent(objective, starts, settings, function=function).trajectories()
    paths: list[Trajectory] = []
    for _ in descend_scipy(objective, starts, settings, function=function, finished=paths):
        pass
    return paths
