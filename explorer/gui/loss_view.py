"""The loss plot: f against step for every trajectory, in the trajectories' colours."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from explorer.gui.colors import RGB, decimation_indices, points_per_path, rgba
from explorer.gui.images import save_widget_png

FloatArray = NDArray[np.float64]

# Linear plots clip f here: Qt and pyqtgraph overflow on larger coordinates.
_LINEAR_LIMIT = 1e100


# Above this many curves, all but the selected one are drawn by one shared curve per colour.
CROWD_PATHS = 40


@dataclass(eq=False)
class _Series:
    """One trajectory's values, and its own curve unless it is drawn in a crowd."""

    color: RGB
    curve: pg.PlotDataItem | None = None
    f: FloatArray = field(default_factory=lambda: np.empty(0))
    # The decimated steps and their f, each with a NaN after it: crowd curves join these.
    steps: FloatArray = field(default_factory=lambda: np.full(1, np.nan))
    values: FloatArray = field(default_factory=lambda: np.full(1, np.nan))
    low: float = math.inf  # the lowest and highest finite f, for the log scale's floor
    high: float = -math.inf


class LossView(QWidget):
    """f against optimiser step for every trajectory; optionally on a log scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._series: dict[int, _Series] = {}
        self._highlight: int | None = None
        # The crowd: past CROWD_PATHS curves, all but the selected one are drawn by one
        # curve per colour, rebuilt at most once per flush.
        self._expected = 0  # how many paths the window holds (expect_paths)
        self._crowded = False
        self._groups: dict[RGB, pg.PlotDataItem] = {}
        self._dirty_colors: set[RGB] = set()
        self._crowd_look_changed = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self.flush)
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
        """Draw (or update) one trajectory's f against step.

        In a crowd (more than CROWD_PATHS curves) the curve is drawn by flush() (or soon
        after, by a timer) together with the others of its colour.
        """
        rgb = (int(color[0]), int(color[1]), int(color[2]))
        series = self._series.get(path_id)
        if series is None:
            series = _Series(rgb)
            self._series[path_id] = series
        elif series.color != rgb and series.curve is None:
            self._dirty_colors.add(series.color)
        series.color = rgb
        series.f = np.asarray(f, dtype=np.float64).reshape(-1)
        rows = decimation_indices(len(series.f),
                                  points_per_path(max(len(self._series), self._expected)))
        series.steps = np.append(rows.astype(np.float64), np.nan)
        series.values = np.append(series.f[rows], np.nan)
        finite = series.f[np.isfinite(series.f)]
        series.low, series.high = ((float(finite.min()), float(finite.max())) if finite.size
                                   else (math.inf, -math.inf))
        if not self._crowded and len(self._series) > CROWD_PATHS:
            self._enter_crowd()
        if self._crowded:
            if path_id == self._highlight:
                self._draw(path_id, series)
            else:
                self._dirty_colors.add(rgb)
            if not self._flush_timer.isActive():
                self._flush_timer.start()  # the crowd, and the log floor, once for them all
        elif self._log and self._log_floor() != self._floor:
            self._redraw_all()  # the lowest f moved: every curve shifts
        else:
            self._draw(path_id, series)

    def remove_path(self, path_id: int) -> None:
        """Remove one trajectory's curve (unknown ids are ignored)."""
        series = self._series.pop(path_id, None)
        if series is None:
            return
        if series.curve is not None:
            self._plot.removeItem(series.curve)
        else:
            self._dirty_colors.add(series.color)
        if self._highlight == path_id:
            self._highlight = None
            self._crowd_look_changed = True
        if self._crowded:
            if not self._flush_timer.isActive():
                self._flush_timer.start()
        else:
            self._redraw_all()

    def clear_paths(self) -> None:
        """Remove every curve."""
        for series in self._series.values():
            if series.curve is not None:
                self._plot.removeItem(series.curve)
        for curve in self._groups.values():
            self._plot.removeItem(curve)
        self._groups.clear()
        self._series.clear()
        self._dirty_colors.clear()
        self._expected = 0
        self._crowded = False
        self._highlight = None
        self._floor = None
        self._flush_timer.stop()

    def path_ids(self) -> list[int]:
        """The ids of the curves drawn now."""
        return list(self._series)

    def curve(self, path_id: int) -> pg.PlotDataItem:
        """The curve of one trajectory that has its own (for tests; a crowded one has none)."""
        curve = self._series[path_id].curve
        if curve is None:
            raise KeyError(path_id)
        return curve

    def path_values(self, path_id: int) -> tuple[FloatArray, FloatArray, RGB]:
        """What one trajectory draws: the (decimated) steps, the y values drawn (NaN where f
        is not finite) and its colour."""
        series = self._series[path_id]
        return series.steps[:-1].copy(), self._values(series.values[:-1]), series.color

    def is_crowded(self) -> bool:
        """True when the curves but the selected one are drawn by shared curves."""
        return self._crowded

    def crowd_curve(self, color: RGB) -> pg.PlotDataItem:
        """The shared curve of the crowd's trajectories of one colour (for tests)."""
        return self._groups[(int(color[0]), int(color[1]), int(color[2]))]

    def set_highlight(self, path_id: int | None) -> None:
        """Draw one curve thicker and on top with the others dimmed; None shows all alike."""
        new = path_id if path_id in self._series else None
        old, self._highlight = self._highlight, new
        if not self._crowded:
            for key, series in self._series.items():
                self._style(key, series)
            return
        if old != new:
            self._crowd_look_changed = True
            if old is not None and old in self._series:
                self._drop_curve(self._series[old])  # back into the crowd
            if new is not None:
                self._draw(new, self._series[new])
                self._dirty_colors.add(self._series[new].color)
        self.flush()

    def _drop_curve(self, series: _Series) -> None:
        if series.curve is not None:
            self._plot.removeItem(series.curve)
            series.curve = None
        self._dirty_colors.add(series.color)

    # -- the crowd ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Redraw the crowd's shared curves from the trajectories that changed since the last
        flush (all of them when the log scale's floor moved)."""
        self._flush_timer.stop()
        if self._crowded and max(len(self._series), self._expected) <= CROWD_PATHS:
            self._leave_crowd()
            return
        if not self._crowded:
            return
        if self._log and self._log_floor() != self._floor:
            self._floor = self._log_floor()
            self._dirty_colors.update(series.color for series in self._series.values())
            if self._highlight is not None:
                self._draw(self._highlight, self._series[self._highlight])
        if not (self._dirty_colors or self._crowd_look_changed):
            return
        dirty, self._dirty_colors = self._dirty_colors, set()
        members: dict[RGB, list[_Series]] = {color: [] for color in dirty}
        for path_id, series in self._series.items():
            if series.color in members and path_id != self._highlight:
                members[series.color].append(series)
        for color, group in members.items():
            curve = self._groups.get(color)
            if not group:
                if curve is not None:
                    self._plot.removeItem(curve)
                    del self._groups[color]
                continue
            if curve is None:
                curve = pg.PlotDataItem(antialias=True, connect="finite")
                curve.setZValue(1)
                self._plot.addItem(curve)
                self._groups[color] = curve
            x = np.concatenate([series.steps for series in group])
            y = self._values(np.concatenate([series.values for series in group]))
            if np.isfinite(y).any():
                curve.setData(x, y, connect="finite")
            else:
                curve.setData([], [])
        self._crowd_look_changed = False
        dimmed = self._highlight is not None
        for color, curve in self._groups.items():
            curve.setPen(pg.mkPen(rgba(color, 80 if dimmed else 255), width=1.0))

    def expect_paths(self, count: int) -> None:
        """Say how many paths are coming in all: past CROWD_PATHS the crowd starts now, before
        the first of them gets items of its own only to give them up again."""
        self._expected = int(count)
        if count > CROWD_PATHS and not self._crowded:
            self._enter_crowd()

    def _enter_crowd(self) -> None:
        self._crowded = True
        self._crowd_look_changed = True
        for path_id, series in self._series.items():
            if path_id != self._highlight:
                self._drop_curve(series)

    def _leave_crowd(self) -> None:
        for curve in self._groups.values():
            self._plot.removeItem(curve)
        self._groups.clear()
        self._dirty_colors.clear()
        self._crowded = False
        self._redraw_all()

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
        low = min((series.low for series in self._series.values()), default=math.inf)
        high = max((series.high for series in self._series.values()), default=-math.inf)
        if not math.isfinite(low):
            return None
        with np.errstate(over="ignore"):
            span = min(high - low, 1e300)
        # A small fraction of the range, so the best point sits a few decades below the rest.
        offset = span * 1e-9 if span > 0 else max(abs(low) * 1e-9, 1e-12)
        return low, offset

    def _redraw_all(self) -> None:
        self._floor = self._log_floor() if self._log else None
        if self._crowded:
            self._dirty_colors.update(series.color for series in self._series.values())
            if self._highlight is not None:
                self._draw(self._highlight, self._series[self._highlight])
            self.flush()
            return
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
        with np.errstate(over="ignore", invalid="ignore"):  # f - low may overflow: the top
            shifted = np.where(finite, np.maximum(f - low, 0.0) + offset, 1.0)
            y = np.log10(np.minimum(shifted, 1e300))
        return np.where(finite, y, np.nan)

    def _draw(self, path_id: int, series: _Series) -> None:
        """Draw a trajectory with its own curve."""
        if series.curve is None:
            series.curve = pg.PlotDataItem(antialias=True, connect="finite")
            self._plot.addItem(series.curve)
        y = self._values(series.values[:-1])
        if not np.isfinite(y).any():
            series.curve.setData([], [])
        else:
            series.curve.setData(series.steps[:-1], y)
        self._style(path_id, series)

    def _style(self, path_id: int, series: _Series) -> None:
        if series.curve is None:
            return
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
