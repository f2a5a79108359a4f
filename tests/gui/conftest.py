"""GUI test fixtures: the settings file, the window, the OpenGL skip, no thread left running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThread
from pytestqt.qtbot import QtBot

import explorer.gui.engine.descent_worker as worker_module
from explorer.gui.main_window import SETTINGS_ENV, MainWindow
from tests.gui.helpers import (
    GL_SKIP_REASON,
    WindowOpener,
    WindowOptions,
    has_gl,
    open_window,
)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked `gl` where there is no OpenGL, before its fixtures build a GL view."""
    # Raised here, one place, so pytest's -ra summary folds every such skip into one line (a
    # skip raised in a fixture is reported at each test's own line instead).
    if item.get_closest_marker("gl") is not None and not has_gl():
        pytest.skip(GL_SKIP_REASON)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> QSettings:
    """A settings file in tmp_path: the user's real settings are never read or written."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return QSettings(str(path), QSettings.Format.IniFormat)


@pytest.fixture
def window_opener(request: pytest.FixtureRequest, qtbot: QtBot,
                  settings: QSettings) -> WindowOpener:
    """Opens a window on the test's settings (or on others given), with the options of the
    closest `window` marker: `pytestmark = pytest.mark.window(surface=False, ...)`."""
    marker = request.node.get_closest_marker("window")
    options = WindowOptions(**marker.kwargs) if marker is not None else WindowOptions()

    def opener(on: QSettings | None = None) -> MainWindow:
        return open_window(qtbot, settings if on is None else on, options)

    return opener


@pytest.fixture
def window(window_opener: WindowOpener) -> MainWindow:
    """The window with its engine loaded; by default on Himmelblau, drawing paths instantly."""
    return window_opener()


@pytest.fixture(autouse=True)
def _no_qthread_left_running(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves a worker's QThread running (and stop it, so the run can go on)."""
    created: list[QThread] = []

    class RecordingThread(QThread):
        def __init__(self, *args: object) -> None:
            super().__init__(*args)
            created.append(self)

    monkeypatch.setattr(worker_module, "QThread", RecordingThread)
    yield
    running = [thread for thread in created if thread.isRunning()]
    for thread in running:
        thread.quit()
        thread.wait(5000)
    assert not running, f"QThreads left running: {running}"


@pytest.fixture(autouse=True)
def _never_ask_to_save(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a window tied to a changed session file, or with a tool still computing, asks
    with a modal dialog, which would block a test's teardown: answer Discard and Yes (stop the
    tools); a test that checks a question sets its own answer."""
    from PySide6.QtWidgets import QMessageBox

    from explorer.gui.session_actions import SessionActions
    from explorer.gui.tools.lab_tools import LabTools

    monkeypatch.setattr(SessionActions, "_ask_save",
                        lambda self: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(LabTools, "_ask_stop",
                        lambda self, running: QMessageBox.StandardButton.Yes)
