"""Text and a colour bar painted with QPainter over the 3D view's GL picture."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from pyqtgraph.opengl.GLGraphicsItem import GLGraphicsItem
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QMatrix4x4, QPainter, QVector3D

from explorer.gui.model.axis_names import AxisNames
from explorer.gui.model.colors import COLORMAP, RGB
from explorer.gui.views.surface_geometry import SceneMapping, nice_ticks, tick_text
from explorer.gui.views.surface_gl import ON_TOP

FloatArray = NDArray[np.float64]


class ColorBarOverlay(GLGraphicsItem):
    """A 2D colour bar painted over the GL scene at the right edge, like the contour view's."""

    def __init__(self) -> None:
        super().__init__()
        self.setGLOptions(ON_TOP)
        self._low, self._high, self._title = 0.0, 1.0, ""
        self._gradient = pg.colormap.get(COLORMAP).getGradient()
        self._text = TextImages()

    def set_range(self, low: float, high: float, title: str) -> None:
        """The values at the bottom and top of the bar, and its title."""
        self._low, self._high, self._title = float(low), float(high), title
        self.update()

    def set_title(self, title: str) -> None:
        """Retitle the bar (its range stays; an empty bar stays hidden until it has one)."""
        if self._title:
            self._title = title
            self.update()

    def title(self) -> str:
        """The bar's title."""
        return self._title

    def paint(self) -> None:
        """Nothing in GL: see paint_overlay."""

    @staticmethod
    def bar_rect(width: float, height: float) -> QRectF:
        """The bar itself in a view of this size (its ticks and numbers are to its right)."""
        return QRectF(width - 74, 40, 14, max(height - 90, 40))

    def footprint(self, width: float, height: float) -> list[QRectF]:
        """What the bar paints in a view of this size: its title, and the bar with its ticks
        and their numbers (none while it is hidden)."""
        if not self._title:
            return []
        bar = self.bar_rect(width, height)
        metrics = self._text.metrics
        title_left = min(bar.left(), width - 6 - metrics.horizontalAdvance(self._title))
        title = QRectF(title_left, bar.top() - 12 - metrics.ascent(), width - title_left,
                       metrics.height())
        column = QRectF(bar.left(), bar.top() - metrics.ascent(), width - bar.left(),
                        bar.height() + metrics.height() + 4)
        return [title, column]

    def paint_overlay(self, painter: QPainter) -> None:
        """Draw the bar, its ticks and its title with QPainter over the GL picture."""
        if not self._title:
            return
        view = self.view()
        width, height = view.width(), view.height()
        bar = self.bar_rect(width, height)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing)
        self._gradient.setStart(bar.bottomLeft())
        self._gradient.setFinalStop(bar.topLeft())
        painter.fillRect(bar, self._gradient)
        painter.setPen(QColor(220, 220, 220))
        painter.drawRect(bar)
        light = (220, 220, 220)
        title_width = self._text.metrics.horizontalAdvance(self._title)
        self._text.draw(painter, QPointF(min(bar.left(), width - 6 - title_width),
                                         bar.top() - 12), self._title, light)
        span = self._high - self._low
        if span > 0:
            for value in nice_ticks(self._low, self._high):
                y = bar.bottom() - (value - self._low) / span * bar.height()
                painter.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 4, y))
                self._text.draw(painter, QPointF(bar.right() + 7, y + 4), tick_text(value),
                                light)


