"""The runs the window shows: one record per trajectory, and the table that lists them."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from explorer.gui.model.shown import RGB, ShownTrajectory

COLUMNS = ("#", "Start (x, y)", "Optimiser, lr", "Steps", "f", "|∇f|", "Status")
_STATUS = len(COLUMNS) - 1


def _number(value: float) -> str:
    return f"{value:.3g}" if math.isfinite(value) else str(value)


def swatch(color: RGB, size: int = 14) -> QIcon:
    """A small filled square in a trajectory's colour."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*color))
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Selected)  # the colour must not change when selected
    return icon


def _row_texts(shown: ShownTrajectory) -> tuple[str, ...]:
    """The texts of a trajectory's row in the table."""
    return (
        str(shown.path_id),
        f"({shown.start[0]:.3g}, {shown.start[1]:.3g})",
        f"{shown.optimizer_text()}, lr {shown.settings.lr:g}",
        str(shown.steps_shown),
        _number(shown.current_f()),
        _number(shown.grad_norm()) if shown.shown else "",
        shown.status_text(),
    )


class RunsPanel(QWidget):
    """A table of the trajectories: colour, start, optimiser, lr, steps, f, |grad f|, status."""

    highlight_requested = Signal(object)  # path id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table = QTableWidget(0, len(COLUMNS))
        self._table.setHorizontalHeaderLabels(list(COLUMNS))
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.verticalHeader().setVisible(False)
        self._table.setAlternatingRowColors(True)
        self._table.setWordWrap(False)
        header = self._table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        widths = (40, 80, 140, 48, 70, 70)
        for column, width in enumerate(widths):
            self._table.setColumnWidth(column, width)
        self._table.setToolTip(
            "Every path: select a row to highlight it in the views and the loss plot; "
            "Delete removes the selected paths"
        )
        self._table.itemSelectionChanged.connect(self._on_selection_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._table)
        self._rows: dict[int, int] = {}
        self._cache: dict[int, tuple[str, ...]] = {}
        self._swatches: dict[RGB, QIcon] = {}

    def table(self) -> QTableWidget:
        """The table widget (for tests and focus checks)."""
        return self._table

    def add_trajectory(self, shown: ShownTrajectory) -> None:
        """Append a row for a new trajectory."""
        self.add_trajectories([shown])

    def add_trajectories(self, trajectories: list[ShownTrajectory]) -> None:
        """Append a row for each new trajectory (thousands at once: one table resize)."""
        if not trajectories:
            return
        first_row = self._table.rowCount()
        # Every item is made here, never with clone(): an item that C++ copied has no Python
        # wrapper class, so its deletion by the table goes unseen by PySide, and a new object
        # at the same address would then be handed the stale wrapper (a crash, much later).
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        self._table.setUpdatesEnabled(False)
        try:
            self._table.setRowCount(first_row + len(trajectories))
            for row, shown in enumerate(trajectories, start=first_row):
                texts = _row_texts(shown)
                for column, text in enumerate(texts):
                    item = QTableWidgetItem(text)
                    if 3 <= column < _STATUS:
                        item.setTextAlignment(right)
                    if column == 0:
                        item.setIcon(self._swatch(shown.color))
                        item.setData(Qt.ItemDataRole.UserRole, shown.path_id)
                    if column in (2, _STATUS):
                        item.setToolTip(text)
                    self._table.setItem(row, column, item)
                self._rows[shown.path_id] = row
                self._cache[shown.path_id] = texts
        finally:
            self._table.setUpdatesEnabled(True)

    def _swatch(self, color: RGB) -> QIcon:
        icon = self._swatches.get(color)
        if icon is None:
            icon = self._swatches[color] = swatch(color)
        return icon

    def update_trajectory(self, shown: ShownTrajectory) -> None:
        """Refresh a row's numbers and status (cells whose text is unchanged are left alone)."""
        row = self._rows.get(shown.path_id)
        if row is None:
            return
        texts = _row_texts(shown)
        old = self._cache.get(shown.path_id, ("",) * len(texts))
        for column, (text, before) in enumerate(zip(texts, old, strict=True)):
            if text != before:
                item = self._table.item(row, column)
                item.setText(text)
                if column in (2, _STATUS):
                    item.setToolTip(text)
        self._cache[shown.path_id] = texts

    def remove_trajectories(self, path_ids: list[int]) -> None:
        """Remove the rows of these trajectories."""
        rows = sorted((self._rows[i] for i in path_ids if i in self._rows), reverse=True)
        self._table.blockSignals(True)
        try:
            # Runs of adjacent rows go in one call: row by row, thousands take seconds.
            model = self._table.model()
            end = 0
            while end < len(rows):
                begin = end
                while end + 1 < len(rows) and rows[end + 1] == rows[end] - 1:
                    end += 1
                model.removeRows(rows[end], rows[begin] - rows[end] + 1)
                end += 1
        finally:
            self._table.blockSignals(False)
        for path_id in path_ids:
            self._cache.pop(path_id, None)
        self._reindex()
        self._on_selection_changed()

    def clear(self) -> None:
        """Remove every row."""
        self._table.blockSignals(True)
        try:
            self._table.setRowCount(0)
        finally:
            self._table.blockSignals(False)
        self._rows.clear()
        self._cache.clear()
        self.highlight_requested.emit(None)

    def path_ids(self) -> list[int]:
        """The ids in table order."""
        return sorted(self._rows, key=self._rows.__getitem__)

    def selected_ids(self) -> list[int]:
        """The ids of the selected rows, in table order."""
        rows = sorted({index.row() for index in self._table.selectionModel().selectedRows()})
        ids = {row: path_id for path_id, row in self._rows.items()}
        return [ids[row] for row in rows if row in ids]

    def select(self, path_id: int | None) -> None:
        """Select one trajectory's row (None clears the selection)."""
        if path_id is None or path_id not in self._rows:
            self._table.clearSelection()
            return
        self._table.selectRow(self._rows[path_id])

    def row_texts(self, path_id: int) -> tuple[str, ...]:
        """The texts of a trajectory's row (for tests)."""
        return self._cache.get(path_id, ())

    def _reindex(self) -> None:
        self._rows = {}
        for row in range(self._table.rowCount()):
            path_id = self._table.item(row, 0).data(Qt.ItemDataRole.UserRole)
            self._rows[int(path_id)] = row

    def _on_selection_changed(self) -> None:
        ids = self.selected_ids()
        self.highlight_requested.emit(ids[0] if ids else None)
