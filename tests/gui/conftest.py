"""GUI test helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThread

import explorer.gui.engine.descent_worker as worker_module

# GL needs a real X display (Xvfb, from pytest-xvfb); offscreen Qt gives QOpenGLWidget no context.
needs_gl = pytest.mark.skipif(
    os.environ.get("QT_QPA_PLATFORM") != "xcb",
    reason="OpenGL needs the xcb platform under Xvfb (install xvfb; see .ci/run)",
)


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
    """Closing a window tied to a changed session file asks with a modal dialog, which would
    block a test's teardown: answer Discard (a test that checks the question sets its own)."""
    from PySide6.QtWidgets import QMessageBox

    from explorer.gui.session_actions import SessionActions

    monkeypatch.setattr(SessionActions, "_ask_save",
                        lambda self: QMessageBox.StandardButton.Discard)
