"""The function on screen: its expression, domain and sampled landscape."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from explorer.core.landscape import Domain, LandscapeGrid, sample_landscape

if TYPE_CHECKING:
    from explorer.core.expression import Expression

GRID_SIZE = 256


def quiet_landscape(expression: Expression, domain: Domain, n: int = GRID_SIZE) -> LandscapeGrid:
    """Sample f on the grid; log of a negative and friends give NaN gaps, not warnings."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return sample_landscape(expression, domain, n)


class Document:
    """What the window draws and descends: f, its domain and, once sampled, its grid."""

    def __init__(self) -> None:
        self.expression: Expression | None = None
        self.domain: Domain = (-1.0, 1.0, -1.0, 1.0)
        self.grid: LandscapeGrid | None = None

    def set(self, expression: Expression, domain: Domain, grid: LandscapeGrid | None) -> None:
        """Show this function (grid None: not sampled yet, the engine is loading)."""
        self.expression, self.domain, self.grid = expression, domain, grid

    def values_at(self, xy: np.ndarray) -> np.ndarray:
        """f at points (n, 2) by numpy (no torch), NaN where it is undefined."""
        if len(xy) == 0 or self.expression is None:
            return np.full(len(xy), np.nan)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                values = self.expression.evaluate_numpy(xy[:, 0], xy[:, 1])
            except (ArithmeticError, ValueError, TypeError):
                return np.full(len(xy), np.nan)
        return np.broadcast_to(np.asarray(values, dtype=np.float64), (len(xy),)).copy()
