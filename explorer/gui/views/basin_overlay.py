"""A basin map drawn over the contour view: a see-through colour layer and the numbered minima."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QRectF

from explorer.core.basin import label_colour

if TYPE_CHECKING:
    from explorer.core.basin import BasinMap

DEFAULT_OPACITY = 0.6
# Above the landscape's colours (-10) and below its contour lines (1), so the lines stay on
# top; the minima's markers sit above the lines and below the descent paths (10).
_Z_LAYER, _Z_MARKERS, _Z_NUMBERS = -5, 8, 9


def basin_rgba(result: BasinMap) -> NDArray[np.uint8]:
    """The map as opaque RGBA pixels indexed [ix, iy], as a column-major ImageItem takes them."""
    labels = result.labels
    codes = np.unique(labels)
    out = np.empty((*labels.shape, 4), dtype=np.uint8)
    out[..., 3] = 255
    for code in codes.tolist():
        out[labels == code, :3] = label_colour(int(code))
    return out


def basin_rect(result: BasinMap) -> QRectF:
    """The image rectangle that centres pixel (ix, iy) on the start (xs[ix], ys[iy])."""
    xs, ys = result.xs, result.ys
    dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
    dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
    return QRectF(float(xs[0] - dx / 2), float(ys[0] - dy / 2),
                  float(xs[-1] - xs[0] + dx), float(ys[-1] - ys[0] + dy))


class BasinOverlay(QObject):
    """Draws one basin map on a plot: a layer with adjustable opacity, and the minima numbered."""

    def __init__(self, plot_item: pg.PlotItem) -> None:
        super().__init__(plot_item)
        self._plot = plot_item
        self._result: BasinMap | None = None
        self._visible = True
        self._opacity = DEFAULT_OPACITY
        self._image = pg.ImageItem(axisOrder="col-major")
        self._image.setZValue(_Z_LAYER)
        self._image.setOpacity(self._opacity)
        self._image.hide()
        plot_item.addItem(self._image, ignoreBounds=True)
        self._markers = pg.ScatterPlotItem(symbol="o", size=15, antialias=True,
                                           pen=pg.mkPen((255, 255, 255), width=2))
        self._markers.setZValue(_Z_MARKERS)
        plot_item.addItem(self._markers, ignoreBounds=True)
        self._numbers: list[pg.TextItem] = []

    def set_map(self, result: BasinMap | None) -> None:
        """Show this map (None removes it)."""
        self._result = result
        for item in self._numbers:
            self._plot.removeItem(item)
        self._numbers = []
        if result is None:
            self._image.clear()
            self._image.hide()
            self._markers.setData([], [])
            return
        self._image.setImage(basin_rgba(result), autoLevels=False)
        self._image.setRect(basin_rect(result))
        xmin, xmax, ymin, ymax = result.domain
        inside = [(i, m) for i, m in enumerate(result.minima)
                  if xmin <= m.x <= xmax and ymin <= m.y <= ymax]
        self._markers.setData(
            pos=np.array([[m.x, m.y] for _, m in inside], dtype=np.float64).reshape(-1, 2),
            brush=[pg.mkBrush(label_colour(i)) for i, _ in inside],
        )
        for i, m in inside:
            number = pg.TextItem(str(i + 1), color=(255, 255, 255), anchor=(-0.35, 1.05),
                                 fill=pg.mkBrush(0, 0, 0, 170))
            number.setPos(m.x, m.y)
            number.setZValue(_Z_NUMBERS)
            self._plot.addItem(number, ignoreBounds=True)
            self._numbers.append(number)
        self._apply_visibility()

    def set_visible(self, visible: bool) -> None:
        """Show or hide the layer and its markers (the map is kept)."""
        self._visible = bool(visible)
        self._apply_visibility()

    def is_visible(self) -> bool:
        """True when a map is shown."""
        return self._visible and self._result is not None

    def set_opacity(self, opacity: float) -> None:
        """The layer's opacity, 0 (invisible) to 1 (hides the landscape's colours)."""
        self._opacity = min(max(float(opacity), 0.0), 1.0)
        self._image.setOpacity(self._opacity)

    def opacity(self) -> float:
        """The layer's opacity."""
        return self._opacity

    def image_item(self) -> pg.ImageItem:
        """The colour layer (for tests)."""
        return self._image

    def marker_item(self) -> pg.ScatterPlotItem:
        """The minima's markers (for tests)."""
        return self._markers

    def number_items(self) -> list[pg.TextItem]:
        """The minima's numbers, in the order of the map's minima (inside the domain)."""
        return list(self._numbers)

    def _apply_visibility(self) -> None:
        shown = self.is_visible()
        self._image.setVisible(shown)
        self._markers.setVisible(shown)
        for item in self._numbers:
            item.setVisible(shown)
