"""The basin tool's table: each minimum a basin map found, then the diverged and unfinished."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject

from explorer.core.basin import DIVERGED, PLATEAU, UNFINISHED, BasinMap, label_colour
from explorer.core.trajectory import number_text
from explorer.gui.model.text_table import TableRow, TextTableModel

SHARE_HEADER = "Share"  # short: the table fits the basin tool's narrow column (tooltip: what)
COLUMNS = ("Ended in", "x", "y", "f", SHARE_HEADER)
HEADER_TIPS = (
    "The minimum's number and colour on the map; ★ marks a global minimum (the lowest f found)",
    "", "", "",
    "The share of all start points that ended at this minimum (or diverged, or unfinished)",
)


def value_text(value: float) -> str:
    """f at a minimum: rounding noise below 1e-12 shows as 0, like the coordinates' digits."""
    if math.isfinite(value) and abs(value) < 1e-12:
        return "0"
    if math.isfinite(value) and 1e-4 <= abs(value) < 1e6:
        return f"{value:.6f}"
    return number_text(value, 6)


def _coordinate(value: float) -> str:
    return f"{value:.6f}" if math.isfinite(value) else str(value)


def _row_tip(label: int, result: BasinMap) -> str:
    if label == DIVERGED:
        return ("Black on the map: the descent left the finite world (|x| or |y| above "
                f"{result.settings.bound:g}, or f became NaN or infinite)")
    if label == UNFINISHED:
        return (f"Grey on the map: after {result.settings.steps} steps the point was still "
                "not near any minimum (more steps or a larger learning rate may help)")
    if label == PLATEAU:
        return ("Lavender on the map: the point ended where f is flat (constant around it, or "
                "along a valley floor), so there is no isolated minimum to name")
    m = result.minima[label]
    kind = "a global minimum (the lowest f found)" if m.is_global else "a local minimum"
    return f"Minimum {label + 1}, {kind}: {m.count} start points ended here"


def minima_rows(result: BasinMap) -> list[TableRow]:
    """A row per minimum, then diverged and unfinished (the legend's extra colours), then the
    plateau when some start ended on one."""
    total = result.n * result.n
    cells: list[tuple[int, str, str, str, str, int]] = []
    for index, m in enumerate(result.minima):
        star = " ★" if m.is_global else ""
        cells.append((index, f"{index + 1}{star}", _coordinate(m.x), _coordinate(m.y),
                      value_text(m.f), m.count))
    cells.append((DIVERGED, "diverged", "", "", "", result.diverged_count))
    cells.append((UNFINISHED, "unfinished", "", "", "", result.unfinished_count))
    if result.plateau_count:
        cells.append((PLATEAU, "plateau", "", "", "", result.plateau_count))
    return [
        TableRow((name, x, y, f, f"{100 * count / total:.1f}%  ({count} of {total})"),
                 key=label, color=label_colour(label), tip=_row_tip(label, result))
        for label, name, x, y, f, count in cells
    ]


class MinimaTableModel(TextTableModel):
    """The minima of the map shown (no rows without one); the key of a row is its label."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(COLUMNS, header_tips=HEADER_TIPS, right_aligned=range(1, len(COLUMNS)),
                         parent=parent)

    def show_map(self, result: BasinMap | None) -> None:
        """List this map's minima (None: empty)."""
        self.set_rows([] if result is None else minima_rows(result))
