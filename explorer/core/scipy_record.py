"""What a scipy.optimize method's run reports beside its path: its own module, so that
core.trajectory can name it without importing core.scipy_methods (which imports trajectory)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ScipyRecord:
    """What a minimize run reports beside its path and counts (Trajectory.evaluations): nit,
    scipy's message, and every point where f was evaluated, in order, with how many of them
    came before each path row."""

    nit: int
    message: str
    # (n, 2): every x scipy passed to f, in the order it asked.
    points: FloatArray
    # (rows,): evaluations made by the time path row k was reached (row 0: none yet; the
    # last row: all of them, those after the last iterate included).
    upto: NDArray[np.int64]

    def until_row(self, k: int) -> FloatArray:
        """The points evaluated by the time row k was reached (a view)."""
        if len(self.upto) == 0:
            return self.points[:0]
        return self.points[: int(self.upto[min(max(k, 0), len(self.upto) - 1)])]

    def cut(self, rows: int) -> ScipyRecord:
        """The record of the path's first rows only (a path stopped part-way on screen)."""
        if rows >= len(self.upto):
            return self
        upto = self.upto[: max(rows, 0)].copy()
        points = self.points[: int(upto[-1]) if len(upto) else 0].copy()
        return ScipyRecord(self.nit, self.message, points, upto)
