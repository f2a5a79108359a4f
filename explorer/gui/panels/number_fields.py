"""Number fields: a log-scale slider and a spin box that takes 1e-08 and steps by decades."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QSlider, QWidget

# Slider positions per decade on the log sliders.
_TICKS = 100
_SLIDER_KEYS = (
    Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down,
    Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End,
)


def format_number(value: float) -> str:
    """A float as short exact-looking text: 0.01, 1e-05, 2.5."""
    return f"{value:.6g}"


class LogSlider(QSlider):
    """A horizontal slider over [low, high] on a log scale."""

    def __init__(self, low: float, high: float, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._low, self._high = math.log10(low), math.log10(high)
        self.setRange(0, round((self._high - self._low) * _TICKS))
        self.setPageStep(_TICKS // 4)

    def event(self, event: QEvent) -> bool:
        """Keep the arrow keys for the slider while it has focus (the window's Step is Right)."""
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if event.key() in _SLIDER_KEYS and not event.modifiers():
                event.accept()
                return True
        return super().event(event)

    def float_value(self) -> float:
        """The value at the handle."""
        return float(10 ** (self._low + self.value() / _TICKS))

    def set_float_value(self, value: float) -> None:
        """Move the handle to the nearest position to value (clamped)."""
        if value > 0 and math.isfinite(value):
            self.setValue(round((math.log10(value) - self._low) * _TICKS))


class SciSpinBox(QDoubleSpinBox):
    """A spin box that shows and takes numbers like 1e-08; on a log scale arrows step by decades."""

    def __init__(
        self, low: float, high: float, *, log: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._log = log
        self.setDecimals(300)  # keep any double: the text, not the decimals, decides the look
        self.setRange(low, high)
        self.setSingleStep(0.1 if high - low <= 10 else 1.0)
        self.setKeyboardTracking(False)
        self.valueChanged.connect(self.updateGeometry)  # the hint follows the text shown

    def sizeHint(self) -> QSize:
        """Qt's hint fits the range's ends ('1e-08'), widened to fit the value shown."""
        return self._fit(super().sizeHint())

    def minimumSizeHint(self) -> QSize:
        """As small as Qt allows, but never cutting the value shown ('0.0001')."""
        return self._fit(super().minimumSizeHint())

    def _fit(self, hint: QSize) -> QSize:
        metrics = self.fontMetrics()
        ends = max(metrics.horizontalAdvance(self.textFromValue(end))
                   for end in (self.minimum(), self.maximum()))
        more = metrics.horizontalAdvance(self.textFromValue(self.value())) - ends
        return QSize(hint.width() + max(0, more), hint.height())

    def textFromValue(self, value: float) -> str:
        """Show short %g text."""
        return format_number(value)

    def valueFromText(self, text: str) -> float:
        """Read any float literal."""
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """Accept partial float literals while typing."""
        stripped = text.strip()
        if not stripped or stripped in ("-", "+", ".", "-.", "+.") or stripped[-1] in "eE+-":
            return (QValidator.State.Intermediate, text, pos)
        try:
            value = float(stripped)
        except ValueError:
            return (QValidator.State.Invalid, text, pos)
        if self.minimum() <= value <= self.maximum():
            return (QValidator.State.Acceptable, text, pos)
        return (QValidator.State.Intermediate, text, pos)

    def stepBy(self, steps: int) -> None:
        """On a log scale step by decades; otherwise as usual."""
        if self._log and self.value() > 0:
            self.setValue(min(max(self.value() * 10.0**steps, self.minimum()), self.maximum()))
        else:
            super().stepBy(steps)
