"""The runs table: one row per trajectory the window shows; selecting rows highlights them."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from explorer.gui.model.run_table import RunTableModel
from explorer.gui.model.shown import ShownTrajectory

MAX_FITTED_ROWS = 200  # rows measured per turn at most (a table taller than any screen)


class RunsPanel(QWidget):
    """A table of the trajectories: colour, start, optimiser, lr, steps, f, |grad f|, status."""

    highlight_requested = Signal(object)  # path id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = RunTableModel(self)
        self._table = QTableView()
        self._table.setModel(self._model)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.verticalHeader().setVisible(False)
        self._table.setAlternatingRowColors(True)
        self._table.setWordWrap(False)
        header = self._table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._table.setToolTip(
            "Every path: select a row to highlight it in the views and the loss plot; "
            "Delete removes the selected paths"
        )
        self._table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        # Columns grow to fit the rows on screen, once per event-loop turn: Qt's
        # ResizeToContents re-measures up to 1000 rows per column on every dataChanged (1.5 s
        # for 2000 row refreshes), and measuring every changed text would double a refresh.
        self._margins: dict[int, int] = {}
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_visible)
        self._model.rowsInserted.connect(self._schedule_fit)
        self._model.modelReset.connect(self._fit_headers)
        self._model.headerDataChanged.connect(self._fit_headers)  # another landscape's names
        self._table.verticalScrollBar().valueChanged.connect(self._schedule_fit)
        self._fit_headers()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._table)
        # Removing rows changes the selection row by row: one highlight once they are gone.
        self._quiet = False

    def table(self) -> QTableView:
        """The table view (for tests and focus checks)."""
        return self._table

    def model(self) -> RunTableModel:
        """The table's rows."""
        return self._model

    def add_trajectory(self, shown: ShownTrajectory) -> None:
        """Append a row for a new trajectory."""
        self.add_trajectories([shown])

    def add_trajectories(self, trajectories: list[ShownTrajectory]) -> None:
        """Append a row for each new trajectory (thousands at once: one insertion)."""
        if trajectories:
            self._model.add(trajectories)

    def update_trajectory(self, shown: ShownTrajectory) -> None:
        """Refresh a row's numbers and status (only cells whose text changed are repainted)."""
        if self._model.refresh(shown) and not self._fit_timer.isActive():
            self._fit_timer.start()

    def remove_trajectories(self, path_ids: list[int]) -> None:
        """Remove the rows of these trajectories."""
        self._quiet = True
        try:
            self._model.remove(path_ids)
        finally:
            self._quiet = False
        self._emit_highlight()

    def clear(self) -> None:
        """Remove every row."""
        self._quiet = True
        try:
            self._model.clear()
        finally:
            self._quiet = False
        self.highlight_requested.emit(None)

    def path_ids(self) -> list[int]:
        """The ids in table order."""
        return self._model.path_ids()

    def selected_ids(self) -> list[int]:
        """The ids of the selected rows, in table order."""
        rows = sorted({index.row() for index in self._table.selectionModel().selectedRows()})
        return self._model.ids_of_rows(rows)

    def select(self, path_id: int | None) -> None:
        """Select one trajectory's row (None clears the selection)."""
        row = None if path_id is None else self._model.row_of(path_id)
        if row is None:
            self._table.clearSelection()
            return
        self._table.selectRow(row)

    def row_texts(self, path_id: int) -> tuple[str, ...]:
        """The texts of a trajectory's row (for tests)."""
        return self._model.texts_of(path_id)

    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection,
                              ) -> None:
        if not self._quiet:
            self._emit_highlight()

    def resizeEvent(self, event: QResizeEvent) -> None:  # Qt's name
        """More rows may show: fit them too."""
        super().resizeEvent(event)
        self._schedule_fit()

    def _schedule_fit(self, *_args: object) -> None:
        if not self._fit_timer.isActive():
            self._fit_timer.start()

    def _fit_visible(self) -> None:
        """Widen the columns that the rows on screen do not fit."""
        count = self._model.rowCount()
        if not count:
            return
        top = max(self._table.rowAt(0), 0)
        bottom = self._table.rowAt(self._table.viewport().height() - 1)
        # -1: the rows end above the bottom edge (at most a screenful of them).
        self._fit(top, min(count - 1, top + MAX_FITTED_ROWS) if bottom < 0 else bottom)

    def _fit(self, first_row: int, last_row: int) -> None:
        """Widen the columns whose cells in these rows do not fit (the last one, why a path
        ended, stretches over what is left and grows past it: the table scrolls sideways)."""
        header = self._table.horizontalHeader()
        advance = self._table.fontMetrics().horizontalAdvance
        text = self._model.text
        for column in range(self._model.columnCount()):
            widest = max(advance(text(row, column)) for row in range(first_row, last_row + 1))
            needed = widest + self._margin(first_row, column)
            if needed > header.sectionSize(column):
                header.resizeSection(column, needed)

    def _margin(self, row: int, column: int) -> int:
        """What a cell adds to its text's width: padding, and the swatch in the first column."""
        margin = self._margins.get(column)
        if margin is None:
            index = self._model.index(row, column)
            text_width = self._table.fontMetrics().horizontalAdvance(self._model.text(row, column))
            # The grid line takes a pixel of the cell; the delegate's text layout may round up
            # a pixel more than the font metrics.
            grid = 1 if self._table.showGrid() else 0
            margin = self._table.sizeHintForIndex(index).width() - text_width + grid + 1
            self._margins[column] = margin
        return margin

    def _fit_headers(self) -> None:
        """Columns as narrow as their titles (rows widen them as they come)."""
        header = self._table.horizontalHeader()
        for column in range(self._model.columnCount() - 1):
            header.resizeSection(column, header.sectionSizeHint(column))

    def _emit_highlight(self) -> None:
        ids = self.selected_ids()
        self.highlight_requested.emit(ids[0] if ids else None)
