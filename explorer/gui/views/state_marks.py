"""What the optimiser remembers, at the head of the selected path on the contour map: an arrow
for the step its momentum (or Adam's first moment) carries, and a cross whose arms are the
per-axis effective step of the adaptive methods (Adam's lr/(sqrt(V)+eps))."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt

from explorer.core.optimizer_state import MOMENT_ARROW, MOMENTUM_ARROW, StateReading
from explorer.core.trajectory import number_text
from explorer.gui.model.colors import OUTLINE_COLOR, RGB, rgba
from explorer.gui.views.gradient_overlay import (
    _arrow_pen,
    _pairs_item,
    arrow_segments,
    pixel_size,
)

Pair = tuple[float, float]

# White and mint: apart from the paths' palette and from the colour map's blues and yellows.
ARROW_COLOR: RGB = (255, 255, 255)
CROSS_COLOR: RGB = (120, 255, 170)
# The arrow is drawn at its true length (the step it carries) unless that is shorter than
# this on screen: then it is magnified by a power of ten, and the label says by how much.
MIN_ARROW_PX = 28.0
MAX_MAGNIFICATION = 1e6
# Longer than this on screen the arrow is not drawn (a diverging step; Qt refuses huge
# coordinates): the label says it is off the map.
MAX_ARROW_PX = 1e5
HEAD_PX = 9.0
# The cross's arms keep their ratio (the message: a longer step along the flat axis); the
# longer arm is this long on screen, and the label gives the numbers.
CROSS_PX = 38.0
END_TICK_PX = 4.0
# What the label beside the head calls the arrow.
ARROW_LABELS = {MOMENTUM_ARROW: "momentum step", MOMENT_ARROW: "first-moment step"}
LABEL_GAP_PX = 14.0
# Above the selected path (50) and its diverged cross, below the hover text (100).
_Z = 60

ARROW_TIP = ("Arrow: the step the optimiser's memory carries, at its true length in x and y "
             "(magnified \N{MULTIPLICATION SIGN}10ⁿ when shorter than a few pixels,"
             " as the label says)")
CROSS_TIP = ("Cross: the effective step per axis for a unit gradient, e.g. Adam's "
             "lr/(√V+ε); the arms keep their ratio, the longer one drawn "
             f"{CROSS_PX:.0f} pixels long (the numbers are in the label and the inspector)")


class StateMarks(QObject):
    """The arrow, the cross and their label at one point (the selected path's head)."""

    def __init__(self, plot_item: pg.PlotItem) -> None:
        super().__init__(plot_item)
        self._view = plot_item.getViewBox()
        self._head: Pair | None = None
        self._reading: StateReading | None = None
        self._enabled = True
        self._arrow_scale = 1.0
        self._cross_scale = 0.0
        halo = pg.mkPen(rgba(OUTLINE_COLOR, 210), width=5.0)
        halo.setCapStyle(Qt.PenCapStyle.RoundCap)
        self._arrow_halo = _pairs_item(halo, _Z)
        self._cross_halo = _pairs_item(halo, _Z)
        self._arrow = _pairs_item(_arrow_pen(ARROW_COLOR), _Z + 1)
        self._cross = _pairs_item(pg.mkPen(CROSS_COLOR, width=2.0), _Z + 1)
        self._label = pg.TextItem("", color=(240, 240, 240),
                                  fill=pg.mkBrush(rgba(OUTLINE_COLOR, 190)), anchor=(0, 1))
        self._label.setZValue(_Z + 2)
        self._arrow.setToolTip(ARROW_TIP)
        self._cross.setToolTip(CROSS_TIP)
        self._label.setToolTip(f"{ARROW_TIP}.\n{CROSS_TIP}.")
        self._items = (self._arrow_halo, self._cross_halo, self._arrow, self._cross, self._label)
        for item in self._items:
            plot_item.addItem(item, ignoreBounds=True)
            item.setVisible(False)
        # Arrow heads, the cross and the magnification are sized in pixels.
        self._view.sigRangeChanged.connect(self._redraw)
        self._view.sigResized.connect(self._redraw)

    # -- what is shown -----------------------------------------------------------------------

    def show_reading(self, head: Pair | None, reading: StateReading | None) -> None:
        """Draw reading's arrow and cross at head (None or nothing to draw: hide them)."""
        finite = head is not None and all(math.isfinite(v) for v in head)
        self._head = head if finite else None
        self._reading = reading if finite and reading is not None and reading.drawn else None
        self._redraw()

    def clear(self) -> None:
        """Hide everything."""
        self.show_reading(None, None)

    def set_enabled(self, on: bool) -> None:
        """Show or hide the marks (View > Optimiser state)."""
        self._enabled = on
        self._redraw()

    # -- read back (tests, the inspector) ----------------------------------------------------

    def is_shown(self) -> bool:
        """True while an arrow or a cross is on the map."""
        return bool(self._arrow.isVisible() or self._cross.isVisible())

    def arrow_vector(self) -> Pair | None:
        """The step the arrow stands for, in data units (before any magnification)."""
        return self._reading.arrow if self._reading is not None else None

    def arrow_scale(self) -> float:
        """How much the drawn arrow is magnified (1: its true length)."""
        return self._arrow_scale

    def arrow_points(self) -> np.ndarray:
        """The drawn arrow as pairs of points (shaft first: head of path -> tip); none when
        it is not drawn."""
        x, y = self._arrow.getData()
        drawn = x is not None and self._arrow.isVisible()
        return np.column_stack([x, y]) if drawn else np.empty((0, 2))

    def half_widths(self) -> Pair | None:
        """The per-axis effective step the cross stands for (x, y), before drawing's scale."""
        return self._reading.spread if self._reading is not None else None

    def cross_scale(self) -> float:
        """Data units drawn per unit of half_widths (the arms are half_widths times this)."""
        return self._cross_scale

    def cross_points(self) -> np.ndarray:
        """The drawn cross as pairs of points: the x arm, the y arm, then the end ticks;
        none when it is not drawn."""
        x, y = self._cross.getData()
        drawn = x is not None and self._cross.isVisible()
        return np.column_stack([x, y]) if drawn else np.empty((0, 2))

    def label_text(self) -> str:
        """The label beside the head ('' when hidden)."""
        return self._label.toPlainText() if self._label.isVisible() else ""

    # -- drawing -----------------------------------------------------------------------------

    def _redraw(self, *_args: object) -> None:
        reading, head = self._reading, self._head
        if not self._enabled or reading is None or head is None or not self._near(head):
            for item in self._items:
                item.setVisible(False)
            return
        pixel = pixel_size(self._view)
        lines = [self._draw_arrow(head, reading.arrow, pixel, reading.arrow_text),
                 self._draw_cross(head, reading.spread, pixel)]
        text = "\n".join(line for line in lines if line)
        self._label.setText(text)
        self._place_label(head, pixel)
        self._label.setVisible(bool(text))

    def _near(self, head: Pair) -> bool:
        """Whether head is within a view's span of the view: far beyond (a diverged path's
        head at 1e6) the marks would mean nothing, and Qt refuses huge coordinates."""
        (x0, x1), (y0, y1) = (float(v) for v in self._view.viewRange()[0]), (
            float(v) for v in self._view.viewRange()[1])
        w, h = x1 - x0, y1 - y0
        return x0 - w <= head[0] <= x1 + w and y0 - h <= head[1] <= y1 + h

    def _place_label(self, head: Pair, pixel: Pair) -> None:
        """Beside the head, on the side where it fits (else the roomier one), and moved along
        to stay inside the view when it is wider or taller than the room there."""
        (x0, x1), (y0, y1) = self._view.viewRange()
        size = self._label.boundingRect()  # pixels, padding included: the text ignores zoom
        width, height = size.width() * pixel[0], size.height() * pixel[1]
        gap_x, gap_y = LABEL_GAP_PX * pixel[0], LABEL_GAP_PX * pixel[1]
        right = x1 - head[0] >= width + gap_x or x1 - head[0] >= head[0] - x0
        above = y1 - head[1] >= height + gap_y or y1 - head[1] >= head[1] - y0
        left = head[0] + gap_x if right else head[0] - gap_x - width
        bottom = head[1] + gap_y if above else head[1] - gap_y - height
        left = max(x0, min(left, x1 - width))
        bottom = max(y0, min(bottom, y1 - height))
        # Anchored at its top-left corner, which is at the bottom's height plus its own.
        self._label.setAnchor((0.0, 0.0))
        self._label.setPos(left, bottom + height)

    def _draw_arrow(self, head: Pair, arrow: Pair | None, pixel: Pair, what: str) -> str:
        """The arrow from head; its label line ('' when there is none)."""
        self._arrow_scale = 1.0
        length_px = math.hypot(arrow[0] / pixel[0], arrow[1] / pixel[1]) if arrow else 0.0
        name = ARROW_LABELS.get(what, "remembered step")
        if arrow is None or not math.isfinite(length_px) or not 0.0 < length_px <= MAX_ARROW_PX:
            self._arrow.setVisible(False)
            self._arrow_halo.setVisible(False)
            return f"→ {name} far off the map" if length_px > MAX_ARROW_PX else ""
        if length_px * MAX_MAGNIFICATION < MIN_ARROW_PX:
            self._arrow_scale = MAX_MAGNIFICATION  # a subnormal step: as far as it goes
        elif length_px < MIN_ARROW_PX:
            power = math.ceil(math.log10(MIN_ARROW_PX / length_px))
            self._arrow_scale = min(10.0**power, MAX_MAGNIFICATION)
        u, v = arrow[0] * self._arrow_scale, arrow[1] * self._arrow_scale
        head_px = min(HEAD_PX, 0.45 * length_px * self._arrow_scale)
        xy = arrow_segments(np.array([head[0]]), np.array([head[1]]), np.array([u]),
                            np.array([v]), pixel, head_px)
        for item in (self._arrow, self._arrow_halo):
            item.setData(xy[:, 0], xy[:, 1])
            item.setVisible(True)
        times = "\N{MULTIPLICATION SIGN}"
        scale = f" {times}{number_text(self._arrow_scale)}" if self._arrow_scale > 1 else ""
        return f"→ {name}{scale}"

    def _draw_cross(self, head: Pair, spread: Pair | None, pixel: Pair) -> str:
        """The cross centred on head; its label line ('' when there is none)."""
        self._cross_scale = 0.0
        longest_px = max(spread[0] / pixel[0], spread[1] / pixel[1]) if spread else 0.0
        # Nothing to draw for no spread, a negative or non-finite one (max() skips a NaN
        # beside a number), or one so small (subnormal) that scaling it to CROSS_PX overflows.
        if spread is None or not all(math.isfinite(s) and s >= 0.0 for s in spread) \
                or not math.isfinite(longest_px) \
                or longest_px <= 0.0 or not math.isfinite(CROSS_PX / longest_px):
            self._cross.setVisible(False)
            self._cross_halo.setVisible(False)
            return ""
        self._cross_scale = CROSS_PX / longest_px
        ax, ay = spread[0] * self._cross_scale, spread[1] * self._cross_scale
        x, y = head
        tx, ty = END_TICK_PX * pixel[0], END_TICK_PX * pixel[1]
        points = [(x - ax, y), (x + ax, y), (x, y - ay), (x, y + ay)]
        for end in (-1.0, 1.0):  # short ticks across each arm's ends: a zero arm still shows
            points += [(x + end * ax, y - ty), (x + end * ax, y + ty),
                       (x - tx, y + end * ay), (x + tx, y + end * ay)]
        xy = np.array(points, dtype=np.float64)
        for item in (self._cross, self._cross_halo):
            item.setData(xy[:, 0], xy[:, 1])
            item.setVisible(True)
        return f"✛ step per unit ∇f: x {spread[0]:.2g}, y {spread[1]:.2g}"

