"""Find text the window shows cut off or elided: labels, buttons, lists, tabs, tables, fields."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QTableView,
    QWidget,
)

_SLACK = 1  # pixels of rounding


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0


# Widgets whose right part a parent may hide: they show a text or a value.
_CUT_CHECKED = (QLabel, QAbstractButton, QGroupBox, QComboBox, QAbstractSpinBox, QLineEdit)


def _shown_text(widget: QWidget) -> str:
    """What the widget shows, to name it (its text, title or current item)."""
    for name in ("text", "title", "currentText"):
        text = getattr(widget, name, None)
        if callable(text) and isinstance(text(), str) and text():
            return str(text())
    return ""


def _cut_by_parent(widget: QWidget) -> str | None:
    """A widget whose right part is hidden by a parent (a column too narrow, a scroll area)."""
    seen = widget.visibleRegion().boundingRect()
    if seen.isEmpty():
        return None  # scrolled out of sight vertically, or covered: not cut sideways
    text = _shown_text(widget)
    if not text and not isinstance(widget, QAbstractSpinBox | QComboBox):
        return None  # an empty label or button: nothing to cut
    right = widget.rect().right()
    if seen.right() < right - _SLACK and seen.bottom() > 0:
        return f"{type(widget).__name__} {text!r}: only {seen.width()} of {widget.width()} px shown"
    return None


def _too_small(kind: str, text: str, needed: int, has: int, unit: str = "px") -> str | None:
    """The finding when text needs more room than it has (None when it fits)."""
    if not text or needed <= has + _SLACK:
        return None
    return f"{kind} {text!r}: needs {needed} {unit}, has {has}"


def _label(label: QLabel) -> str | None:
    if label.pixmap() is not None and not label.pixmap().isNull():
        return None
    if label.wordWrap():
        return _too_small("label", label.text(), label.heightForWidth(label.width()),
                          label.height(), "px of height")
    return _too_small("label", label.text(), label.minimumSizeHint().width(), label.width())


def _button(button: QAbstractButton) -> str | None:
    return _too_small("button", button.text(), button.sizeHint().width(), button.width())


def _combo(combo: QComboBox) -> str | None:
    if combo.isEditable() or not combo.currentText():
        return None
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    needed = combo.fontMetrics().horizontalAdvance(combo.currentText())
    if combo.itemIcon(combo.currentIndex()).isNull() is False:
        needed += combo.iconSize().width() + 4
    return _too_small("list", combo.currentText(), needed, field.width())


def _tabs(bar: QTabBar) -> list[str]:
    found = []
    for i in range(bar.count()):
        if not bar.isTabVisible(i):
            continue  # a hidden tab (the Sharpness tab before any network) takes no room
        rect = bar.tabRect(i)
        needed = bar.tabSizeHint(i).width()  # text, padding and any close button
        if needed > rect.width():  # Qt elides the text as soon as one pixel is missing
            found.append(f"tab {bar.tabText(i)!r}: needs {needed} px, has {rect.width()}")
        elif rect.right() > bar.width() - 1 + _SLACK or rect.left() < 0:
            # Too many tabs for the bar: Qt scrolls them behind arrow buttons.
            found.append(f"tab {bar.tabText(i)!r}: outside its bar ({rect.left()} to "
                         f"{rect.right()} of {bar.width()} px), behind scroll arrows")
    return found


def _table(table: QTableView) -> list[str]:
    model = table.model()
    if model is None:
        return []
    found = []
    header = table.horizontalHeader()
    for column in range(model.columnCount()):
        if table.isColumnHidden(column):
            continue
        width = table.columnWidth(column)
        needed = max(table.sizeHintForColumn(column), header.sectionSizeHint(column))
        if needed > width + _SLACK:
            title = model.headerData(column, header.orientation())
            found.append(f"table column {title!r}: needs {needed} px, has {width}")
    return found


def _field(edit: QLineEdit) -> str | None:
    if not edit.text():
        return None
    margins = edit.textMargins()
    room = edit.contentsRect().width() - margins.left() - margins.right() - 4
    return _too_small("field", edit.text(), edit.fontMetrics().horizontalAdvance(edit.text()),
                      room)


def _group(box: QGroupBox) -> str | None:
    needed = box.fontMetrics().horizontalAdvance(box.title()) + 8
    return _too_small("group", box.title(), needed, box.width())


def elided_texts(root: QWidget) -> list[str]:
    """Every visible text under root that does not fit the room it is given."""
    found: list[str] = []
    for widget in root.findChildren(QWidget):
        if not _shown(widget):
            continue
        problem: str | None = None
        if isinstance(widget, QLabel):
            problem = _label(widget)
        elif isinstance(widget, QAbstractButton):
            problem = _button(widget)
        elif isinstance(widget, QComboBox):
            problem = _combo(widget)
        elif isinstance(widget, QLineEdit):
            problem = _field(widget)
        elif isinstance(widget, QGroupBox):
            problem = _group(widget)
        elif isinstance(widget, QTabBar):
            found.extend(_tabs(widget))
        elif isinstance(widget, QTableView):
            found.extend(_table(widget))
        if problem is None and isinstance(widget, _CUT_CHECKED):
            problem = _cut_by_parent(widget)
        if problem is not None:
            found.append(problem)
    return found
