"""The 3D view's GL widget, and the GL state its items draw with."""

from __future__ import annotations

from OpenGL import GL
from pyqtgraph.opengl import shaders
from pyqtgraph.opengl.items.GLLinePlotItem import GLLinePlotItem
from pyqtgraph.opengl.items.GLScatterPlotItem import GLScatterPlotItem
from PySide6.QtCore import QCoreApplication, QPointF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QOpenGLContext
from PySide6.QtWidgets import QWidget

from explorer.gui.views.offscreen_gl import OffscreenGLWidget

# pyqtgraph compiles each shader once per process and reuses it in every GL widget: that only
# works when all widgets share one context, which Qt arranges if told before the app starts.
if QCoreApplication.instance() is None:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

# Renderer names of software OpenGL (lowercase), where smooth lines are slow.
SOFTWARE_GL = ("llvmpipe", "softpipe", "software", "swrast", "lavapipe")
CLICK_SLOP = 4.0  # pixels the mouse may move between press and release and still click

# GL options: drawn with depth (hidden behind hills), on top of everything, and the surface.
DEPTH = {GL.GL_DEPTH_TEST: True, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
         "glBlendFuncSeparate": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA,
                                 GL.GL_ONE, GL.GL_ONE_MINUS_SRC_ALPHA),
         "glDepthFunc": (GL.GL_LEQUAL,)}
ON_TOP = {**DEPTH, GL.GL_DEPTH_TEST: False}
SURFACE = {GL.GL_DEPTH_TEST: True, GL.GL_BLEND: False, GL.GL_CULL_FACE: False,
           "glDepthFunc": (GL.GL_LEQUAL,),
           # Push the surface back a little so that lines lying on it win the depth test.
           GL.GL_POLYGON_OFFSET_FILL: True, "glPolygonOffset": (1.0, 1.0)}


def _forget_compiled_shaders() -> None:
    """Drop pyqtgraph's compiled programs, which belong to another (unshared) GL context."""
    GLLinePlotItem._shaderProgram = None
    GLScatterPlotItem._shaderProgram = None
    for program in shaders.ShaderProgram.names.values():
        program.prog = None


class SurfaceGLWidget(OffscreenGLWidget):
    """The 3D view's GL widget; it tells a click (press and release in place) from a camera drag."""

    clicked = Signal(float, float, bool)  # widget pixel x, y; shift held

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._press: QPointF | None = None
        # Smooth (antialiased) GL lines, unless the GL turns out to be software rendering.
        self.smooth_lines = True

    def initializeGL(self) -> None:
        """Set up GL; without context sharing, recompile pyqtgraph's shaders for this context.

        Software GL (Mesa's llvmpipe, on machines without a GPU or under Xvfb) draws smooth
        lines several times slower than plain ones: a hundred paths took 90 ms a frame. There
        the lines are drawn plain.
        """
        context = QOpenGLContext.currentContext()
        shared = QOpenGLContext.globalShareContext()
        if shared is None or context is None or not QOpenGLContext.areSharing(context, shared):
            _forget_compiled_shaders()
        super().initializeGL()
        renderer = GL.glGetString(GL.GL_RENDERER)
        name = renderer.decode(errors="replace").lower() if isinstance(renderer, bytes) else ""
        self.smooth_lines = not any(word in name for word in SOFTWARE_GL)
        for item in self.items:  # those added later read smooth_lines when they are made
            if isinstance(item, GLLinePlotItem):
                item.antialias = self.smooth_lines
        # Compile the path items' shaders now, not in the first frame of the first run.
        GLLinePlotItem.getShaderProgram()
        GLScatterPlotItem.getShaderProgram()

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        """Remember where a left press began."""
        if ev.button() == Qt.MouseButton.LeftButton:
            self._press = ev.position()
        super().mousePressEvent(ev)

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        """Emit clicked when the left button comes up where it went down."""
        press, self._press = self._press, None
        if ev.button() == Qt.MouseButton.LeftButton and press is not None:
            moved = ev.position() - press
            if abs(moved.x()) + abs(moved.y()) <= CLICK_SLOP:
                shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
                self.clicked.emit(ev.position().x(), ev.position().y(), shift)
        super().mouseReleaseEvent(ev)
