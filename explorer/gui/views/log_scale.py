"""The linear/log switch shared by the views that draw a landscape grid (contour and surface)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from explorer.core.landscape import LandscapeGrid


def finite_range(values: NDArray[np.float64]) -> tuple[float, float]:
    """The lowest and highest finite value, or (0, 1) where none is finite."""
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


class LogScaled:
    """Mixin: set_log_scale and is_log_scale over the view's _grid, _log and _draw_landscape."""

    _grid: LandscapeGrid | None
    _log: bool

    def set_log_scale(self, log: bool) -> None:
        """Redraw the current landscape (and its paths) on the log or linear scale."""
        if self._grid is None:
            self._log = log
            return
        self._draw_landscape(log)

    def is_log_scale(self) -> bool:
        """True when the landscape shows log10(f - min)."""
        return self._log

    def _draw_landscape(self, log: bool) -> None:
        raise NotImplementedError
