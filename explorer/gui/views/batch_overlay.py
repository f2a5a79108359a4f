"""The current minibatch's own loss, drawn faintly as contour lines over the full-data map."""

from __future__ import annotations

import itertools

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray

from explorer.gui.views.contour_landscape import contour_lines_at

FloatArray = NDArray[np.float64]
# The batch's loss is sampled this finely: its lines only hint where the batch's minimum is.
BATCH_GRID = 48
LEVELS = 10
_PEN = (255, 170, 40, 150)


def quantile_levels(z: FloatArray, count: int = LEVELS) -> FloatArray:
    """count levels at evenly spaced quantiles of the finite values (dense near the minimum)."""
    finite = z[np.isfinite(z)]
    if finite.size == 0 or finite.max() <= finite.min():
        return np.empty(0)
    levels = np.quantile(finite, np.linspace(0.0, 1.0, count + 2)[1:-1] ** 2)
    return np.unique(levels)


def polyline(lines: list[tuple[FloatArray, NDArray[np.intp]]]) -> tuple[FloatArray, FloatArray]:
    """All lines as one x, y pair with NaN between lines (drawn with connect='finite')."""
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    gap = np.array([np.nan])
    for points, offsets in lines:
        for start, end in itertools.pairwise(offsets):
            xs += [points[start:end, 0], gap]
            ys += [points[start:end, 1], gap]
    if not xs:
        return np.empty(0), np.empty(0)
    return np.concatenate(xs), np.concatenate(ys)


class BatchOverlay:
    """Faint contour lines of one minibatch's loss on the contour map's plot."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        pen = pg.mkPen(_PEN, width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
        self._item = pg.PlotDataItem(pen=pen)
        self._item.setZValue(5)  # over the map's image, under its paths
        plot.addItem(self._item)
        self._shown = False

    def show_grid(self, xs: FloatArray, ys: FloatArray, z: FloatArray) -> None:
        """Draw the lines of z[i, j] = batch loss at (xs[i], ys[j])."""
        lines = contour_lines_at(xs, ys, z, quantile_levels(z))
        x, y = polyline(lines)
        self._item.setData(x, y, connect="finite")
        self._shown = len(x) > 0

    def clear(self) -> None:
        """Draw nothing."""
        self._item.setData([], [])
        self._shown = False

    def is_shown(self) -> bool:
        """True while some line is drawn."""
        return self._shown

    def line_data(self) -> tuple[FloatArray, FloatArray]:
        """The points drawn (NaN between lines), for tests."""
        x, y = self._item.getData()
        return (np.asarray(x if x is not None else [], dtype=np.float64),
                np.asarray(y if y is not None else [], dtype=np.float64))
