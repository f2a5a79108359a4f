"""A pyqtgraph 3D view that renders into an offscreen framebuffer and shows the picture as an image.

Why not pyqtgraph's GLViewWidget (a QOpenGLWidget)? Once a window holds a QOpenGLWidget, Qt
composites the whole window through OpenGL on every repaint, whichever widget changed. On
software GL (Mesa's llvmpipe: machines without a GPU, remote desktops, Xvfb) that costs about
18 ms per repaint of a 1400 x 900 window, before anything is drawn; a table cell or a contour
update paid it too. Rendered offscreen, the 3D scene costs the same GL work, plus one read back
of its pixels (about 1 ms), and the window stays a plain raster window that repaints only what
changed.

The view keeps the last picture: a repaint that the scene did not ask for (the window being
uncovered, a neighbour's repaint) draws the image and runs no GL at all.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from OpenGL import GL
from pyqtgraph.opengl.GLGraphicsItem import GLGraphicsItem
from pyqtgraph.opengl.GLViewWidget import GLViewMixin
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QOffscreenSurface,
    QOpenGLContext,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QShowEvent,
    QSurfaceFormat,
)
from PySide6.QtOpenGL import QOpenGLFramebufferObject, QOpenGLFramebufferObjectFormat
from PySide6.QtWidgets import QWidget


@runtime_checkable
class Overlay(Protocol):
    """An item drawn with QPainter over the rendered picture (text, a colour bar)."""

    def paint_overlay(self, painter: QPainter) -> None:
        """Paint over the 3D picture; the painter's device is the view."""

    def visible(self) -> bool:
        """Whether the item is shown (GLGraphicsItem's own)."""


