"""Opening the window: the first frame at once, then the parts, the engine and the 3D view.

Also what tests and the benchmark need: report when the window is on screen, press Ctrl+Q.
Only this module imports the main window (app.py imports this one, lazily).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from typing import cast

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from explorer.gui.main_window import TITLE, MainWindow
from explorer.gui.settings_file import APPLICATION, ORGANIZATION, open_settings

__all__ = ["BUILT_MARK", "QUIT_ENV", "READY_MARK", "SHOWN_MARK", "run_app"]

# "1": press Ctrl+Q as soon as the window is visible; "engine": once the engine has loaded;
# "report": only say when the window is visible, and again when the engine has loaded.
QUIT_ENV = "GDX_TEST_QUIT_AFTER_SHOWN"
SHOWN_MARK = "GDX-WINDOW-SHOWN"
BUILT_MARK = "GDX-WINDOW-BUILT"
READY_MARK = "GDX-ENGINE-READY"


class _QuitWhenShown(QObject):
    """For tests and the benchmark: report when the window is on screen, then press Ctrl+Q."""

    def __init__(self, window: MainWindow, mode: str) -> None:
        super().__init__(window)
        self._window = window
        self._mode = mode
        self._shown = False
        self._engine = False
        self._waited = 0
        self._poll = QTimer(self)
        self._poll.setInterval(5)
        self._poll.timeout.connect(self._on_poll)
        self._poll.start()
        self._listening = False

    def _on_poll(self) -> None:
        handle = self._window.windowHandle()
        if not self._shown:
            if handle is None or not handle.isExposed():
                return
            self._shown = True
            print(f"{SHOWN_MARK} {time.time():.6f}", flush=True)
            # Shortcuts go to the active window; without a window manager, ask for it.
            self._window.activateWindow()
        if not self._window.is_built():
            return  # Ctrl+Q is a menu shortcut: the menus come with the parts
        if not self._listening:
            self._listening = True
            print(f"{BUILT_MARK} {time.time():.6f}", flush=True)
            self._window.worker.engine_ready.connect(self._on_engine_ready)
            self._engine = self._window.worker.is_ready
        if self._mode in ("engine", "report") and not self._engine:
            return
        if self._mode == "report":
            self._poll.stop()
            print(f"{READY_MARK} {time.time():.6f}", flush=True)
            return
        if QApplication.activeWindow() is not self._window:
            self._waited += 1
            if self._waited < 1000:  # five seconds
                return
            print("GDX: the window never became active; closing it directly", flush=True)
            self._poll.stop()
            self._window.close()
            return
        self._poll.stop()
        from PySide6.QtTest import QTest

        QTest.keyClick(self._window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)

    def _on_engine_ready(self) -> None:
        self._engine = True


class _WhenExposed(QObject):
    """Call functions once a window is on screen and its first frame is painted."""

    def __init__(self, window: QWidget, calls: list[Callable[[], None]]) -> None:
        super().__init__(window)
        self._window = window
        self._calls = calls
        self._poll = QTimer(self)
        self._poll.setInterval(5)
        self._poll.timeout.connect(self._on_poll)
        self._poll.start()

    def _on_poll(self) -> None:
        handle = self._window.windowHandle()
        if handle is None or not handle.isExposed():
            return
        self._poll.stop()
        for index, call in enumerate(self._calls):
            # One per event-loop turn, after the frame that was drawn on exposure.
            QTimer.singleShot(30 * index, call)


def run_app() -> int:
    """Open the window and run the event loop; the exit code."""
    # Share GL contexts between widgets (pyqtgraph's compiled shaders); must precede the app.
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    # instance() is typed as the base QCoreApplication; a running one here is a QApplication.
    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(TITLE)
    # The offscreen platform has no OpenGL: show the rest of the window without the 3D view.
    window = MainWindow(open_settings(), with_surface=app.platformName() != "offscreen",
                        defer_surface=True, defer_build=True)
    window.show()
    # The first frame is on screen before the parts are imported and made; then the engine
    # (torch, in its thread) and the 3D view (OpenGL) load.
    _WhenExposed(window, [window.build, window.start_engine, window.build_surface])
    mode = os.environ.get(QUIT_ENV, "")
    if mode:
        _QuitWhenShown(window, mode)
    _CloseOnInterrupt(window)
    return int(app.exec())


class _CloseOnInterrupt(QObject):
    """Ctrl+C in the terminal closes the window as Ctrl+Q does (asking what Ctrl+Q asks); a
    second Ctrl+C quits without asking. No traceback either way."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._asked = False
        signal.signal(signal.SIGINT, self._on_signal)
        # Python runs signal handlers between bytecodes: wake it up now and then while Qt
        # waits for events in C++.
        self._wake = QTimer(self)
        self._wake.setInterval(200)
        self._wake.timeout.connect(lambda: None)
        self._wake.start()

    def _on_signal(self, _number: int, _frame: object) -> None:
        if self._asked:
            QTimer.singleShot(0, self._quit)
            return
        self._asked = True
        QTimer.singleShot(0, self._close)

    def _quit(self) -> None:
        self._window.close_without_asking()  # threads joined before the app goes
        QCoreApplication.exit(130)

    def _close(self) -> None:
        if not self._window.close():
            self._asked = False  # the user cancelled in a dialog: the next Ctrl+C asks again

