"""GUI test helpers."""

from __future__ import annotations

import os

import pytest

# GL needs a real X display (Xvfb, from pytest-xvfb); offscreen Qt gives QOpenGLWidget no context.
needs_gl = pytest.mark.skipif(
    os.environ.get("QT_QPA_PLATFORM") != "xcb",
    reason="OpenGL needs the xcb platform under Xvfb (install xvfb; see .ci/run)",
)
