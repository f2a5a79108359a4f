"""Ctrl+Q while a race or a sweep computes asks once; Cancel keeps the work going (item 17).

The basin map's case is in test_basin_panel.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow

pytestmark = pytest.mark.window(surface=False)

# Long enough that neither finishes while the test asks (tol 0: nobody stops early).
LONG_STEPS = 200_000


def _answer(window: MainWindow, answer: QMessageBox.StandardButton) -> list[list[str]]:
    asked: list[list[str]] = []

    def ask(running: list[str]) -> QMessageBox.StandardButton:
        asked.append(list(running))
        return answer

    window.lab.ask_stop = ask  # type: ignore[method-assign]
    return asked


def _start_race(window: MainWindow) -> Callable[[], bool]:
    panel = window.lab.show_race()
    window.contour.start_requested.emit(-1.0, 1.0, True)  # a Shift-click
    assert panel.start_race()
    return panel.is_running


def _start_sweep(window: MainWindow) -> Callable[[], bool]:
    panel = window.lab.show_sweep()
    panel.set_start(1.0, 1.0)
    panel.set_range(0.0001, 0.001, 8)
    assert panel.run_sweep()
    return panel.is_running


@pytest.mark.parametrize(
    ("start", "words"),
    [(_start_race, "an optimiser race"), (_start_sweep, "a learning-rate sweep")],
)
def test_quit_then_cancel_keeps_the_tool_computing(
    qtbot: QtBot,
    window: MainWindow,
    start: Callable[[MainWindow], Callable[[], bool]],
    words: str,
) -> None:
    window.controls.set_limits(LONG_STEPS, 0.0, False)
    running = start(window)
    assert running()
    asked = _answer(window, QMessageBox.StandardButton.Cancel)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert asked == [[words]]
    # Cancel: nothing was stopped (a stop would have ended it at once: cancel() is synchronous).
    assert window.isVisible() and running()
    asked = _answer(window, QMessageBox.StandardButton.Yes)
    window.close()
    assert asked == [[words]]
    assert not window.isVisible() and not running()
    assert not window.runner.worker.thread_handle.isRunning()