class TextImages:
    """Text for QPainter over GL: each (text, colour) drawn once into a small image.

    Text drawn straight onto the GL widget costs about a millisecond a call in software GL;
    an image is kept as a texture by the GL painter, so later frames only place it.
    """

    def __init__(self, point_size: int = 9) -> None:
        self.font = QFont()
        self.font.setPointSize(point_size)
        self.metrics = QFontMetrics(self.font)
        self._images: dict[tuple[str, RGB, float], QImage] = {}

    def draw(self, painter: QPainter, baseline: QPointF, text: str, color: RGB) -> None:
        """Draw text with its baseline starting at baseline, as painter.drawText would."""
        device = painter.device()
        ratio = float(device.devicePixelRatioF()) if device is not None else 1.0
        key = (text, (int(color[0]), int(color[1]), int(color[2])), ratio)
        image = self._images.get(key)
        if image is None:
            width = max(self.metrics.horizontalAdvance(text), 1) + 2
            image = QImage(math.ceil(width * ratio), math.ceil(self.metrics.height() * ratio),
                           QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(ratio)
            image.fill(0)
            text_painter = QPainter(image)
            text_painter.setRenderHints(QPainter.RenderHint.Antialiasing
                                        | QPainter.RenderHint.TextAntialiasing)
            text_painter.setFont(self.font)
            text_painter.setPen(QColor(*key[1]))
            text_painter.drawText(QPointF(1.0, self.metrics.ascent()), text)
            text_painter.end()
            if len(self._images) > 512:  # labels of landscapes long gone
                self._images.clear()
            self._images[key] = image
        painter.drawImage(baseline - QPointF(1.0, self.metrics.ascent()), image)


def floor_grid(
    mapping: SceneMapping, names: AxisNames, floor: float
) -> tuple[NDArray[np.float32], list[tuple[FloatArray, str, RGB]]]:
    """The floor's grid lines at round x and y values (pairs of scene points) and their
    labels: each tick's value and each axis' name, at scene positions beside the floor."""
    xmin, xmax, ymin, ymax = mapping.domain
    ex, ey = mapping.extent
    lines = []
    labels: list[tuple[FloatArray, str, RGB]] = []
    grey, light = (150, 150, 150), (225, 225, 225)
    for x in nice_ticks(xmin, xmax):
        sx = mapping.to_scene(x, 0.0, mapping.low)[0]
        lines += [(sx, -ey, floor), (sx, ey, floor)]
        labels.append((np.array([sx, -ey - 0.06, floor]), tick_text(x), grey))
    for y in nice_ticks(ymin, ymax):
        sy = mapping.to_scene(0.0, y, mapping.low)[1]
        lines += [(-ex, sy, floor), (ex, sy, floor)]
        labels.append((np.array([ex + 0.03, sy, floor]), tick_text(y), grey))
    labels.append((np.array([0.0, -ey - 0.16, floor]), names.x, light))
    labels.append((np.array([ex + 0.14, 0.0, floor]), names.y, light))
    return np.array(lines, dtype=np.float32), labels


class AxisLabels(GLGraphicsItem):
    """The floor grid's tick labels, painted with one QPainter over the GL picture (pyqtgraph's
    GLTextItem opens a painter and draws text for each label: see TextImages). A label that
    would fall on the colour bar is moved left of it, so that neither hides the other."""

    # Space kept between a moved label and the colour bar.
    GAP = 4.0

    def __init__(self, bar: ColorBarOverlay | None = None) -> None:
        super().__init__()
        self._labels: list[tuple[FloatArray, str, RGB]] = []
        self._text = TextImages()
        self._bar = bar
        self._drawn: list[tuple[str, QRectF]] = []

    def set_labels(self, labels: list[tuple[FloatArray, str, RGB]]) -> None:
        """Each label: its scene position, its text and its colour."""
        self._labels = list(labels)
        self.update()

    def texts(self) -> list[str]:
        """The labels' texts (for tests)."""
        return [text for _, text, _ in self._labels]

    def paint(self) -> None:
        """Nothing in GL: see paint_overlay."""

    def drawn_rects(self) -> list[tuple[str, QRectF]]:
        """Each label's text and the rectangle it was last painted in (for tests)."""
        return list(self._drawn)

    def paint_overlay(self, painter: QPainter) -> None:
        """Project every label to the screen and draw them all with the painter."""
        self._drawn = []
        if not self._labels:
            return
        view = self.view()
        rect = QRectF(view.rect())
        to_screen = QMatrix4x4()
        to_screen.viewport(rect.left(), rect.bottom(), rect.width(), -rect.height())
        region = view.getViewport()
        project = to_screen * view.projectionMatrix(region, region) * view.viewMatrix()
        metrics = self._text.metrics
        placed = []
        for pos, text, color in self._labels:
            point = project.map(QVector3D(float(pos[0]), float(pos[1]), float(pos[2])))
            box = QRectF(point.x(), point.y() - metrics.ascent(),
                         metrics.horizontalAdvance(text) + 2, metrics.height())
            placed.append((box, text, color))
        bar = self._bar.footprint(rect.width(), rect.height()) if self._bar else []
        shift_labels_clear_of([box for box, _, _ in placed], bar, self.GAP)
        for box, text, color in placed:
            self._text.draw(painter, QPointF(box.left(), box.top() + metrics.ascent()), text,
                            color)
            self._drawn.append((text, box))


def shift_labels_clear_of(boxes: list[QRectF], keep_out: list[QRectF], gap: float) -> None:
    """Move the labels that fall on keep_out (the colour bar) left of it, in place.

    The labels from the leftmost one that overlaps onwards move together by one distance, so
    that a column of tick labels and its axis name keep their layout and do not pile up.
    """
    hits = [(box, area) for box in boxes for area in keep_out
            if _reaches(box, area, gap) and math.isfinite(box.right())]
    if not hits:
        return
    distance = max(box.right() + gap - area.left() for box, area in hits)
    start = min(box.left() for box, _ in hits)
    for box in boxes:
        if box.right() >= start:  # >=: a box far off may have lost its width to rounding
            box.translate(-distance, 0.0)


def _reaches(box: QRectF, area: QRectF, gap: float) -> bool:
    """True when box shares rows with area and reaches within gap of its left edge or past it
    (a label beyond the view's right edge counts too: moved left, it would cross the area)."""
    return (box.top() < area.bottom() and box.bottom() > area.top()
            and box.right() > area.left() - gap)
