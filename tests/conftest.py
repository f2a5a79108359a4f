"""Test-wide setup: the Qt platform, and no test may leave a thread running."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Choose the Qt platform before any QApplication exists.

    pytest-xvfb has started Xvfb and set DISPLAY by now (this hook runs last): under a display
    use xcb, which gives QOpenGLWidget a real (Mesa) context; without one, offscreen still
    renders 2-D widgets, and the GL tests skip themselves.
    """
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "xcb" if os.environ.get("DISPLAY") else "offscreen"
    # One torch thread: on two shared cores, more threads make small tensors far slower.
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _no_thread_left_behind() -> Iterator[None]:
    """Fail a test that leaves a Python thread running (napari's conftest does the same)."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    assert not leaked, f"threads left running: {leaked}"
