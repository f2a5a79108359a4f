"""The path time travels with a session file, and changing it is an unsaved change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.gui.main_window import MainWindow

pytestmark = pytest.mark.window(surface=False)


def test_the_path_time_is_saved_and_opened_with_the_session(
    window: MainWindow, tmp_path: Path
) -> None:
    window.controls.set_path_time(4.5)
    path = tmp_path / "slow.json"
    assert window.sessions.save_to(path)
    assert json.loads(path.read_text())["view"]["path_time"] == 4.5
    assert not window.isWindowModified()
    window.controls.set_path_time(0.5)
    assert window.isWindowModified()  # a changed path time is not saved yet
    assert window.sessions.open_from(path)
    assert window.controls.path_time_s() == 4.5 and not window.isWindowModified()


def test_toggling_a_saved_view_setting_marks_the_title(window: MainWindow, tmp_path: Path) -> None:
    assert window.sessions.save_to(tmp_path / "view.json")
    window.menus.loss_log.toggle()
    assert window.isWindowModified()
    window.menus.loss_log.toggle()
    assert not window.isWindowModified()  # back as saved
