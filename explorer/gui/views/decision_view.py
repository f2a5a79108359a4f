"""The decision regions: a network's data points over its output, shaded on a grid behind them.

Blue where the network says -1, red where it says +1, white on the boundary (the output mapped
to -1..1 by engine.network_job.shade); the points are coloured by their labels.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from explorer.core.trajectory import FloatArray
from explorer.gui.views.figure_names import name_figure

# Past this many points the scatter shows an even sample of them.
MAX_SHOWN_POINTS = 20_000
_NEGATIVE = (40, 90, 200)
_POSITIVE = (210, 50, 40)
_COLORMAP = pg.ColorMap([0.0, 0.5, 1.0], [(120, 160, 240), (250, 250, 250), (245, 130, 120)])


class DecisionView(QWidget):
    """The data's first two features as points, the network's regions behind them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plot = pg.PlotWidget()
        item = self._plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)  # right-click: export, as on every plot
        name_figure(self._plot, "Decision regions")
        self._image = pg.ImageItem(axisOrder="col-major")
        self._image.setLookupTable(_COLORMAP.getLookupTable(nPts=256))
        self._image.setZValue(-10)
        self._negative = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=0.5),
                                            brush=pg.mkBrush(*_NEGATIVE))
        self._positive = pg.ScatterPlotItem(size=6, pen=pg.mkPen("w", width=0.5),
                                            brush=pg.mkBrush(*_POSITIVE))
        for part in (self._image, self._negative, self._positive):
            self._plot.addItem(part)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)
        self._xs: FloatArray = np.empty(0)
        self._ys: FloatArray = np.empty(0)
        self._values: FloatArray = np.empty((0, 0))

    def set_data(self, features: FloatArray, labels: FloatArray, names: tuple[str, ...]) -> None:
        """Show the points (their first two features; one feature: against 0) by label."""
        points = np.asarray(features, dtype=np.float64).reshape(len(labels), -1)
        if points.shape[1] == 1:
            points = np.column_stack((points[:, 0], np.zeros(len(points))))
        shown = np.arange(len(points))
        if len(shown) > MAX_SHOWN_POINTS:
            shown = np.linspace(0, len(shown) - 1, MAX_SHOWN_POINTS).astype(np.int64)
        points, positive = points[shown, :2], np.asarray(labels)[shown] > 0
        self._negative.setData(points[~positive, 0], points[~positive, 1])
        self._positive.setData(points[positive, 0], points[positive, 1])
        item = self._plot.getPlotItem()
        item.setLabel("bottom", names[0] if names else "x1")
        item.setLabel("left", names[1] if len(names) > 1 else "")
        self.set_regions(None)
        item.enableAutoRange()

    def set_regions(self, regions: tuple[FloatArray, FloatArray, FloatArray] | None) -> None:
        """Shade values[i, j] (-1..1) at (xs[i], ys[j]) behind the points (None: no shading)."""
        if regions is None:
            self._xs, self._ys, self._values = np.empty(0), np.empty(0), np.empty((0, 0))
            self._image.clear()
            return
        xs, ys, values = regions
        self._xs, self._ys, self._values = xs, ys, values
        # Cell i covers xs[i] at its centre: the image spans half a cell past either end.
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        self._image.setImage(np.nan_to_num(values, nan=0.0), levels=(-1.0, 1.0),
                             autoLevels=False)
        self._image.setRect(float(xs[0] - dx / 2), float(ys[0] - dy / 2),
                            float(dx * len(xs)), float(dy * len(ys)))

    def clear(self) -> None:
        """Show nothing."""
        for part in (self._negative, self._positive):
            part.setData([], [])
        self.set_regions(None)

    def value_at(self, x: float, y: float) -> float:
        """The shade drawn nearest (x, y): its grid cell's value (NaN where none is drawn)."""
        if self._values.size == 0:
            return float("nan")
        i = int(np.argmin(np.abs(self._xs - x)))
        j = int(np.argmin(np.abs(self._ys - y)))
        return float(self._values[i, j])

    def image(self) -> pg.ImageItem:
        """The shading (for tests)."""
        return self._image

    def point_count(self) -> int:
        """How many data points are drawn."""
        return len(self._negative.data) + len(self._positive.data)

    def plot_widget(self) -> pg.PlotWidget:
        """The pyqtgraph widget (for saving and tests)."""
        return self._plot
