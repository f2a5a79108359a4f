"""A read-only table of text rows: the plumbing the runs, minima and leaderboard tables share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap

from explorer.gui.model.colors import RGB

Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def swatch(color: RGB, size: int = 14) -> QIcon:
    """A small filled square in a colour."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*color))
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Selected)  # the colour must not change when selected
    return icon


@dataclass(slots=True)
class TableRow:
    """One row: its cell texts, a key for the caller (Qt's UserRole), a swatch colour, a tip."""

    texts: tuple[str, ...]
    key: int = 0
    color: RGB | None = None  # the swatch in the model's icon column
    tip: str = ""  # the icon column's tooltip, when it is not the text


class TextTableModel(QAbstractTableModel):
    """Rows of texts that change in place: each change emits only the cells it touches."""

    def __init__(
        self,
        columns: Sequence[str],
        *,
        header_tips: Sequence[str] = (),
        right_aligned: Sequence[int] = (),
        text_tips: Sequence[int] = (),
        icon_column: int = 0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._header_tips = list(header_tips)
        self._right = frozenset(right_aligned)
        self._text_tips = frozenset(text_tips)  # columns whose tooltip is their text
        self._icon_column = icon_column
        self._rows: list[TableRow] = []
        self._icons: dict[RGB, QIcon] = {}

    # ----- Qt's model interface -------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        """Rows (none under a cell: this is a flat table)."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        """Columns (none under a cell)."""
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        """A cell's text, alignment, swatch, tooltip or key."""
        if not index.isValid():
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.texts[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column in self._right else None
        if role == Qt.ItemDataRole.DecorationRole:
            if column == self._icon_column and row.color is not None:
                return self._icon(row.color)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self._icon_column and row.tip:
                return row.tip
            return row.texts[column] if column in self._text_tips else None
        if role == Qt.ItemDataRole.UserRole:
            return row.key
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        """The column titles and their tooltips."""
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self._columns[section]
            if role == Qt.ItemDataRole.ToolTipRole and section < len(self._header_tips):
                return self._header_tips[section] or None
            return None
        return super().headerData(section, orientation, role)

    # ----- changing the rows ----------------------------------------------------------------

    def set_header(self, column: int, text: str) -> None:
        """Retitle a column."""
        if self._columns[column] != text:
            self._columns[column] = text
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, column, column)

    def append_rows(self, rows: Sequence[TableRow]) -> None:
        """Add rows at the end (one insertion for them all)."""
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def set_row(self, index: int, row: TableRow) -> bool:
        """Replace a row; only the span of cells that differ is reported. True if any did."""
        old = self._rows[index]
        changed = [c for c, (a, b) in enumerate(zip(old.texts, row.texts, strict=True))
                   if a != b]
        if (old.color, old.tip, old.key) != (row.color, row.tip, row.key):
            changed.append(self._icon_column)
        self._rows[index] = row
        if not changed:
            return False
        self.dataChanged.emit(self.index(index, min(changed)), self.index(index, max(changed)))
        return True

    def remove_rows(self, first: int, count: int) -> None:
        """Remove count rows from first on (one removal for them all)."""
        if count <= 0:
            return
        self.beginRemoveRows(QModelIndex(), first, first + count - 1)
        del self._rows[first : first + count]
        self.endRemoveRows()

    def set_rows(self, rows: Sequence[TableRow]) -> None:
        """Show exactly these rows: rows in place change, extra ones are added or removed."""
        kept = min(len(rows), len(self._rows))
        self.remove_rows(kept, len(self._rows) - kept)
        for index in range(kept):
            self.set_row(index, rows[index])
        self.append_rows(rows[kept:])

    def clear(self) -> None:
        """Remove every row."""
        if self._rows:
            self.beginResetModel()
            self._rows.clear()
            self.endResetModel()

    # ----- reading --------------------------------------------------------------------------

    def row(self, index: int) -> TableRow:
        """Row index as stored."""
        return self._rows[index]

    def text(self, row: int, column: int) -> str:
        """A cell's text."""
        return self._rows[row].texts[column]

    def header_text(self, column: int) -> str:
        """A column's title."""
        return self._columns[column]

    def _icon(self, color: RGB) -> QIcon:
        icon = self._icons.get(color)
        if icon is None:
            icon = self._icons[color] = swatch(color)
        return icon
