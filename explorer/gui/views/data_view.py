"""The data view: a model's data points, its current fit and the minibatch of the current step."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtWidgets import QVBoxLayout, QWidget

from explorer.gui.views.figure_names import name_figure

FloatArray = NDArray[np.float64]
# predict(p1, p2, x) -> y_hat: ModelSpec.predict.
Predict = Callable[[float, float, FloatArray], FloatArray]
# Points of the fit curve across the data's x range.
CURVE_POINTS = 200
# Past this many points the scatter shows an even sample of them: a million dots draw slowly
# and show no more than twenty thousand.
MAX_SHOWN_POINTS = 20_000
_POINT = (170, 190, 220, 150)
_BATCH = (255, 170, 40, 230)
_CURVE = (240, 80, 80)


class DataView(QWidget):
    """Scatter of (x, y), the fit curve y_hat(x) at the current parameters, the batch in orange."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plot = pg.PlotWidget()
        item = self._plot.getPlotItem()
        item.setLabel("bottom", "x")
        item.setLabel("left", "y")
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setMenuEnabled(False)  # right-click: export, as on every plot
        name_figure(self._plot, "Data")
        self._points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(*_POINT))
        self._batch = pg.ScatterPlotItem(size=8, pen=pg.mkPen("k"), brush=pg.mkBrush(*_BATCH))
        self._curve = pg.PlotDataItem(pen=pg.mkPen(_CURVE, width=2))
        for part in (self._points, self._curve, self._batch):
            self._plot.addItem(part)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)
        self._x: FloatArray = np.empty(0)
        self._y: FloatArray = np.empty(0)
        self._predict: Predict | None = None
        self._params: tuple[float, float] | None = None
        self._rows: NDArray[np.int64] = np.empty(0, dtype=np.int64)

    def set_data(self, x: FloatArray, y: FloatArray, predict: Predict, y_label: str = "y") -> None:
        """Show these points (a sample of them past MAX_SHOWN_POINTS) and forget the fit."""
        self._x = np.asarray(x, dtype=np.float64)
        self._y = np.asarray(y, dtype=np.float64)
        self._predict = predict
        shown = np.arange(len(self._x))
        if len(shown) > MAX_SHOWN_POINTS:
            shown = np.linspace(0, len(shown) - 1, MAX_SHOWN_POINTS).astype(np.int64)
        self._points.setData(self._x[shown], self._y[shown])
        self._plot.getPlotItem().setLabel("left", y_label)
        self.set_fit(None)
        self.set_batch(None)
        self._plot.getPlotItem().enableAutoRange()

    def clear(self) -> None:
        """Show nothing (a function, not a model, is on screen)."""
        self._x, self._y, self._predict = np.empty(0), np.empty(0), None
        self._points.setData([], [])
        self.set_fit(None)
        self.set_batch(None)

    def set_fit(self, params: tuple[float, float] | None) -> None:
        """Draw the model's curve at these parameters (None: no curve)."""
        self._params = params
        if params is None or self._predict is None or len(self._x) == 0:
            self._curve.setData([], [])
            return
        self._curve.setData(*fit_curve(self._x, self._predict, params), connect="finite")

    def set_batch(self, rows: NDArray[np.int64] | None) -> None:
        """Highlight these rows of the data (None or empty: none)."""
        if rows is None or len(self._x) == 0:
            self._rows = np.empty(0, dtype=np.int64)
        else:
            self._rows = np.asarray(rows, dtype=np.int64)
        self._batch.setData(self._x[self._rows], self._y[self._rows])

    def fit_params(self) -> tuple[float, float] | None:
        """The parameters the curve is drawn at (for tests)."""
        return self._params

    def curve_data(self) -> tuple[FloatArray, FloatArray]:
        """The curve's points as drawn."""
        xs, ys = self._curve.getData()
        return (np.asarray(xs if xs is not None else [], dtype=np.float64),
                np.asarray(ys if ys is not None else [], dtype=np.float64))

    def point_count(self) -> int:
        """How many data points are drawn."""
        return len(self._points.data)

    def batch_rows(self) -> NDArray[np.int64]:
        """The rows highlighted as the current minibatch."""
        return self._rows.copy()

    def plot_widget(self) -> pg.PlotWidget:
        """The pyqtgraph widget (for saving and tests)."""
        return self._plot


def fit_curve(x: FloatArray, predict: Predict,
              params: tuple[float, float]) -> tuple[FloatArray, FloatArray]:
    """The model's curve at these parameters across the data's x range (a twentieth wider on
    each side), CURVE_POINTS points; NaN where it is not finite. x must not be empty."""
    low, high = float(x.min()), float(x.max())
    pad = 0.05 * (high - low) if high > low else 1.0
    xs = np.linspace(low - pad, high + pad, CURVE_POINTS)
    with np.errstate(all="ignore"):
        ys = np.asarray(predict(params[0], params[1], xs), dtype=np.float64)
    return xs, np.where(np.isfinite(ys), ys, np.nan)
