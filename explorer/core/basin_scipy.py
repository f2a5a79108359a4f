"""The basin map's per-start loop for scipy.optimize methods: one minimize per start.

A scipy method is not a torch optimiser stepping a batch: each start is its own minimize run
(core.scipy_methods.minimize, --steps as maxiter, tol as minimize's tol). Where each ends is
judged by the engine's outcome rule: diverged when x, y, f or the gradient there is not
finite or |x| or |y| exceeds the bound; core.minima then groups the ends as for torch runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from explorer.core.descent import Cancelled, Objective, Progress
from explorer.core.scipy_methods import minimize
from explorer.core.trajectory import FloatArray, RunSettings, Status


@dataclass(frozen=True, eq=False)
class ScipyEnds:
    """Where every start's minimize run ended: points (N, 2), f (N,), diverged (N,), most nit."""

    points: FloatArray
    f: FloatArray
    diverged: NDArray[np.bool_]
    steps_run: int


def scipy_ends(
    objective: Objective,
    starts: FloatArray,
    settings: RunSettings,
    *,
    progress: Progress | None = None,
) -> ScipyEnds:
    """One minimize per start (an (N, 2) array); progress(done, N) before each and at the end.

    settings.params are the method's scipy options (checked by the caller); progress returning
    False raises Cancelled between two starts.
    """
    total = len(starts)
    points = np.full((total, 2), np.nan)
    f = np.full(total, np.nan)
    diverged = np.zeros(total, dtype=bool)
    options = {key: value for key, value in settings.params if isinstance(value, int | float)}
    steps_run = 0
    for i in range(total):
        _report(progress, i, total)
        start = (float(starts[i, 0]), float(starts[i, 1]))
        result = minimize(
            objective, start, settings.optimizer, steps=settings.steps, tol=settings.tol,
            options=options, whole_path=False,
        )
        path = result.trajectory
        values = (*path.end, float(path.f[-1]), float(path.grad_x[-1]), float(path.grad_y[-1]))
        points[i], f[i] = path.end, values[2]
        diverged[i] = (
            path.status is Status.DIVERGED
            or not all(math.isfinite(v) for v in values)
            or max(abs(values[0]), abs(values[1])) > settings.bound
        )
        steps_run = max(steps_run, result.steps)
    _report(progress, total, total)
    return ScipyEnds(points, f, diverged, steps_run)


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and progress(done, total) is False:
        raise Cancelled(f"cancelled after {done} of {total} starts")
