"""The loss plot: f against step for every trajectory, in the trajectories' colours."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from pyqtgraph.graphicsItems.PlotDataItem import PlotDataset
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QHBoxLayout, QVBoxLayout, QWidget

from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames
from explorer.gui.model.colors import PALETTE, RGB, points_per_path, rgba
from explorer.gui.model.shown import run_label
from explorer.gui.views.crowd import CROWD_PATHS, Crowd, CrowdedView, CrowdHooks
from explorer.gui.views.figure_names import name_figure
from explorer.gui.views.images import save_widget_png
from explorer.gui.views.trail_layer import TrailLayer

FloatArray = NDArray[np.float64]

# Linear plots clip f here: Qt and pyqtgraph overflow on larger coordinates.
_LINEAR_LIMIT = 1e100


LEFT_AXIS_WIDTH = 56  # pixels: labels like "-2.5e+03" or "1000" and the axis title

# A curve of its own is downsampled by pyqtgraph to this many bins per pixel of the plot's
# width, each drawn as its highest and lowest f ("peak"): spikes stay, and a curve of 100,000
# steps draws about two points per pixel column.
DOWNSAMPLE_BINS_PER_PIXEL = 1.0
# The legend names the curves while there are no more than there are colours.
LEGEND_PATHS = len(PALETTE)
LEGEND_COLUMNS = 4


# The x axis grows to the next of these (times a power of ten) as steps come in: an axis that
# moved with every step would redraw its ticks and grid in every frame.
_STEP_MARKS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def round_up_steps(step: float) -> float:
    """The smallest x-axis end at or above step: 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k."""
    if not step > 1.0 or not math.isfinite(step):
        return step
    decade = 10.0 ** math.floor(math.log10(step))
    for mark in _STEP_MARKS:
        end = mark * decade
        if end >= step * (1.0 - 1e-12):
            return end
    return 10.0 * decade  # not reached: _STEP_MARKS ends at 10


def round_out(low: float, high: float, parts: int = 8) -> tuple[float, float]:
    """low and high rounded outwards to a multiple of a round step (1, 2 or 5 x 10^k) of about
    (high - low) / parts: as f comes down a little each frame, the rounded range stays put."""
    span = high - low
    if not (span > 0 and math.isfinite(span)):
        return low, high
    raw = span / parts
    power = 10.0 ** math.floor(math.log10(raw))
    step = next((m * power for m in (1.0, 2.0, 5.0) if m * power >= raw), 10.0 * power)
    return math.floor(low / step) * step, math.ceil(high / step) * step


class _LossViewBox(pg.ViewBox):
    """The loss plot's ViewBox: its auto range starts the steps at 0, rounds the last one up
    (round_up_steps) and rounds f outwards (round_out). A range that moved with every step
    would redraw the axes, the grid and every curve in every frame."""

    def childrenBounds(self, frac: object = None, orthoRange: object = (None, None),
                       items: object = None) -> list[list[float] | None]:
        bounds: list[list[float] | None] = super().childrenBounds(frac, orthoRange, items)
        steps = bounds[0]
        if steps is not None:
            # Steps start at 0. The bounds reach a little below it, by the curves' pen widths
            # in data units, which change with the range and made the range creep each frame;
            # and a downsampled curve's points sit in the middle of their bins, so it starts
            # a few steps in.
            bounds[0] = [0.0, round_up_steps(steps[1])]
        values = bounds[1]
        if values is not None:
            bounds[1] = list(round_out(values[0], values[1]))
        return bounds


class _LossCurveItem(pg.PlotDataItem):
    """A curve of f against step that pyqtgraph downsamples by peaks, newest steps included.

    pyqtgraph's "peak" mode draws whole bins only, each as its highest and lowest f, and
    leaves out the steps after the last whole bin: the newest, where a descent ends (on the
    log scale, the lowest point of the plot). Those few steps (less than a bin, a pixel wide)
    are drawn here as they are. pyqtgraph calls _getDisplayDataset, an internal name, for the
    data it draws: the reason pyqtgraph is pinned below its next minor version.
    """

    def _getDisplayDataset(self) -> PlotDataset | None:  # pyqtgraph's name
        shown = super()._getDisplayDataset()
        steps, values = self.getOriginalDataset()
        if shown is None or steps is None or values is None or len(shown.x) < 2:
            return shown
        if shown.x[0] != shown.x[1]:  # not downsampled: peaks come in pairs at one step
            return shown
        bin_steps = int(self._adsLastValue)
        # A bin of s steps from step k is shown at step k + s // 2: the first step not shown.
        end = int(shown.x[-1]) - bin_steps // 2 + bin_steps
        tail = slice(end, len(steps))
        if not 0 < len(steps) - end < bin_steps:  # none left out, or clipped off the view
            return shown
        return PlotDataset(np.concatenate([shown.x, steps[tail]]),
                           np.concatenate([shown.y, values[tail]]), shown.xAllFinite)


@dataclass(eq=False)
class _Series:
    """One trajectory's values, and its own curve unless it is drawn in a crowd."""

    color: RGB
    curve: pg.PlotDataItem | None = None
    f: FloatArray = field(default_factory=lambda: np.empty(0))
    low: float = math.inf  # the lowest and highest finite f, for the log scale's floor
    high: float = -math.inf
    # (step, y) for every step as drawn on the scale `scale`, extended as the path grows: the
    # crowd's layer draws these (None: not worked out yet, or out of date).
    points: FloatArray | None = None
    scale: object = None


