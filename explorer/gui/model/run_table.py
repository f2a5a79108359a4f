"""The runs table's model: one row per trajectory, found by path id, refreshed cell by cell."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt

from explorer.core.scipy_methods import is_scipy_method
from explorer.gui.model.axis_names import FUNCTION_AXES, AxisNames
from explorer.gui.model.shown import ShownTrajectory
from explorer.gui.model.text_table import TableRow, TextTableModel


# Status says what happened ("diverged at step 12"), Why the reason ("|x| > 1e6"): the last
# column stretches, so the status itself is never cut short.
def column_titles(names: AxisNames) -> tuple[str, ...]:
    """The columns' titles for a landscape's names: Start (x, y) and f, or (w, b) and loss."""
    value = names.short
    return ("#", f"Start ({names.x}, {names.y})", "Optimiser, lr", "Steps", value,
            f"|∇{value}|", "Evals", "Status", "Why")


COLUMNS = column_titles(FUNCTION_AXES)
EVALS_COLUMN = COLUMNS.index("Evals")
EVALS_HEADER_TIP = ("Evaluations of f: a scipy method's up to the step shown, another "
                    "optimiser's once its path is shown whole; hover a cell for the f, gradient "
                    "and Hessian counts")
STATUS_COLUMN = len(COLUMNS) - 2
WHY_COLUMN = len(COLUMNS) - 1


def _number(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else str(value)


def evals_text(record: ShownTrajectory) -> str:
    """f evaluations: a scipy method's up to the shown head; another's once its whole path is
    shown (when the engine counted them); '' otherwise."""
    if record.scipy is not None:
        return str(len(record.evaluated_shown()))
    if record.evaluations is None or record.animating:
        return ""
    return str(record.evaluations[0])


def evals_tip(record: ShownTrajectory) -> str:
    """The whole run's f, gradient and Hessian evaluations ('' until known)."""
    if record.evaluations is None:
        return ""
    f, grad, hess = record.evaluations
    whose = " (scipy's nfev, njev, nhev)" if record.scipy is not None else ""
    return f"Evaluations of the whole run{whose}: f {f}, gradient {grad}, Hessian {hess}"


def row_texts(record: ShownTrajectory, names: AxisNames = FUNCTION_AXES) -> tuple[str, ...]:
    """The texts of a trajectory's row (a diverged one names the axis that left the bounds)."""
    method = record.optimizer_text()
    return (
        str(record.path_id),
        f"({record.start[0]:.3g}, {record.start[1]:.3g})",
        # A scipy method has no learning rate.
        method if is_scipy_method(record.settings.optimizer)
        else f"{method}, lr {record.settings.lr:g}",
        str(record.steps_shown),
        _number(record.current_f()),
        _number(record.grad_norm()) if record.shown else "",
        evals_text(record),
        *record.status_and_why(names),
    )


class RunTableModel(TextTableModel):
    """The trajectories in the order they were added; a refresh reports only changed cells."""

    def __init__(self, parent: QObject | None = None) -> None:
        tips = [""] * len(COLUMNS)
        tips[EVALS_COLUMN] = EVALS_HEADER_TIP
        super().__init__(COLUMNS, header_tips=tips, right_aligned=range(3, STATUS_COLUMN),
                         text_tips=(2, STATUS_COLUMN, WHY_COLUMN), parent=parent)
        self._index: dict[int, int] = {}  # path id -> row
        self._names = FUNCTION_AXES
        self._evals_tips: dict[int, str] = {}  # path id -> the Evals cell's tooltip

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """As every text table, with the Evals cell's tooltip: the f/gradient/Hessian counts."""
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid() \
                and index.column() == EVALS_COLUMN:
            return self._evals_tips.get(self.path_id(index.row())) or None
        return super().data(index, role)

    def set_axis_names(self, x: str, y: str, value: str) -> None:
        """Title the columns after the landscape: Start (w, b), loss and |∇loss| for a model;
        the rows name them too (a diverged path's '|w| > 1e6')."""
        self._names = AxisNames(x, y, value)
        for column, title in enumerate(column_titles(AxisNames(x, y, value))):
            self.set_header(column, title)

    def add(self, records: Iterable[ShownTrajectory]) -> None:
        """Append a row per trajectory (one insertion for them all)."""
        records = list(records)
        rows = [TableRow(row_texts(r, self._names), r.path_id, r.color) for r in records]
        self._evals_tips.update((r.path_id, evals_tip(r)) for r in records)
        first = self.rowCount()
        for offset, row in enumerate(rows):
            self._index[row.key] = first + offset
        self.append_rows(rows)

    def refresh(self, record: ShownTrajectory) -> bool:
        """Re-read a trajectory's row; True if a cell changed (False if it has no row)."""
        row = self._index.get(record.path_id)
        if row is None:
            return False
        self._evals_tips[record.path_id] = evals_tip(record)
        return self.set_row(row, TableRow(row_texts(record, self._names), record.path_id,
                                          record.color))

    def remove(self, path_ids: Iterable[int]) -> None:
        """Remove these trajectories' rows, each run of adjacent rows in one removal."""
        rows = sorted({self._index[i] for i in path_ids if i in self._index}, reverse=True)
        if not rows:
            return
        # Bottom up, so that the rows still to remove keep their numbers.
        end = 0
        while end < len(rows):
            begin = end
            while end + 1 < len(rows) and rows[end + 1] == rows[end] - 1:
                end += 1
            self.remove_rows(rows[end], rows[begin] - rows[end] + 1)
            end += 1
        self._index = {self.row(r).key: r for r in range(self.rowCount())}
        self._evals_tips = {key: tip for key, tip in self._evals_tips.items()
                            if key in self._index}

    def clear(self) -> None:
        """Remove every row."""
        super().clear()
        self._index.clear()
        self._evals_tips.clear()

    def row_of(self, path_id: int) -> int | None:
        """The row of a trajectory (None if it has none)."""
        return self._index.get(path_id)

    def path_id(self, row: int) -> int:
        """The trajectory in a row."""
        return self.row(row).key

    def path_ids(self) -> list[int]:
        """The ids in table order."""
        return [self.path_id(r) for r in range(self.rowCount())]

    def texts_of(self, path_id: int) -> tuple[str, ...]:
        """The texts of a trajectory's row (empty if it has none)."""
        row = self._index.get(path_id)
        return () if row is None else self.row(row).texts

    def ids_of_rows(self, rows: Sequence[int]) -> list[int]:
        """The trajectories in these rows, in the order given."""
        return [self.path_id(r) for r in rows if 0 <= r < self.rowCount()]
