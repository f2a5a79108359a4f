"""A model's loss over its parameters, computed off the GUI thread: coarse grids first, then
the full one, so the window never freezes or waits blank on a large data set (issue 15)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from explorer.gui.engine.fit_job import ThreadJob

if TYPE_CHECKING:
    from explorer.core.landscape import LandscapeGrid
    from explorer.core.model_landscape import ModelLandscape


class GridJob(ThreadJob):
    """Grids of one landscape, coarse to fine, on a thread; a new one cancels the old."""

    coarse_ready = Signal(int, object)  # token, LandscapeGrid: one of the coarser grids
    grid_ready = Signal(int, object)  # token, LandscapeGrid: the last, full one

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reported.connect(self.coarse_ready)
        self.finished.connect(self.grid_ready)

    def compute(self, token: int, landscape: ModelLandscape, sizes: Sequence[int]) -> None:
        """Compute landscape.grid(n) for each size in turn (cancelling any earlier request):
        coarse_ready for all but the last, grid_ready for the last."""
        self.cancel()
        sizes = tuple(sizes)
        if not sizes:
            raise ValueError("no grid size to compute")
        self.start_work(token, lambda stop, report: _grids(landscape, sizes, stop, report),
                        f"GridJob-{token}")


def _grids(landscape: ModelLandscape, sizes: tuple[int, ...], should_stop: Callable[[], bool],
           report: Callable[[object], None]) -> LandscapeGrid:
    """Each grid but the last reported as it is done; the last returned."""
    for n in sizes[:-1]:
        report(landscape.grid(n, should_stop))
    return landscape.grid(sizes[-1], should_stop)
