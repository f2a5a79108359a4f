"""The title's unsaved-changes mark, and file dialogs that open in the folder used last."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow
from tests.gui.helpers import WindowOpener, wait_idle

pytestmark = pytest.mark.window(surface=False)


def _run_one(qtbot: QtBot, window: MainWindow) -> None:
    window.runner.start_runs([(0.5, -0.5)])
    wait_idle(qtbot, window)


def test_title_marks_unsaved_changes_until_saved_or_opened(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    assert not window.isWindowModified()
    _run_one(qtbot, window)
    assert window.isWindowModified()  # a run that no file holds yet
    path = tmp_path / "one.json"
    assert window.sessions.save_to(path)
    assert not window.isWindowModified()
    window.controls.set_lr(window.controls.lr() * 2)
    window.controls.settings_changed.emit()  # set_lr is the programmatic setter: no signal
    assert window.isWindowModified()  # settings changed after the save
    assert window.sessions.save_to(path)
    assert not window.isWindowModified()
    window.runner.set_pending([(1.0, 1.0)])
    assert window.isWindowModified()  # a start added
    assert window.sessions.open_from(path)
    assert not window.isWindowModified()  # opening shows the file as it is
    window.function.set_function("x**2 + y**2", (-1.0, 1.0, -1.0, 1.0))
    assert window.function.apply()
    assert window.isWindowModified()  # the function changed
    assert "[*]" in window.windowTitle()  # Qt draws the mark where the placeholder is


def test_csv_and_image_dialogs_open_in_the_last_folder(
    qtbot: QtBot, window: MainWindow, settings: QSettings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    _run_one(qtbot, window)
    offered: list[str] = []
    answers = iter([tmp_path / "a" / "paths.csv", tmp_path / "b" / "map.png",
                    tmp_path / "c" / "again.csv"])

    def fake_dialog(parent: object, title: str, start: str, filters: str) -> tuple[str, str]:
        offered.append(start)
        answer = next(answers)
        answer.parent.mkdir(exist_ok=True)
        return str(answer), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_dialog)
    window.exporter.ask_export()
    window.exporter.ask_save_image("contour")
    window.exporter.ask_export()
    assert (tmp_path / "a" / "paths.csv").is_file() and (tmp_path / "b" / "map.png").is_file()
    assert Path(offered[1]).parent == tmp_path / "a"
    assert Path(offered[2]).parent == tmp_path / "b"
    # The folder is kept in the settings file: the next launch starts there too.
    settings.sync()
    assert QSettings(settings.fileName(), QSettings.Format.IniFormat).value(
        "export/folder") == str(tmp_path / "c")


def test_session_dialogs_open_in_the_last_session_folder(
    qtbot: QtBot, window_opener: WindowOpener, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    window = window_opener()
    _run_one(qtbot, window)
    folder = tmp_path / "lessons"
    folder.mkdir()
    assert window.sessions.save_to(folder / "one.json")
    window.close()
    offered: list[str] = []

    def fake_save(parent: object, title: str, start: str, filters: str) -> tuple[str, str]:
        offered.append(start)
        return "", ""

    def fake_open(parent: object, title: str, start: str, filters: str) -> tuple[str, str]:
        offered.append(start)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", fake_open)
    fresh = window_opener()  # no session file: the folder comes from the settings
    assert fresh.sessions.path is None
    fresh.sessions._on_open()
    fresh.sessions._on_save_as()
    assert Path(offered[0]) == folder.resolve()
    assert Path(offered[1]).parent == folder.resolve()
