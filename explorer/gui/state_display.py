"""What the selected run's optimiser remembers, at the step the map shows: the marks at its head
(View > Optimiser state, remembered between launches) and the numbers in the inspector."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction

from explorer.core.optimizer_state import read_state
from explorer.gui.model.document import Descendable
from explorer.gui.model.shown import ShownTrajectory, run_label, scheduled_rates
from explorer.gui.model.state_replay import can_replay, replay_state
from explorer.gui.panels.state_box import StateBox
from explorer.gui.views.state_marks import StateMarks

SETTING = "view/optimiser_state"
# Scheduled learning rates are computed this many steps ahead at least (a torch loop).
RATES_AHEAD = 256


class StateDisplay(QObject):
    """Follows the selected path's animated head with its optimiser state, on the map and in the
    inspector's box."""

    def __init__(self, marks: StateMarks, box: StateBox, action: QAction, settings: QSettings,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.marks = marks
        self._box = box
        self._settings = settings
        self._selected: ShownTrajectory | None = None
        # Batches whose state was recomputed (or found not to come out the same) on selection.
        self._replayed: set[int] = set()
        # The selected path's scheduled learning rates (row k: the rate step k used).
        self._rates: tuple[ShownTrajectory, NDArray[np.float64]] | None = None
        action.setChecked(settings.value(SETTING, "true") != "false")
        marks.set_enabled(action.isChecked())
        action.toggled.connect(self._on_toggled)

    def select(self, shown: ShownTrajectory | None, batch: Sequence[ShownTrajectory] = (),
               target: Descendable | None = None) -> None:
        """Follow this path (None: none is selected). A path shown whole without its state
        (from a session) gets it recomputed with the paths of its batch (in column order) on
        target, what the map descends, once per batch."""
        self._selected = shown
        if shown is not None and not shown.state and shown.run_id not in self._replayed \
                and not shown.imported and shown.received > 1:
            self._replayed.add(shown.run_id)
            if target is not None and target.text == shown.function and can_replay(batch):
                try:
                    replay_state(target, batch)
                except (ArithmeticError, ValueError, RuntimeError):
                    pass  # it keeps no state, and the inspector says so
        self._refresh()

    def path_drawn(self, shown: ShownTrajectory) -> None:
        """A path moved on the map: follow its head if it is the selected one."""
        if shown is self._selected:
            self._refresh()

    def forget(self, path_ids: Iterable[int]) -> None:
        """Paths were removed: stop following the selected one if it is among them."""
        if self._selected is not None and self._selected.path_id in set(path_ids):
            self.select(None)

    def _on_toggled(self, on: bool) -> None:
        self._settings.setValue(SETTING, "true" if on else "false")
        self.marks.set_enabled(on)

    def _refresh(self) -> None:
        shown = self._selected
        if shown is None:
            self.marks.clear()
            self._box.show_reading("", None)
            return
        head = shown.shown_xy()[-1]
        k = shown.shown - 1
        reading = read_state(shown.settings, shown.state_rows(), k, self._rate(shown, k))
        self.marks.show_reading((float(head[0]), float(head[1])), reading)
        self._box.show_reading(f"Run {run_label(shown.path_id)}: {shown.optimizer_text()}",
                               reading)

    def _rate(self, shown: ShownTrajectory, k: int) -> float | None:
        """The learning rate step k used under the path's schedule (None: settings.lr)."""
        settings = shown.settings
        if not settings.schedule or k < 1:
            return None
        cached = self._rates
        if cached is None or cached[0] is not shown or len(cached[1]) <= k:
            rates = scheduled_rates(settings, min(settings.steps, max(2 * k, RATES_AHEAD)) + 1)
            if rates is None:
                return None
            cached = self._rates = (shown, rates)
        return float(cached[1][k])
