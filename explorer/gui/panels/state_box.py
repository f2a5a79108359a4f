"""The inspector's box for what the optimiser remembers at the selected run's current step: each
state tensor's x and y, the step the arrow stands for and the per-axis effective step."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QGroupBox, QLabel, QVBoxLayout, QWidget

from explorer.core.optimizer_state import StateReading

STATE_HINT = ("Select a run in the Runs table to see, at its current step, what its optimiser "
              "remembers: the momentum and the per-coordinate step sizes.")
_MUTED = "color: palette(placeholder-text);"


class StateBox(QGroupBox):
    """Lists the selected run's optimiser state (name, x, y) at the step the map shows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("What the optimiser remembers", parent)
        layout = QVBoxLayout(self)
        self._title = QLabel(STATE_HINT)
        self._title.setWordWrap(True)
        self._title.setStyleSheet(_MUTED)
        layout.addWidget(self._title)
        self._table = QLabel()
        self._table.setWordWrap(True)
        layout.addWidget(self._table)
        self._note = QLabel()
        self._note.setWordWrap(True)
        self._note.setStyleSheet(_MUTED)
        layout.addWidget(self._note)
        self._rows: list[tuple[str, float, float]] = []
        self.show_reading("", None)

    def show_reading(self, title: str, reading: StateReading | None) -> None:
        """Show a run's state at one step (None: the hint; a reading without values: its note)."""
        if reading is None:
            self._rows = []
            self._title.setText(STATE_HINT)
            self._table.setVisible(False)
            self._note.setVisible(False)
            return
        self._title.setText(f"{title}, after step {reading.step}" if title else
                            f"After step {reading.step}")
        rows = [(name, x, y) for name, x, y in reading.values]
        notes = []
        if reading.arrow is not None:
            rows.append(("arrow", *reading.arrow))
            notes.append(f"Arrow: {reading.arrow_text}.")
        if reading.spread is not None:
            rows.append(("cross", *reading.spread))
            notes.append(f"Cross: {reading.spread_text}.")
        notes += [reading.note] if reading.note else []
        self._rows = rows
        cells = "".join(
            f"<tr><td>{html.escape(name)}</td><td align='right'>&nbsp;{x:.6g}</td>"
            f"<td align='right'>&nbsp;{y:.6g}</td></tr>" for name, x, y in rows)
        self._table.setText("<table><tr><th align='left'>state</th><th>x</th><th>y</th></tr>"
                            f"{cells}</table>")
        self._table.setVisible(bool(rows))
        self._note.setText("\n".join(notes))
        self._note.setVisible(bool(notes))

    def rows(self) -> list[tuple[str, float, float]]:
        """The rows shown: each state tensor, then the arrow and the cross (name, x, y)."""
        return list(self._rows)

    def texts(self) -> dict[str, str]:
        """The title, the table (as rich text) and the note, as shown."""
        return {"title": self._title.text(), "table": self._table.text(),
                "note": self._note.text() if self._note.isVisibleTo(self) else ""}
