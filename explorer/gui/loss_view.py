"""The loss plot: f against step for every trajectory, in the trajectories' colours."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from explorer.gui.colors import RGB, decimation_indices, rgba
from explorer.gui.images import save_widget_png

FloatArray = NDArray[np.float64]

# Linear plots clip f here: Qt and pyqtgraph overflow on larger coordinates.
_LINEAR_LIMIT = 1e100


@dataclass(eq=False)
class _Series:
    """One trajectory's curve and the values it was given."""

    color: RGB
    curve: pg.PlotDataItem
    f: FloatArray = field(default_factory=lambda: np.empty(0))


class LossView(QWidget):
    """f against optimiser step for every trajectory; optionally on a log scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._series: dict[int, _Series] = {}
        self._highlight: int | None = None
        self._log = False
        self._floor: tuple[float, float] | None = None  # (min f, offset) used by the log scale

        self._plot = pg.PlotWidget(background=(25, 25, 25))
        self._plot.setAntialiasing(True)
        item = self._plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.setLabel("left", "f")
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        for name in ("bottom", "left"):
            item.getAxis(name).setTextPen((220, 220, 220))

        self._log_box = QCheckBox("log y")
        self._log_box.setToolTip(
            "Plot f minus the lowest f of all paths on a log scale: steady (linear)\n"
            "convergence then shows as a straight line."
        )
        self._log_box.toggled.connect(self._on_log_box_toggled)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addStretch(1)
        bar.addWidget(self._log_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._plot, 1)
        layout.addLayout(bar)

    # -- paths -------------------------------------------------------------------------------

    def set_path(self, path_id: int, f: np.ndarray, color: tuple[int, int, int]) -> None:
        """Draw (or update) one trajectory's f against step."""
        series = self._series.get(path_id)
        if series is None:
            curve = pg.PlotDataItem(antialias=True, connect="finite")
            self._plot.addItem(curve)
            series = _Series((0, 0, 0), curve)
            self._series[path_id] = series
        series.color = (int(color[0]), int(color[1]), int(color[2]))
        series.f = np.asarray(f, dtype=np.float64).reshape(-1)
        if self._log and self._log_floor() != self._floor:
            self._redraw_all()  # the lowest f moved: every curve shifts
        else:
            self._draw(path_id, series)

    def remove_path(self, path_id: int) -> None:
        """Remove one trajectory's curve (unknown ids are ignored)."""
        series = self._series.pop(path_id, None)
        if series is None:
            return
        self._plot.removeItem(series.curve)
        if self._highlight == path_id:
            self._highlight = None
        self._redraw_all()

    def clear_paths(self) -> None:
        """Remove every curve."""
        for series in self._series.values():
            self._plot.removeItem(series.curve)
        self._series.clear()
        self._highlight = None
        self._floor = None

    def path_ids(self) -> list[int]:
        """The ids of the curves drawn now."""
        return list(self._series)

    def curve(self, path_id: int) -> pg.PlotDataItem:
        """The curve of one trajectory (for tests)."""
        return self._series[path_id].curve

    def set_highlight(self, path_id: int | None) -> None:
        """Draw one curve thicker and on top with the others dimmed; None shows all alike."""
        self._highlight = path_id if path_id in self._series else None
        for key, series in self._series.items():
            self._style(key, series)

    # -- scale -------------------------------------------------------------------------------

    def set_log_y(self, log: bool) -> None:
        """Show f (linear) or f minus the lowest f of all paths on a log axis."""
        log = bool(log)
        if self._log_box.isChecked() != log:
            self._log_box.setChecked(log)  # comes back through _on_log_box_toggled
            return
        self._log = log
        item = self._plot.getPlotItem()
        item.getAxis("left").setLogMode(log)
        item.setLabel("left", "f - min f  (log scale)" if log else "f")
        self._redraw_all()
        item.enableAutoRange()

    def is_log_y(self) -> bool:
        """True when the y axis is logarithmic."""
        return self._log

    def log_check_box(self) -> QCheckBox:
        """The "log y" check box (for tests and the window)."""
        return self._log_box

    def _on_log_box_toggled(self, checked: bool) -> None:
        self.set_log_y(checked)

    # -- drawing -----------------------------------------------------------------------------

    def _log_floor(self) -> tuple[float, float] | None:
        """The lowest finite f over all paths and the offset that keeps log10 finite there."""
        finite = [s.f[np.isfinite(s.f)] for s in self._series.values()]
        values = np.concatenate(finite) if finite else np.empty(0)
        if values.size == 0:
            return None
        low, high = float(values.min()), float(values.max())
        with np.errstate(over="ignore"):
            span = min(high - low, 1e300)
        # A small fraction of the range, so the best point sits a few decades below the rest.
        offset = span * 1e-9 if span > 0 else max(abs(low) * 1e-9, 1e-12)
        return low, offset

    def _redraw_all(self) -> None:
        self._floor = self._log_floor() if self._log else None
        for path_id, series in self._series.items():
            self._draw(path_id, series)

    def _values(self, f: FloatArray) -> FloatArray:
        """The y values to draw: NaN where f is not finite (the curve breaks there)."""
        finite = np.isfinite(f)
        if not self._log:
            return np.where(finite, np.clip(f, -_LINEAR_LIMIT, _LINEAR_LIMIT), np.nan)
        if self._floor is None:
            return np.full(f.shape, np.nan)
        low, offset = self._floor
        with np.errstate(over="ignore"):  # f - low may overflow to inf: drawn at the top
            shifted = np.where(finite, np.maximum(f - low, 0.0) + offset, 1.0)
            y = np.log10(np.minimum(shifted, 1e300))
        return np.where(finite, y, np.nan)

    def _draw(self, path_id: int, series: _Series) -> None:
        f = series.f
        rows = decimation_indices(len(f))
        y = self._values(f[rows])
        if not np.isfinite(y).any():
            series.curve.setData([], [])
        else:
            series.curve.setData(rows.astype(np.float64), y)
        self._style(path_id, series)

    def _style(self, path_id: int, series: _Series) -> None:
        selected = self._highlight == path_id
        dimmed = self._highlight is not None and not selected
        # Thin lines for the many: Qt draws wider antialiased lines several times slower.
        pen = pg.mkPen(rgba(series.color, 80 if dimmed else 255), width=2.5 if selected else 1.0)
        series.curve.setPen(pen)
        series.curve.setZValue(10 if selected else 1)

    # -- export ------------------------------------------------------------------------------

    def save_png(self, path: str) -> None:
        """Save the plot as PNG; raise OSError when it cannot be written."""
        save_widget_png(self._plot, path)

    def plot_widget(self) -> pg.PlotWidget:
        """The pyqtgraph plot (for tests)."""
        return self._plot