class OffscreenGLWidget(GLViewMixin, QWidget):
    """GLViewMixin on a plain QWidget: GL renders into a framebuffer object, Qt paints its image.

    It offers what pyqtgraph's items and GLViewMixin ask of a QOpenGLWidget: context(),
    makeCurrent(), doneCurrent(), isValid(), defaultFramebufferObject() and
    grabFramebuffer(). initializeGL() runs once, the first time the scene is rendered.

    Two things keep the GL work off the window's repaints:
      - The scene renders in an event-loop turn of its own (a zero timer after update()),
        not inside paintEvent. So when the window repaints, the 3D view only draws a
        finished image, and a contour map changing at the same time does not add its paint
        to the 3D view's render in one long turn.
      - Items marked static (set_static: the surface and its floor grid) are rendered into a
        layer of their own, colour and depth, which is rendered again only when one of them,
        the camera or the size changes. Each frame copies the layer into the picture (a blit,
        about 1 ms) and draws the other items (the paths) over it, depth-tested against it.
    """

    rendered = Signal()  # the scene was rendered (the widget shows it at its next paint)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._context: QOpenGLContext | None = None
        self._surface: QOffscreenSurface | None = None
        self._fbo: QOpenGLFramebufferObject | None = None
        self._layer: QOpenGLFramebufferObject | None = None  # the static items, rendered
        self._layer_key: tuple[object, ...] | None = None
        self._static: dict[int, GLGraphicsItem] = {}
        self._static_changes = 0
        self._image = QImage()
        self._stale = True  # the scene changed since the image was rendered
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(0)
        self._render_timer.timeout.connect(self._render_turn)
        self.renders = 0  # how many times the scene was rendered (for tests and benchmarks)
        self.layer_renders = 0  # how many times the static layer was

    # -- what pyqtgraph expects of a QOpenGLWidget ------------------------------------------

    def context(self) -> QOpenGLContext | None:
        """The GL context (None until the view is first rendered)."""
        return self._context

    def isValid(self) -> bool:
        """True once the GL context exists."""
        return self._context is not None and self._context.isValid()

    def makeCurrent(self) -> None:
        """Make the context current with the picture's framebuffer bound (made if needed)."""
        if self._ensure_context():
            assert self._context is not None and self._surface is not None
            self._context.makeCurrent(self._surface)
            self._fbo = self._sized(self._fbo)
            self._fbo.bind()

    def doneCurrent(self) -> None:
        """Release the context."""
        if self._context is not None:
            self._context.doneCurrent()

    def defaultFramebufferObject(self) -> int:
        """The framebuffer the scene renders into."""
        return int(self._fbo.handle()) if self._fbo is not None else 0

    def update(self) -> None:  # type: ignore[override]  # no region form: the scene renders whole
        """The scene changed: render it again in a turn of its own, then show it."""
        self._stale = True
        timer = getattr(self, "_render_timer", None)  # GLViewMixin.__init__ calls update()
        if timer is not None and not timer.isActive():
            timer.start()

    def grabFramebuffer(self) -> QImage:
        """The scene as it looks now, with its overlays."""
        if self._stale:
            self.render_scene()
        return self.grab().toImage()

    # -- the static layer -------------------------------------------------------------------

    def set_static(self, item: GLGraphicsItem) -> None:
        """Draw item in the static layer; its changes re-render the layer."""
        self._static[id(item)] = item
        view_update = item.update

        def update() -> None:
            self._static_changes += 1
            view_update()

        item.update = update

    def _layer_state(self) -> tuple[object, ...]:
        """What the static layer's picture depends on, besides its items' own changes."""
        camera = tuple(
            value.toTuple() if hasattr(value, "toTuple") else value  # QVector3D, QQuaternion
            for _, value in sorted(self.opts.items(), key=lambda kv: kv[0])
        )
        return (self._device_size(), camera, self._static_changes)

    # -- rendering --------------------------------------------------------------------------

    def _ensure_context(self) -> bool:
        if self._context is not None:
            return True
        context = QOpenGLContext()
        context.setFormat(QSurfaceFormat.defaultFormat())
        shared = QOpenGLContext.globalShareContext()
        if shared is not None:
            context.setShareContext(shared)
        if not context.create():
            return False
        surface = QOffscreenSurface(self.screen())
        surface.setFormat(context.format())
        surface.create()
        if not surface.isValid() or not context.makeCurrent(surface):
            return False
        self._context, self._surface = context, surface
        self._fbo = self._sized(None)
        self._fbo.bind()
        self.initializeGL()
        return True

    def _device_size(self) -> tuple[int, int]:
        return max(self.deviceWidth(), 1), max(self.deviceHeight(), 1)

    def _sized(self, fbo: QOpenGLFramebufferObject | None) -> QOpenGLFramebufferObject:
        """fbo if it has the view's size, else a new one (colour, depth and stencil)."""
        width, height = self._device_size()
        if fbo is not None and fbo.width() == width and fbo.height() == height:
            return fbo
        fmt = QOpenGLFramebufferObjectFormat()
        fmt.setAttachment(QOpenGLFramebufferObject.Attachment.CombinedDepthStencil)
        return QOpenGLFramebufferObject(width, height, fmt)

    def _draw_items(self, static: bool) -> None:
        """Draw the visible top-level items of one kind, as GLViewMixin.drawItemTree does."""
        items = [i for i in self.items
                 if i.parentItem() is None and (id(i) in self._static) == static]
        items.sort(key=lambda i: i.depthValue())
        for item in items:
            if not item.visible():
                continue
            self._modelViewStack.append(self.currentModelView() * item.transform())
            try:
                self.drawItemTree(item)
            finally:
                self._modelViewStack.pop()

    def _update_layer(self) -> None:
        """Render the static layer if it is out of date (the context current)."""
        width, height = self._device_size()
        region = self.getViewport()
        state = self._layer_state()
        if self._layer is None or state != self._layer_key:
            self._layer = self._sized(self._layer)
            self._layer.bind()
            GL.glViewport(0, 0, width, height)
            self.setProjection(region, region)
            self.setModelview()
            GL.glClearColor(*self.opts["bgcolor"])
            GL.glClear(GL.GL_DEPTH_BUFFER_BIT | GL.GL_COLOR_BUFFER_BIT)
            self._draw_items(static=True)
            self._layer_key = state
            self.layer_renders += 1

    def prerender(self) -> None:
        """Start rendering the static layer now, if it is out of date, without waiting for it.

        GL queues the drawing; software GL (llvmpipe) rasterizes in threads of its own. The
        caller goes on (the window draws the contour map of a new landscape meanwhile), and
        the render that follows finds the layer done or nearly.
        """
        if not self.isVisible():
            return
        self.makeCurrent()
        if self._fbo is None:
            return
        self._update_layer()
        GL.glFlush()
        self._fbo.release()
        self.doneCurrent()

    def paintGL(self) -> None:
        """Render the scene into the picture's framebuffer (bound): the layer, then the rest."""
        assert self._fbo is not None
        width, height = self._device_size()
        region = self.getViewport()
        self._update_layer()
        assert self._layer is not None  # _update_layer made it
        QOpenGLFramebufferObject.blitFramebuffer(
            self._fbo, self._layer, GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT,
            GL.GL_NEAREST,
        )
        self._fbo.bind()
        GL.glViewport(0, 0, width, height)
        self.setProjection(region, region)
        self.setModelview()
        self._draw_items(static=False)

    def render_scene(self) -> None:
        """Render the scene now and keep its picture; the widget shows it at its next paint."""
        self._render_timer.stop()
        self.makeCurrent()
        if self._fbo is None:
            return
        self.paintGL()
        self._image = self._fbo.toImage()
        self._image.setDevicePixelRatio(self.devicePixelRatioF())
        self._fbo.release()
        self.doneCurrent()
        self._stale = False
        self.renders += 1
        QWidget.update(self)
        self.rendered.emit()

    def render_pending(self) -> None:
        """Render now if the scene changed and the view is on screen."""
        if self._stale and self.isVisible():
            self.render_scene()

    def _render_turn(self) -> None:
        self.render_pending()

    def showEvent(self, event: QShowEvent) -> None:
        """Render what changed while hidden."""
        super().showEvent(event)
        if self._stale:
            self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A new size needs a new picture."""
        super().resizeEvent(event)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the last picture and the overlays (the first picture is rendered here)."""
        if self._image.isNull():
            self.render_scene()
        painter = QPainter(self)
        if self._image.isNull():
            painter.fillRect(self.rect(), Qt.GlobalColor.black)
            painter.setPen(Qt.GlobalColor.white)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "OpenGL is not available")
        else:
            painter.fillRect(self.rect(), QColor.fromRgbF(*self.opts["bgcolor"]))
            painter.drawImage(0, 0, self._image)
            for item in self.items:
                if isinstance(item, Overlay) and item.visible():
                    painter.save()
                    item.paint_overlay(painter)
                    painter.restore()
        painter.end()
