"""The race's per-optimiser colours survive saving and reopening a session."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from explorer.core.race import RaceEntry
from explorer.gui.main_window import MainWindow
from explorer.gui.tools.race_panel import DEFAULT_ENTRIES

pytestmark = pytest.mark.window(surface=False)


def test_race_colours_come_back_with_the_session(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    panel = window.lab.show_race()
    # Remove the first entry and add one: the new one takes the freed colour, so the colours
    # are no longer in the order a fresh race gives them.
    panel.remove_entry(0)
    assert panel.add_entry(RaceEntry.default("rmsprop"))
    colors = panel.entry_colors()
    entries = panel.entries()
    fresh = RaceEntry.default(DEFAULT_ENTRIES[0])
    saved = tmp_path / "race.json"
    assert window.sessions.save_to(saved)

    panel.set_entries([fresh, *entries[1:], entries[0]])  # other entries, other colours
    assert panel.entry_colors() != colors
    assert window.sessions.open_from(saved)
    assert [e.optimizer for e in panel.entries()] == [e.optimizer for e in entries]
    assert panel.entry_colors() == colors
