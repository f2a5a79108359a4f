"""The sharpness plot: the Hessian's top eigenvalue against step, with the edge of stability.

Gradient descent with step lr on a quadratic is stable only while its curvature stays below
2/lr; heavy-ball momentum beta moves that edge to (2 + 2*beta)/lr. The lines are dashed at
those heights (Cohen et al. 2021: full-batch training drives the sharpness up to them).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from explorer.core.trajectory import FloatArray
from explorer.gui.views.figure_names import name_figure

_CURVE = (90, 160, 255)
_EDGE = (230, 80, 60)
_MOMENTUM_EDGE = (240, 170, 40)


def stability_edges(optimizer: str, lr: float, momentum: float) -> list[tuple[float, str]]:
    """The dashed lines' heights and labels: 2/lr, and (2 + 2*beta)/lr for SGD's momentum."""
    edges = [(2.0 / lr, "2/lr")]
    if optimizer == "sgd" and momentum > 0.0:
        edges.append(((2.0 + 2.0 * momentum) / lr, f"(2+2·{momentum:g})/lr"))
    return edges


class SharpnessView(QWidget):
    """The sharpness measured during a network's training, and the edges of stability."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plot = pg.PlotWidget()
        item = self._plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setLabel("left", "sharpness")
        item.showGrid(x=True, y=True, alpha=0.2)
        item.setMenuEnabled(False)  # right-click: export, as on every plot
        name_figure(self._plot, "Sharpness")
        self._curve = pg.PlotDataItem(pen=pg.mkPen(_CURVE, width=2), symbol="o", symbolSize=4,
                                      symbolBrush=pg.mkBrush(*_CURVE), symbolPen=None)
        self._plot.addItem(self._curve)
        self._edges: list[pg.InfiniteLine] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._plot)

    def set_series(self, sharpness: FloatArray, edges: list[tuple[float, str]]) -> None:
        """Show (step, value) rows and a dashed line at each edge's height."""
        rows = np.asarray(sharpness, dtype=np.float64).reshape(-1, 2)
        finite = np.isfinite(rows).all(axis=1)
        self._curve.setData(rows[finite, 0], rows[finite, 1])
        for line in self._edges:
            self._plot.removeItem(line)
        self._edges = []
        for (height, label), color in zip(edges, (_EDGE, _MOMENTUM_EDGE), strict=False):
            line = pg.InfiniteLine(pos=height, angle=0, movable=False,
                                   pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine),
                                   label=f"{label} = {height:.4g}",
                                   labelOpts={"position": 0.1, "color": color})
            self._plot.addItem(line)
            self._edges.append(line)
        self._plot.getPlotItem().enableAutoRange()

    def clear(self) -> None:
        """Show nothing."""
        self.set_series(np.empty((0, 2)), [])

    def edge_heights(self) -> list[float]:
        """The dashed lines' heights, as drawn."""
        return [float(line.value()) for line in self._edges]

    def series(self) -> tuple[FloatArray, FloatArray]:
        """The points drawn: steps and values."""
        xs, ys = self._curve.getData()
        return (np.asarray(xs if xs is not None else [], dtype=np.float64),
                np.asarray(ys if ys is not None else [], dtype=np.float64))

    def plot_widget(self) -> pg.PlotWidget:
        """The pyqtgraph widget (for saving and tests)."""
        return self._plot
