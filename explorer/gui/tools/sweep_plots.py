"""The sweep tool's two plots: final f and steps taken against the learning rate."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from explorer.core.sweep import SweepEntry
from explorer.core.trajectory import Status, number_text
from explorer.gui.views.figure_names import name_figure

BACKGROUND = (25, 25, 25)
TEXT = (220, 220, 220)
CONVERGED = (86, 180, 233)  # sky blue
MAX_STEPS = (230, 159, 0)  # orange
DIVERGED = (230, 40, 40)
BEST = (255, 255, 255)
LIMIT = (160, 220, 120)


class SweepPlots:
    """The final-f plot over the steps plot, x-linked, drawn from one sweep's entries."""

    def __init__(self) -> None:
        self.f_plot = _make_plot("final f")
        self.steps_plot = _make_plot("steps taken")
        self.steps_plot.setXLink(self.f_plot)
        self.items: dict[str, pg.GraphicsObject] = {}
        self._limit_lr: float | None = None

    def clear(self) -> None:
        """Remove every drawn item from both plots."""
        for plot in (self.f_plot, self.steps_plot):
            plot.getPlotItem().clear()
        self.items = {}

    def draw(self, entries: list[SweepEntry], best: SweepEntry | None,
             limit_lr: float | None) -> None:
        """Draw the entries by status, the best one and the 2 / lambda_max line."""
        self.clear()
        self._limit_lr = limit_lr
        lrs = np.array([e.lr for e in entries])
        f = np.array([e.f for e in entries])
        steps = np.array([e.steps for e in entries], dtype=np.float64)
        diverged = np.array([e.status is Status.DIVERGED or not math.isfinite(e.f)
                             for e in entries])
        converged = np.array([e.status is Status.CONVERGED for e in entries]) & ~diverged
        ok = ~diverged
        log_y = _log_suits(f[ok])
        f_item = self.f_plot.getPlotItem()
        f_item.setLogMode(x=True, y=log_y)
        f_item.setLabel("left", "final f (log scale)" if log_y else "final f")
        top = _top_of(f[ok], log_y)

        # A thin line through the finished runs, then markers by status.
        self._put(f_item, "line", lrs[ok], f[ok], pen=pg.mkPen((150, 150, 150), width=1))
        for key, mask, color in (
            ("converged", converged, CONVERGED),
            ("max_steps", ok & ~converged, MAX_STEPS),
        ):
            self._put(f_item, key, lrs[mask], f[mask], **_dots(color, 8))
        self._put(f_item, "diverged", lrs[diverged], np.full(int(diverged.sum()), top),
                  **_crosses(12))
        if best is not None:
            self._put(f_item, "best", [best.lr], [best.f], pen=None, symbol="star",
                      symbolSize=18, symbolBrush=BEST, symbolPen=pg.mkPen(BACKGROUND))
        self._draw_limit(f_item, "limit")
        if ok.any():
            low = float(np.min(f[ok]))
            if log_y:
                f_item.setYRange(math.log10(low), math.log10(top), padding=0.08)
            else:
                f_item.setYRange(low, top, padding=0.08)

        s_item = self.steps_plot.getPlotItem()
        for key, mask, color in (("steps", ok & converged, CONVERGED),
                                 ("steps_max", ok & ~converged, MAX_STEPS)):
            self._put(s_item, key, lrs[mask], steps[mask], **_dots(color, 7))
        self._put(s_item, "steps_diverged", lrs[diverged], steps[diverged], **_crosses(10))
        self._draw_limit(s_item, "steps_limit", label=False)
        s_item.setYRange(0, max(float(steps.max()) if len(steps) else 1.0, 1.0), padding=0.05)
        self.f_plot.getPlotItem().enableAutoRange(axis="x")

    def _put(self, target: pg.PlotItem, key: str, x: object, y: object,
             **style: object) -> None:
        """Add one series to a plot, kept under key."""
        item = pg.PlotDataItem(x, y, **style)
        target.addItem(item)
        self.items[key] = item

    def _draw_limit(self, item: pg.PlotItem, key: str, *, label: bool = True) -> None:
        """A vertical line at 2 / lambda_max: plain gradient descent diverges beyond it."""
        if self._limit_lr is None:
            return
        text = f"2/λmax = {number_text(self._limit_lr, 3)}" if label else None
        line = pg.InfiniteLine(
            pos=math.log10(self._limit_lr), angle=90,
            pen=pg.mkPen(LIMIT, width=1.5, style=Qt.PenStyle.DashLine),
            label=text,
            labelOpts={"position": 0.5, "color": LIMIT, "fill": (25, 25, 25, 200),
                       "anchors": [(0, 0.5), (0, 0.5)]},
        )
        line.setToolTip("Plain gradient descent diverges above 2 / lambda_max, where lambda_max "
                        "is the largest curvature (Hessian eigenvalue) at the start")
        item.addItem(line, ignoreBounds=True)
        self.items[key] = line


def _dots(color: tuple[int, int, int], size: int) -> dict[str, object]:
    """The style of round markers in a colour, without a line."""
    return {"pen": None, "symbol": "o", "symbolSize": size, "symbolBrush": color,
            "symbolPen": pg.mkPen(BACKGROUND)}


def _crosses(size: int) -> dict[str, object]:
    """The style of the diverged runs' red crosses, without a line."""
    return {"pen": None, "symbol": "x", "symbolSize": size, "symbolBrush": DIVERGED,
            "symbolPen": pg.mkPen(DIVERGED, width=2)}


def legend_html() -> str:
    """The plots' legend, as one line of coloured symbols above them."""

    def hex_of(color: tuple[int, int, int]) -> str:
        return "#{:02x}{:02x}{:02x}".format(*color)

    items = (
        ("●", CONVERGED, "converged"),
        ("●", MAX_STEPS, "ran out of steps"),
        ("✖", DIVERGED, "diverged (drawn at the top)"),
        ("★", (120, 120, 120), "best"),
        ("┆", (90, 160, 60), "2 / λmax at the start"),
    )
    return " &nbsp; ".join(
        f'<span style="color:{hex_of(color)}; font-size:large">{symbol}</span>&nbsp;'
        + text.replace(" ", "&nbsp;")  # a line breaks between the items, not inside one
        for symbol, color, text in items
    )


def _make_plot(label: str) -> pg.PlotWidget:
    """One dark plot with a log learning-rate axis, named for the figure export."""
    plot = pg.PlotWidget(background=BACKGROUND)
    plot.setAntialiasing(True)
    item = plot.getPlotItem()
    item.setMenuEnabled(False)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setLabel("left", label)
    item.setLabel("bottom", "learning rate (log scale)")
    for name in ("bottom", "left"):
        item.getAxis(name).setTextPen(TEXT)
        item.getAxis(name).setPen(TEXT)
    item.getAxis("left").setWidth(64)  # both plots' x axes line up
    item.setLogMode(x=True, y=False)
    name_figure(plot, f"Sweep: {label}")
    return plot


def _log_suits(values: np.ndarray) -> bool:
    """A log y axis when every value is positive and they span more than two decades."""
    if len(values) < 2 or not np.all(values > 0):
        return False
    return bool(np.max(values) / np.min(values) > 100.0)


def _top_of(values: np.ndarray, log_y: bool) -> float:
    """Where the diverged markers sit: a little above the highest finished value."""
    if len(values) == 0:
        return 1.0
    high, low = float(np.max(values)), float(np.min(values))
    if log_y:
        return 10 ** (math.log10(high) + 0.1 * max(math.log10(high) - math.log10(low), 1.0))
    return high + 0.1 * max(high - low, abs(high), 1e-12)
