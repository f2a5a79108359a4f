"""The function editor: f(x, y) text, a preset chooser and the domain; errors shown inline."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from explorer.core.expression import ParseError, parse
from explorer.core.landscape import Domain, validate_domain
from explorer.core.presets import Preset, presets
from explorer.gui.panels.forms import growing_form, stretched_row
from explorer.gui.panels.number_fields import SciSpinBox

CUSTOM = "Custom function"
# The caret line is cut to this many characters around the error, so it never overflows.
_CARET_WIDTH = 44
SYNTAX_HELP = (
    "Type f in x and y, as in Python: + - * / ** (or ^), parentheses,\n"
    "sin cos tan exp log sqrt abs tanh ..., and the constants pi and e.\n"
    "Press Enter to draw it."
)


def caret_lines(text: str, column: int, width: int = _CARET_WIDTH) -> str:
    """The text and a caret under the 1-based column, cut to about width characters."""
    index = max(0, min(column - 1, len(text)))
    start = 0
    if len(text) > width:
        start = max(0, min(index - width // 2, len(text) - width))
    shown = text[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(text) else ""
    return f"{prefix}{shown}{suffix}\n{' ' * (len(prefix) + index - start)}^"


class FunctionPanel(QWidget):
    """Edit f(x, y) and the domain; emits function_applied only for a valid function."""

    function_applied = Signal(object, object)  # Expression, Domain

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._presets = presets()
        self._applied: tuple[str, Domain] | None = None
        self._quiet = False
        self._drawn = True

        box = QGroupBox("Function")
        self._box = box
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(box)
        layout = QVBoxLayout(box)

        form = growing_form()
        self._preset = QComboBox()
        for preset in self._presets:
            self._preset.addItem(preset.label, preset.name)
        self._preset.addItem(CUSTOM, "")
        self._preset.setToolTip("Pick a classic test function; it is drawn at once")
        self._preset.activated.connect(self._on_preset_chosen)

        self._text = QLineEdit()
        self._text.setPlaceholderText("e.g. x**2 + 3*y**2")
        self._text.setToolTip(SYNTAX_HELP)
        self._text.setClearButtonEnabled(True)
        self._text.returnPressed.connect(self.apply)
        self._text.textEdited.connect(self._on_text_edited)
        self._apply = QPushButton("Apply")
        self._apply.setToolTip("Draw this function (Enter); the paths of the old one are removed")
        self._apply.clicked.connect(self.apply)
        form.addRow("Preset", stretched_row(self._preset, self._apply))
        # The formula has the panel's whole width: a long one is seen whole (its tooltip shows
        # one too long even for that).
        form.addRow(QLabel("f(x, y) ="))
        form.addRow(self._text)
        layout.addLayout(form)

        self._error = QLabel()
        self._error.setWordWrap(True)
        self._error.setStyleSheet("color: #d0342c;")
        self._error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._caret = QLabel()
        self._caret.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._caret.setStyleSheet("color: #d0342c;")
        self._caret.setTextFormat(Qt.TextFormat.PlainText)
        self._hint = QLabel()
        self._hint.setWordWrap(True)
        self._hint.setStyleSheet("color: palette(placeholder-text);")
        for label in (self._error, self._caret, self._hint):
            layout.addWidget(label)
        self._clear_error()

        domain = QGridLayout()
        self._bounds: list[SciSpinBox] = []
        for row_index, axis in enumerate("xy"):
            domain.addWidget(QLabel(f"{axis} from"), row_index, 0)
            for column, word in ((1, "min"), (3, "max")):
                spin = SciSpinBox(-1e6, 1e6, log=False)
                spin.setSingleStep(0.5)
                spin.setToolTip(f"The smallest and largest {axis} shown ({word}); Enter applies")
                spin.lineEdit().returnPressed.connect(self.apply)
                spin.valueChanged.connect(self._on_domain_edited)
                domain.addWidget(spin, row_index, column)
                self._bounds.append(spin)
            domain.addWidget(QLabel("to"), row_index, 2)
        domain.setColumnStretch(1, 1)
        domain.setColumnStretch(3, 1)
        layout.addLayout(domain)

        self._description = QLabel()
        self._description.setWordWrap(True)
        self._description.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(self._description)

    # ----- public API -----------------------------------------------------------------------

    def text(self) -> str:
        """The text in the field (maybe not applied yet)."""
        return self._text.text()

    def domain(self) -> Domain:
        """The domain in the fields: x min, x max, y min, y max."""
        values = [spin.value() for spin in self._bounds]
        return values[0], values[1], values[2], values[3]

    def preset_name(self) -> str:
        """The chosen preset's name, or '' for a custom function."""
        return str(self._preset.currentData() or "")

    def applied(self) -> tuple[str, Domain] | None:
        """The text and domain last applied, or None."""
        return self._applied

    def set_function(self, text: str, domain: Domain) -> None:
        """Fill the fields (the preset chooser follows the text) without applying."""
        self._quiet = True
        try:
            self._text.setText(text)
            self._text.setCursorPosition(0)  # a long formula shows its start, not its end
            self._show_formula_tip()
            for spin, value in zip(self._bounds, domain, strict=True):
                spin.setValue(float(value))
        finally:
            self._quiet = False
        self._sync_preset()
        self._update_hint()

    def choose_preset(self, name: str) -> bool:
        """Fill in a preset and apply it; False if the name is unknown."""
        index = self._preset.findData(name)
        if index < 0 or not name:
            return False
        self._preset.setCurrentIndex(index)
        self._on_preset_chosen(index)
        return True

    def apply(self) -> bool:
        """Parse the text and check the domain; emit function_applied if both are valid."""
        text = self._text.text()
        try:
            expression = parse(text)
        except ParseError as error:
            self.show_error(f"{error.message} (column {error.column})",
                            caret_lines(text, error.column))
            return False
        try:
            domain = validate_domain(self.domain())
        except ValueError as error:
            self.show_error(f"Domain: {error}")
            return False
        self._clear_error()
        self._applied = (text, domain)
        self._update_hint()
        self.function_applied.emit(expression, domain)
        return True

    def show_error(self, message: str, caret: str = "") -> None:
        """Show a problem under the field; the landscape on screen stays as it was."""
        self._error.setText(message)
        self._error.setVisible(True)
        self._caret.setText(caret)
        self._caret.setVisible(bool(caret))
        self._hint.setVisible(False)

    def error_text(self) -> str:
        """The error shown now ('' when none), with the caret lines if any."""
        if self._error.isHidden():
            return ""
        caret = self._caret.text() if not self._caret.isHidden() else ""
        return self._error.text() + ("\n" + caret if caret else "")

    def expression_field(self) -> QLineEdit:
        """The text field (for tests and focus)."""
        return self._text

    # ----- slots ----------------------------------------------------------------------------

    def _on_preset_chosen(self, index: int) -> None:
        name = self._preset.itemData(index)
        preset = self._find(name)
        if preset is None:
            return
        self.set_function(preset.formula, preset.domain)
        self.apply()

    def _on_text_edited(self) -> None:
        self._show_formula_tip()
        self._sync_preset()
        self._update_hint()

    def _on_domain_edited(self) -> None:
        if not self._quiet:
            self._update_hint()

    def _sync_preset(self) -> None:
        text = self._text.text().strip()
        match = next((p for p in self._presets if p.formula == text), None)
        current = self._find(self._preset.currentData())
        if current is not None and current.formula == text:
            match = current
        index = self._preset.findData(match.name if match else "")
        self._preset.setCurrentIndex(index)
        self._description.setText(match.description if match else "")
        self._description.setVisible(bool(match and match.description))

    def set_drawn(self, drawn: bool) -> None:
        """Whether this function is the landscape on screen (False: a model on data is)."""
        self._drawn = drawn
        self._box.setTitle("Function" if drawn else "Function (not drawn)")
        self._update_hint()

    def is_drawn(self) -> bool:
        """Whether this function is the landscape on screen."""
        return self._drawn

    def _update_hint(self) -> None:
        pending = self._applied is not None and self._applied != (self._text.text(),
                                                                  self.domain())
        if not self._error.isHidden():
            return
        if not self._drawn:
            text = "A model on data is drawn: press Apply to draw this function instead."
        else:
            text = "Not drawn yet: press Enter or Apply." if pending else ""
        self._hint.setText(text)
        self._hint.setVisible(bool(text))

    def _clear_error(self) -> None:
        self._error.clear()
        self._error.setVisible(False)
        self._caret.clear()
        self._caret.setVisible(False)

    def _show_formula_tip(self) -> None:
        """The field's tooltip: the whole formula (a long one scrolls in the field), then help."""
        text = self._text.text()
        self._text.setToolTip(f"f(x, y) = {text}\n\n{SYNTAX_HELP}" if text else SYNTAX_HELP)

    def _find(self, name: object) -> Preset | None:
        return next((p for p in self._presets if p.name == name), None)

