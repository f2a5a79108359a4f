"""Where a scipy method evaluated f, drawn faintly along its path on the contour map: small
semi-transparent dots in the path's colour, as many as the points evaluated by the time the
animated head was reached (Nelder-Mead's crowd of them beside BFGS's few)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QObject

from explorer.core.landscape import Domain
from explorer.gui.model.colors import RGB, rgba
from explorer.gui.views.clipping import inside_box

DOT_PX = 5.0
DOT_ALPHA = 140
# Dots farther than this many domain widths away are left out: Qt refuses huge coordinates
# (a method that stepped far off, or a hostile session's points).
CLIP_SPANS = 1e4
# Below the paths' lines (10) and above the contour lines (1) and pending starts (5).
_Z = 6

TIP = "Where the method evaluated f, in its path's colour (scipy.optimize methods)"


class EvaluationDots(QObject):
    """One faint scatter of evaluated points per path, by path id."""

    def __init__(self, plot_item: pg.PlotItem) -> None:
        super().__init__(plot_item)
        self._plot = plot_item
        self._items: dict[int, pg.ScatterPlotItem] = {}
        self._counts: dict[int, int] = {}

    def set_points(self, path_id: int, xy: NDArray[np.float64], color: RGB,
                   domain: Domain) -> None:
        """Show these points (n, 2) for a path (none: its dots go); unchanged counts are left
        as they are (the points only ever grow as the head moves on)."""
        count = len(xy)
        if count == 0:
            self.remove(path_id)
            return
        if self._counts.get(path_id) == count:
            return
        xmin, xmax, ymin, ymax = domain
        reach = CLIP_SPANS * max(xmax - xmin, ymax - ymin)
        box = (xmin - reach, xmax + reach, ymin - reach, ymax + reach)
        kept = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        kept = kept[inside_box(kept, box)]
        item = self._items.get(path_id)
        if item is None:
            item = pg.ScatterPlotItem(pxMode=True, size=DOT_PX, pen=None,
                                      brush=pg.mkBrush(rgba(color, DOT_ALPHA)))
            item.setZValue(_Z)
            item.setToolTip(TIP)
            self._plot.addItem(item, ignoreBounds=True)
            self._items[path_id] = item
        item.setData(x=kept[:, 0], y=kept[:, 1])
        self._counts[path_id] = count

    def count(self, path_id: int) -> int:
        """How many evaluated points a path shows (for tests)."""
        return self._counts.get(path_id, 0)

    def drawn(self, path_id: int) -> NDArray[np.float64]:
        """The points drawn for a path, (n, 2) (for tests)."""
        item = self._items.get(path_id)
        if item is None:
            return np.empty((0, 2))
        x, y = item.getData()
        return np.column_stack([x, y]).astype(np.float64)

    def remove(self, path_id: int) -> None:
        """A path's dots go."""
        item = self._items.pop(path_id, None)
        self._counts.pop(path_id, None)
        if item is not None:
            self._plot.removeItem(item)
