"""The race's budget row: by steps (the controls' Max steps) or by f evaluations per start."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from explorer.core.race import MAX_EVALUATIONS

DEFAULT_EVALUATIONS = 100


class RaceBudgetRow(QWidget):
    """Budget: steps, or f evaluations with their number (its field on only then)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Budget"))
        self._kind = QComboBox()
        self._kind.addItem("steps (Max steps)", "steps")
        self._kind.addItem("f evaluations", "evaluations")
        self._kind.setToolTip(
            "Steps: every entry takes at most Max steps (the controls) optimiser steps.\n"
            "f evaluations: every entry may evaluate f this many times per start, then is "
            "ranked by the f it reached: torch's optimisers evaluate f once per step (L-BFGS "
            "one iteration per step, no line search), scipy's methods stop at the first "
            "iteration that reaches the budget (their last may pass it by a few; the "
            "evaluations column shows the counts)")
        self._count = QSpinBox()
        self._count.setRange(1, MAX_EVALUATIONS)
        self._count.setValue(DEFAULT_EVALUATIONS)
        self._count.setToolTip("f evaluations per start for every entry")
        self._kind.currentIndexChanged.connect(self._on_kind_changed)
        self._count.setEnabled(False)
        row.addWidget(self._kind, 1)
        row.addWidget(self._count)

    def budget(self) -> int | None:
        """The evaluation budget per start, or None for a race by steps."""
        if self._kind.currentData() != "evaluations":
            return None
        return int(self._count.value())

    def set_budget(self, evaluations: int | None) -> None:
        """Race by steps (None) or by this many f evaluations per start (clamped to the range)."""
        self._kind.setCurrentIndex(0 if evaluations is None else 1)
        if evaluations is not None:
            self._count.setValue(evaluations)

    def _on_kind_changed(self) -> None:
        self._count.setEnabled(self._kind.currentData() == "evaluations")
