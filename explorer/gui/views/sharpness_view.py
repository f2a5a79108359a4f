"""The sharpness plot: the Hessian's top eigenvalue against step, with the edge of stability.

Gradient descent with step lr on a quadratic is stable only while its curvature stays below
2/lr; heavy-ball momentum beta moves that edge to (2 + 2*beta)/lr. The lines are dashed at
those heights (Cohen et al. 2021: full-batch training drives the sharpness up to them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from explorer.core.trajectory import FloatArray
from explorer.gui.views.figure_names import name_figure

if TYPE_CHECKING:
    from explorer.core.network import TrainSettings

_CURVE = (90, 160, 255)
_EDGE = (230, 80, 60)
_MOMENTUM_EDGE = (240, 170, 40)


def stability_edges(optimizer: str, lr: float, momentum: float) -> list[tuple[float, str]]:
    """The dashed lines' heights and labels: 2/lr, and (2 + 2*beta)/lr for SGD's momentum."""
    edges = [(2.0 / lr, "2/lr")]
    if optimizer == "sgd" and momentum > 0.0:
        edges.append(((2.0 + 2.0 * momentum) / lr, f"(2+2·{momentum:g})/lr"))
    return edges


def training_edges(settings: TrainSettings) -> list[tuple[float, str]]:
    """The edges of a network's training: its optimiser, lr and (SGD) momentum."""
    momentum = dict(settings.params).get("momentum", 0.0)
    beta = float(momentum) if isinstance(momentum, int | float) else 0.0
    return stability_edges(settings.optimizer, settings.lr, beta)


class SharpnessView(QWidget):
    """The sharpness measured during a network's training, and the edges of stability.

    Points arrive a few at a time while a network trains: they go into the last curve of a
    chain, and a curve that holds BLOCK points is left as it is and a new one started (sharing
    its last point, so the line goes on), so each arrival redraws at most BLOCK points however
    long the series grows.
    """

    BLOCK = 256

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plot = pg.PlotWidget()
        item = self._plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setLabel("left", "sharpness")
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setMenuEnabled(False)  # right-click: export, as on every plot
        name_figure(self._plot, "Sharpness")
        self._steps: list[float] = []
        self._values: list[float] = []
        self._curves: list[pg.PlotDataItem] = []
        self._tail_from = 0  # the index of the last curve's first point
        self._edges: list[pg.InfiniteLine] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)
        self.start([])

    def start(self, edges: list[tuple[float, str]]) -> None:
        """Show no points yet and a dashed line at each edge's height."""
        for curve in self._curves:
            self._plot.removeItem(curve)
        self._curves = [self._new_curve()]
        self._steps, self._values, self._tail_from = [], [], 0
        for line in self._edges:
            self._plot.removeItem(line)
        self._edges = []
        for (height, label), color in zip(edges, (_EDGE, _MOMENTUM_EDGE), strict=False):
            line = pg.InfiniteLine(pos=height, angle=0, movable=False,
                                   pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine),
                                   label=f"{label} = {height:.4g}",
                                   # Left-aligned just inside the view, above the line (a
                                   # centred label spilled past the axis in a narrow plot),
                                   # on a dark fill where the curve runs behind it.
                                   labelOpts={"position": 0.02, "color": color,
                                              "anchors": [(0, 1), (0, 1)],
                                              "fill": (25, 25, 25, 200)})
            self._plot.addItem(line)
            self._edges.append(line)
        self._plot.getPlotItem().enableAutoRange()

    def append(self, sharpness: FloatArray) -> None:
        """Add (step, value) rows after those shown (rows with a non-finite number are left
        out)."""
        rows = np.asarray(sharpness, dtype=np.float64).reshape(-1, 2)
        rows = rows[np.isfinite(rows).all(axis=1)]
        if not len(rows):
            return
        self._steps.extend(rows[:, 0].tolist())
        self._values.extend(rows[:, 1].tolist())
        block = self.BLOCK
        while len(self._steps) - self._tail_from > block:
            end = self._tail_from + block  # this curve keeps BLOCK points, the next starts
            self._draw_tail(end)  # at its last one
            self._curves.append(self._new_curve())
            self._tail_from = end - 1
        self._draw_tail(len(self._steps))

    def set_series(self, sharpness: FloatArray, edges: list[tuple[float, str]]) -> None:
        """Show (step, value) rows and a dashed line at each edge's height."""
        self.start(edges)
        self.append(sharpness)

    def clear(self) -> None:
        """Show nothing."""
        self.start([])

    def edge_heights(self) -> list[float]:
        """The dashed lines' heights, as drawn."""
        return [float(line.value()) for line in self._edges]

    def series(self) -> tuple[FloatArray, FloatArray]:
        """The points given to the curves, read back from them: steps and values."""
        xs: list[FloatArray] = []
        ys: list[FloatArray] = []
        for i, curve in enumerate(self._curves):
            x, y = curve.getOriginalDataset()
            if x is None or y is None:
                continue
            skip = 1 if i else 0  # a curve's first point is the one before it ended on
            xs.append(np.asarray(x[skip:], dtype=np.float64))
            ys.append(np.asarray(y[skip:], dtype=np.float64))
        if not xs:
            return np.empty(0), np.empty(0)
        return np.concatenate(xs), np.concatenate(ys)

    def curve_count(self) -> int:
        """The curves the series is drawn in (one per BLOCK points)."""
        return len(self._curves)

    def plot_widget(self) -> pg.PlotWidget:
        """The pyqtgraph widget (for saving and tests)."""
        return self._plot

    def _new_curve(self) -> pg.PlotDataItem:
        curve = pg.PlotDataItem(pen=pg.mkPen(_CURVE, width=2), symbol="o", symbolSize=4,
                                symbolBrush=pg.mkBrush(*_CURVE), symbolPen=None)
        self._plot.addItem(curve)
        return curve

    def _draw_tail(self, end: int) -> None:
        """The last curve: the points from its first up to end."""
        begin = self._tail_from
        self._curves[-1].setData(np.array(self._steps[begin:end]),
                                 np.array(self._values[begin:end]))