class LossView(CrowdedView, QWidget):
    """f against optimiser step for every trajectory; optionally on a log scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Every trajectory, and which of them the crowd draws: past CROWD_PATHS curves, all
        # but the selected one, by one layer that strokes only what is new since its last
        # paint. pyqtgraph's downsampling does not make that unneeded: each curve item costs
        # a bounding-box query and a paint of its own on every repaint, and strokes all its
        # points again, while the layer strokes only the new segments (100 paths: see
        # tests/bench/bench_gui.py).
        self._crowd: Crowd[_Series] = Crowd(CrowdHooks(
            draw_alone=self._draw_alone, drop_alone=self._drop_curve, join=self._join,
            leave=self._layer_remove, clear=self._clear_layer, draw=self._draw_crowd,
            restyle=self._restyle, prepare=self._prepare_crowd,
        ), CROWD_PATHS, self)
        self._series = self._crowd.paths
        self._layer = TrailLayer(track_bounds=True)
        self._layer.setZValue(1)
        self._layer.hide()
        self._log = False
        self._floor: tuple[float, float] | None = None  # (min f, offset) used by the log scale
        self._names = FUNCTION_AXES  # the value's name: f, or loss for a model on data

        self._view_box = _LossViewBox()
        self._plot = pg.PlotWidget(background=(25, 25, 25), viewBox=self._view_box)
        self._plot.setAntialiasing(True)
        item = self._plot.getPlotItem()
        item.setLabel("bottom", "step")
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        name_figure(self._plot, "Loss")
        for name in ("bottom", "left"):
            axis = item.getAxis(name)
            axis.setTextPen((220, 220, 220))
            # With the grid on, an axis spans the plot, so every curve update repainted its
            # ticks, labels and grid (3-4 ms each); cached, it is redrawn only when it changes.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        item.addItem(self._layer)  # with its bounds: the plot ranges over the crowd too
        # Every curve added from now on (see _draw): downsampled to the plot's width keeping
        # spikes, and clipped to the steps in view once the user zooms in.
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        # A fixed width for the f labels: as f falls, labels of another width would lay the
        # plot out again, and repaint all of it a second time.
        item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        # Each curve's run id in its colour, as the runs table numbers it (curves of their own
        # only: past CROWD_PATHS the crowd's layer draws them, and so many would hide the plot).
        self._legend = item.addLegend(offset=(-6, 6), labelTextColor=(230, 230, 230),
                                      brush=pg.mkBrush(0, 0, 0, 150), colCount=LEGEND_COLUMNS)
        self._legend.setLabelTextSize("7pt")
        self._legend.setVisible(False)  # no curves yet: no empty box in the corner
        item.getViewBox().sigResized.connect(self._fit_legend)

        self._log_box = QCheckBox("log y")
        self._log_box.toggled.connect(self._on_log_box_toggled)
        self._label_value()
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

        In a crowd (more than CROWD_PATHS curves) the curve is drawn by the crowd's layer,
        which repaints at flush() (or soon after, by a timer).
        """
        rgb = (int(color[0]), int(color[1]), int(color[2]))
        series = self._series.get(path_id) or _Series(rgb)
        values = np.asarray(f, dtype=np.float64).reshape(-1)
        old, series.f, series.color = series.f, values, rgb
        grew = 0 < len(old) <= len(values) and _same(old[-1], values[len(old) - 1])
        fresh = values[len(old):] if grew else values
        low, high = _finite_range(fresh)
        if grew:
            series.low, series.high = min(series.low, low), max(series.high, high)
        else:
            series.low, series.high = low, high
            series.points = None
        # The crowd, and the log floor, are drawn once for them all at the next flush.
        if self._crowd.put(path_id, series):
            if not self._crowd.crowded and self._log and self._log_floor() != self._floor:
                self._redraw_all()  # the lowest f moved: every curve shifts
            else:
                self._draw(path_id, series)

    def _points(self, series: _Series) -> FloatArray:
        """(step, y) for each step of a series on the current scale, extended when it grew."""
        scale = (self._log, self._floor)
        old = series.points
        n = len(series.f)
        if old is not None and series.scale == scale and len(old) <= n:
            m = len(old)
            new = np.column_stack([np.arange(m, n, dtype=np.float64), self._values(series.f[m:])])
            series.points = np.concatenate([old, new]) if m else new
        else:
            series.points = np.column_stack([np.arange(n, dtype=np.float64),
                                             self._values(series.f)])
        series.scale = scale
        return series.points

    def remove_path(self, path_id: int) -> None:
        """Remove one trajectory's curve (unknown ids are ignored)."""
        if self._crowd.remove(path_id) is not None and not self._crowd.crowded:
            self._redraw_all()  # the lowest f, and so the log scale, may have moved

    def clear_paths(self) -> None:
        """Remove every curve."""
        self._crowd.clear()
        self._floor = None

    def curve(self, path_id: int) -> pg.PlotDataItem:
        """The curve of one trajectory that has its own (for tests; a crowded one has none)."""
        curve = self._series[path_id].curve
        if curve is None:
            raise KeyError(path_id)
        return curve

    def path_values(self, path_id: int) -> tuple[FloatArray, FloatArray, RGB]:
        """What one trajectory draws with a curve of its own, before pyqtgraph downsamples it
        to the plot's width: the steps, the y values (NaN where f is not finite) and its
        colour."""
        series = self._series[path_id]
        return np.arange(len(series.f), dtype=np.float64), self._values(series.f), series.color

    def legend_shown(self) -> bool:
        """Whether the legend box is drawn (for tests)."""
        return bool(self._legend.isVisible())

    def legend_box(self) -> QRectF:
        """The legend's size in the plot's pixels (for tests)."""
        return QRectF(self._legend.boundingRect())

    def legend_names(self) -> list[str]:
        """The names in the legend, in its order (for tests)."""
        return [label.text for _, label in self._legend.items]

    def crowd_layer(self) -> TrailLayer:
        """The layer that draws the crowd (for tests)."""
        return self._layer

    def _draw_alone(self, path_id: int) -> None:
        self._draw(path_id, self._series[path_id])

    def _drop_curve(self, path_id: int) -> None:
        series = self._series[path_id]
        if series.curve is not None:
            self._plot.removeItem(series.curve)
            series.curve = None
            self._fit_legend()

    def _fit_legend(self) -> None:
        """Show the legend in as many columns as fit half the plot; hide it where none do
        (a narrow plot: the runs table names the colours too)."""
        count = len(self._legend.items)
        if not 0 < count <= LEGEND_PATHS:
            self._legend.setVisible(False)
            return
        box = self._plot.getViewBox().boundingRect()
        for columns in range(min(LEGEND_COLUMNS, count), 0, -1):
            self._legend.setColumnCount(columns)
            self._legend.updateSize()
            size = self._legend.boundingRect()
            if size.width() <= 0.6 * box.width() and size.height() <= 0.5 * box.height():
                self._legend.setVisible(True)
                return
        self._legend.setVisible(False)

    def _restyle(self) -> None:
        for key, series in self._series.items():
            self._style(key, series)

    # -- the crowd ---------------------------------------------------------------------------

    def _join(self, path_id: int) -> None:
        series = self._series[path_id]
        self._layer.set_trail(path_id, self._points(series), series.color)

    def _layer_remove(self, path_id: int) -> None:
        self._layer.remove_trail(path_id)

    def _clear_layer(self) -> None:
        self._layer.clear()
        self._layer.hide()
        # The crowd starts or dissolves: the curves are drawn next, on the paths' floor.
        self._floor = self._log_floor() if self._log else None

    def _prepare_crowd(self) -> None:
        """The lowest f moved on the log scale: every curve shifts."""
        if self._log and self._log_floor() != self._floor:
            self._floor = self._log_floor()
            self._crowd.rejoin_all()
            highlight = self._crowd.highlight
            if highlight is not None:
                self._draw(highlight, self._series[highlight])

    def _draw_crowd(self) -> None:
        alpha = 80 if self._crowd.highlight is not None else 255
        self._layer.show_crowd(alpha, points_per_path(self._crowd.count()))
        self._layer.informViewBoundsChanged()
        # Settle the auto range now: done in the paint, a new range repainted everything
        # (axes, grid, the layer from scratch) a second time in the next event-loop turn.
        self._view_box.prepareForPaint()
        self._layer.update()

    # -- scale -------------------------------------------------------------------------------

    def set_log_y(self, log: bool) -> None:
        """Show f (linear) or f minus the lowest f of all paths on a log axis."""
        log = bool(log)
        if self._log_box.isChecked() != log:
            self._log_box.setChecked(log)  # comes back through _on_log_box_toggled
            return
        self._log = log
        item = self._plot.getPlotItem()
        self._redraw_all()
        # The range first: a log axis reads its range as powers of ten, and the linear range
        # (f up to 1e300) would overflow them, in the axis' ticks and SI prefix.
        item.enableAutoRange()
        item.getViewBox().updateAutoRange()
        with np.errstate(over="ignore"):
            item.getAxis("left").setLogMode(log)
            self._label_value()

    def set_axis_names(self, x: str, y: str, value: str) -> None:
        """Name the value plotted: f for a function, loss for a model on data."""
        self._names = AxisNames(x, y, value)
        self._label_value()

    def _label_value(self) -> None:
        """The y axis' title and the log box's tip, in the value's short name."""
        v = self._names.short
        self._plot.getPlotItem().setLabel("left", f"{v} - min {v}  (log scale)" if self._log
                                          else v)
        self._log_box.setToolTip(
            f"Plot {v} minus the lowest {v} of all paths on a log scale: steady (linear)\n"
            "convergence then shows as a straight line."
        )

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
        if self._crowd.crowded:
            self._crowd.rejoin_all()
            highlight = self._crowd.highlight
            if highlight is not None:
                self._draw(highlight, self._series[highlight])
            self.flush()
            return
        for path_id, series in self._series.items():
            self._draw(path_id, series)

    def display_values(self, f: FloatArray) -> FloatArray:
        """f as this plot draws it (linear, or on its log scale): for curves added beside."""
        return self._values(np.asarray(f, dtype=np.float64))

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
        """Draw a trajectory with its own curve, which pyqtgraph downsamples to the plot's
        width keeping each bin's highest and lowest f, and clips to the steps in view once
        the user has zoomed."""
        if series.curve is None:
            series.curve = _LossCurveItem(antialias=True, connect="finite",
                                          autoDownsampleFactor=DOWNSAMPLE_BINS_PER_PIXEL,
                                          name=run_label(path_id))
            self._plot.addItem(series.curve)
            self._fit_legend()
        y = self._values(series.f)
        if not np.isfinite(y).any():
            series.curve.setData([], [])
        else:
            series.curve.setData(np.arange(len(y), dtype=np.float64), y)
        self._style(path_id, series)

    def _style(self, path_id: int, series: _Series) -> None:
        if series.curve is None:
            return
        highlight = self._crowd.highlight
        selected = highlight == path_id
        dimmed = highlight is not None and not selected
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


def _same(a: float, b: float) -> bool:
    """a == b, NaN equal to NaN."""
    return bool(a == b or (a != a and b != b))


def _finite_range(values: FloatArray) -> tuple[float, float]:
    """The lowest and highest finite value ((inf, -inf) if none)."""
    if len(values) <= 8:  # a few new steps, the usual case: numpy's overhead would dominate
        finite = [v for v in values.tolist() if math.isfinite(v)]
        return (min(finite), max(finite)) if finite else (math.inf, -math.inf)
    finite_values = values[np.isfinite(values)]
    if finite_values.size == 0:
        return math.inf, -math.inf
    return float(finite_values.min()), float(finite_values.max())
