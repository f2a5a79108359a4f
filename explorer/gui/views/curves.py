"""A curve item that strokes long lines in short pieces.

Qt's raster engine strokes an antialiased polyline by filling its outline as one polygon.
For a path that winds over itself (a descent spiralling into a minimum, momentum oscillating
across a valley) that polygon has many edges on every scan line, and the cost grows much
faster than the number of points: 1,500 points of a spiral took 17 ms to stroke at 5.5 px,
while the same points in pieces of 32 took 2.5 ms. Pieces share their end points, so the line
has no gaps; where two pieces meet, their caps overlap (invisible for opaque pens, a faint dot
every 32 points for translucent ones).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QPainter, QPainterPath
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

PIECE_POINTS = 32  # points per piece (each piece also repeats the last point of the one before)


class PiecewiseCurveItem(pg.PlotCurveItem):
    """pg.PlotCurveItem for plain lines (no fill): long lines are stroked piece by piece."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._pieces: list[QPainterPath] | None = None
        super().__init__(*args, **kwargs)

    def updateData(self, *args: object, **kwargs: object) -> None:  # pyqtgraph's name
        """New data: the pieces are built again at the next paint."""
        self._pieces = None
        super().updateData(*args, **kwargs)

    def pieces(self) -> list[QPainterPath]:
        """The line as painter paths of at most PIECE_POINTS + 1 points each."""
        if self._pieces is None:
            x, y = self.getData()
            n = 0 if x is None else len(x)
            # "finite": NaN rows break the line (a path cut where it leaves the map).
            connect = "finite" if self.opts["connect"] == "finite" else "all"
            self._pieces = [
                pg.arrayToQPath(x[start : start + PIECE_POINTS + 1],
                                y[start : start + PIECE_POINTS + 1], connect=connect)
                for start in range(0, max(n - 1, 0), PIECE_POINTS)
            ]
        return self._pieces

    def paint(self, p: QPainter, opt: QStyleOptionGraphicsItem, widget: QWidget) -> None:
        """Stroke the pieces; short lines, fills and other modes as pyqtgraph does."""
        x, _ = self.getData()
        plain = (self.opts["fillLevel"] is None and self.opts["connect"] in ("all", "finite")
                 and not self.opts["stepMode"])
        if x is None or len(x) <= 2 * PIECE_POINTS or not plain:
            super().paint(p, opt, widget)
            return
        antialias = (self._exportOpts.get("antialias", True) if self._exportOpts is not False
                     else self.opts["antialias"])
        p.setRenderHint(QPainter.RenderHint.Antialiasing, antialias)
        for kind in ("shadowPen", "pen"):
            pen = self.opts[kind]
            if pen is None or pen.style() == pg.QtCore.Qt.PenStyle.NoPen:
                continue
            p.setPen(pen)
            for piece in self.pieces():
                p.drawPath(piece)
