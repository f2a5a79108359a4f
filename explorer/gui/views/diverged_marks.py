"""Red crosses where diverged paths were last seen, with why they diverged as the tooltip."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray

from explorer.gui.views.clipping import Box, clip_polyline, inside_box

FloatArray = NDArray[np.float64]

DIVERGED_COLOR = (235, 45, 45)
DIVERGED_TIP = "diverged here"


def diverged_point(xy: FloatArray, box: Box | None) -> tuple[float, float] | None:
    """Where a diverged path was last seen: its last finite point, or, when that lies outside
    box, the point where its line last leaves box (None: it never was in it)."""
    points = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    rows = np.flatnonzero(np.isfinite(points).all(axis=1))
    if rows.size == 0:
        return None
    last = points[rows[-1]]
    if box is None or inside_box(last, box)[0]:
        return float(last[0]), float(last[1])
    # The last stretch that is in the box ends on its edge: where the path left for good.
    drawn = clip_polyline(points[rows], box)
    drawn = drawn[np.isfinite(drawn).all(axis=1)]
    if len(drawn) == 0:
        return None
    return float(drawn[-1, 0]), float(drawn[-1, 1])


class DivergedMarks:
    """One scatter item with a red cross per diverged path (its tooltip says why)."""

    def __init__(self, plot: pg.PlotWidget, z: float) -> None:
        self._marks: dict[int, tuple[float, float, str]] = {}
        self.item = pg.ScatterPlotItem(
            symbol="x", size=20, pen=pg.mkPen((20, 20, 20), width=1.2),
            brush=pg.mkBrush(*DIVERGED_COLOR), antialias=True, hoverable=True,
            tip=lambda x, y, data: f"{DIVERGED_TIP}: {data}",
        )
        self.item.setZValue(z)
        self.item.setToolTip(f"✕ {DIVERGED_TIP}: the last point before the path diverged")
        plot.addItem(self.item, ignoreBounds=True)

    def set(self, path_id: int, xy: FloatArray, why: str, box: Box | None) -> None:
        """Mark path_id as diverged for reason why (empty: it has not diverged)."""
        point = diverged_point(xy, box) if why else None
        old = self._marks.get(path_id)
        if point is None:
            if old is not None:
                del self._marks[path_id]
                self._refresh()
            return
        mark = (point[0], point[1], why)
        if old != mark:
            self._marks[path_id] = mark
            self._refresh()

    def remove(self, path_id: int) -> None:
        """Drop a path's cross (unknown ids are ignored)."""
        if self._marks.pop(path_id, None) is not None:
            self._refresh()

    def clear(self) -> None:
        """Drop every cross."""
        self._marks.clear()
        self._refresh()

    def marks(self) -> dict[int, tuple[float, float, str]]:
        """Per diverged path: where its cross is and why it diverged."""
        return dict(self._marks)

    def _refresh(self) -> None:
        values = list(self._marks.values())
        self.item.setData(pos=[(x, y) for x, y, _ in values], data=[why for *_, why in values])
