"""Plain helpers for the GUI tests: timeouts, opening the window, clicking the map, waiting."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QSettings, Qt
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow
from explorer.gui.views.contour_view import ContourView

ENGINE_TIMEOUT_MS = 120_000  # the first torch import, on a busy shared machine
# The one reason every OpenGL test gives when it skips (pytest's -ra summary prints it once).
GL_SKIP_REASON = "needs an X server with OpenGL: install xvfb, see README"
# The `window_opener` fixture: opens a window on the test's settings, or on the QSettings given.
WindowOpener = Callable[..., MainWindow]


def has_gl() -> bool:
    """Whether QOpenGLWidget gets a real context: only on xcb, under a display (Xvfb)."""
    # tests/conftest.py chose the platform before any QApplication existed; offscreen Qt gives
    # QOpenGLWidget no context.
    return os.environ.get("QT_QPA_PLATFORM") == "xcb"


@dataclass(frozen=True)
class WindowOptions:
    """How a test's window opens: the keywords of the `window` marker."""

    surface: bool | None = None  # the 3D view; None: wherever there is OpenGL
    instant: bool = True  # draw paths at once instead of animating them
    preset: str | None = None  # a preset chosen once the engine has loaded
    optimizer: str | None = None  # an optimiser chosen in the controls


def open_window(qtbot: QtBot, settings: QSettings,
                options: WindowOptions | None = None) -> MainWindow:
    """Show the window on these settings and wait until its engine has drawn the landscape."""
    options = options or WindowOptions()
    surface = has_gl() if options.surface is None else options.surface
    window = MainWindow(settings, with_surface=surface)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.start_engine()
    qtbot.waitUntil(lambda: window.document.grid is not None, timeout=ENGINE_TIMEOUT_MS)
    if options.preset is not None:
        assert window.function.choose_preset(options.preset)
    if options.optimizer is not None:
        window.controls.set_optimizer(options.optimizer)
    if options.instant:
        window.controls.set_path_time(0.0)
    return window


def click_at(qtbot: QtBot, view: ContourView, x: float, y: float, *,
             shift: bool = False) -> tuple[float, float]:
    """Click the contour view at data point (x, y); the data point the pixel stands for."""
    plot = view.plot_widget()
    box = plot.getPlotItem().getViewBox()
    pos = plot.mapFromScene(box.mapViewToScene(QPointF(x, y)))
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, modifier, pos)
    point = box.mapSceneToView(plot.mapToScene(pos))
    return point.x(), point.y()


def wait_idle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until every path is computed and drawn."""
    qtbot.waitUntil(lambda: not window.runner.is_animating(), timeout=30_000)
