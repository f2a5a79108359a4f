"""Animation frames: the window's own contour map and loss plot, off screen, drawn step by step.

The command line (`--animation`) and File > Export animation… both render through FrameRenderer:
one ContourView and one LossView in a widget that is never shown on a screen, with every path
cut at the frame's step, painted into a QImage of the chosen size. A path may carry a second
series beside its values (a network's slice loss at its projection), drawn dotted in its colour.
A scene with data (a model's, a network's) has a third pane, the data view at the frame's
parameters (gui.tools.animation_panes): the map then keeps the left at full height, the loss plot
and the data view share the right, one above the other.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QMessageLogContext, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from explorer.core.landscape import LandscapeGrid
from explorer.core.model_landscape import ModelLandscape
from explorer.gui.model.axis_names import FUNCTION_AXES
from explorer.gui.model.colors import RGB, trajectory_color
from explorer.gui.model_mode import grid_size
from explorer.gui.tools.animation_panes import (
    DataPane,
    FitPane,
    PaneView,
    make_pane_view,
    regions_pane,
)
from explorer.gui.views.contour_view import ContourView
from explorer.gui.views.loss_view import LossView
from explorer.io.animation import AnimationSettings, AnimationWriter, frame_steps

FloatArray = NDArray[np.float64]

# The data panes, for the command line (which reaches the window's drawing through this module).
__all__ = [
    "AnimatedPath", "AnimationScene", "DataPane", "FitPane", "FrameRenderer", "dotted_curve",
    "model_grid", "regions_pane", "render_animation", "trajectory_color",
]

# The map's share of the frame's width when the loss plot is beside it.
_MAP_SHARE = 3
_LOSS_SHARE = 2


@dataclass(frozen=True)
class AnimatedPath:
    """One path to animate: its points (n, 2), f at them (n,), its colour, its legend label."""

    xy: FloatArray
    f: FloatArray
    color: RGB | None = None  # None: the window's colour for a run of its index
    label: str = ""
    diverged: str = ""  # why it diverged (a red cross where it was last seen), '' if it did not
    # Another value at each point (a network's slice loss at its projection), dotted beside f.
    beside: FloatArray | None = None
    beside_label: str = ""

    def __post_init__(self) -> None:
        if self.beside is not None and len(self.beside) != len(self.xy):
            raise ValueError(f"beside has {len(self.beside)} values for {len(self.xy)} points")

    @property
    def steps(self) -> int:
        """Optimiser steps on the path (its rows minus the start)."""
        return max(len(self.xy) - 1, 0)


@dataclass(frozen=True)
class AnimationScene:
    """What an animation shows: a landscape, its paths, and how the map names and colours it."""

    grid: LandscapeGrid
    paths: Sequence[AnimatedPath]
    names: tuple[str, str, str] = FUNCTION_AXES  # x, y and the value (an AxisNames)
    log: bool = False
    loss: bool = True  # the loss plot beside the map
    caption: str = ""  # before "step k of n" in the map's corner
    data: DataPane | None = None  # the data view beside the map (None: none)
    _steps: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not self.paths:
            raise ValueError("an animation needs a path")
        object.__setattr__(self, "_steps", max(path.steps for path in self.paths))

    @property
    def steps(self) -> int:
        """The longest path's steps: the last frame's step."""
        return self._steps


class FrameRenderer:
    """Paints the scene's map (and loss plot) with every path cut at a step, as RGB arrays."""

    def __init__(self, scene: AnimationScene, width: int, height: int) -> None:
        self.scene = scene
        self.size = (width, height)
        # Never on a screen: a widget that is "shown" this way lays out and paints like a
        # visible one, on any platform (offscreen included), without a window appearing.
        self._widget = QWidget()
        self._widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self._widget.setStyleSheet("background: rgb(25, 25, 25);")
        self.contour = ContourView()
        self.contour.set_hint("")
        self.loss = LossView() if scene.loss else None
        layout = QHBoxLayout(self._widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.contour, _MAP_SHARE)
        self.colors = [path.color or trajectory_color(i) for i, path in enumerate(scene.paths)]
        self.pane: PaneView | None = None
        side: QHBoxLayout | QVBoxLayout = layout
        if scene.data is not None:
            self.pane = make_pane_view(scene.data, [path.xy for path in scene.paths],
                                       self.colors)
            # The loss plot above the data view, on the right: side by side, three panes are
            # too narrow at 800 x 600.
            column = QWidget()
            side = QVBoxLayout(column)
            side.setContentsMargins(0, 0, 0, 0)
            side.setSpacing(0)
            layout.addWidget(column, _LOSS_SHARE)
        self.contour.set_axis_names(*scene.names)
        self.contour.set_landscape(scene.grid, scene.log)
        count = len(scene.paths)
        self.contour.expect_paths(count)
        # The dotted series beside paths that have one, by path index.
        self._beside: dict[int, pg.PlotDataItem] = {}
        if self.loss is not None:
            self.loss.log_check_box().hide()
            self.loss.set_axis_names(*scene.names)
            self.loss.expect_paths(count)
            side.addWidget(self.loss, _LOSS_SHARE)
            for path_id, path in enumerate(scene.paths):
                if path.beside is not None:
                    curve = dotted_curve(self.colors[path_id], path.beside_label)
                    self.loss.plot_widget().addItem(curve)
                    self._beside[path_id] = curve
        if self.pane is not None:
            side.addWidget(self.pane.widget, _LOSS_SHARE)
            # Half the column each, whatever the views would like (their hints differ, and a
            # title's width must not push the column past the frame).
            for part in (self.loss, self.pane.widget):
                if part is not None:
                    part.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self._widget.resize(width, height)
        self._widget.show()
        # The whole paths first: the loss plot ranges over all of them, then keeps that range,
        # so that the axes stand still while the paths grow.
        self._draw(scene.steps)
        self._name_curves()
        # Painted a few times before the first frame: an axis sizes itself to its labels as it
        # paints, and the layout that follows (with a locked aspect, a new range, new labels)
        # then holds for every frame, so that the map stands still while the paths grow.
        for _ in range(3):
            self._grab()
        if self.loss is not None:
            self.loss.plot_widget().getPlotItem().getViewBox().disableAutoRange()

    def frame(self, step: int) -> NDArray[np.uint8]:
        """The picture with every path drawn up to step (a shorter path: whole), (h, w, 3)."""
        self._draw(step)
        return self._grab()

    def close(self) -> None:
        """Drop the widgets."""
        self._widget.close()
        self._widget.deleteLater()

    def _draw(self, step: int) -> None:
        scene = self.scene
        for path_id, path in enumerate(scene.paths):
            rows = min(step, path.steps) + 1
            done = rows == len(path.xy)
            color = self.colors[path_id]
            self.contour.set_path(path_id, path.xy[:rows], color, current=rows - 1,
                                  diverged=path.diverged if done else "")
            if self.loss is not None:
                self.loss.set_path(path_id, path.f[:rows], color)
            beside = self._beside.get(path_id)
            if beside is not None and self.loss is not None and path.beside is not None:
                beside.setData(np.arange(rows, dtype=np.float64),
                               self.loss.display_values(path.beside[:rows]), connect="finite")
        caption = f"{scene.caption}  ·  " if scene.caption else ""
        self.contour.set_hover_text(f"{caption}step {step} of {scene.steps}")
        self.contour.flush()
        if self.loss is not None:
            self.loss.flush()
        if self.pane is not None:
            self.pane.draw(step)

    def _name_curves(self) -> None:
        """The loss legend names each path by its label (the window names runs by number)."""
        if self.loss is None:
            return
        for path_id, path in enumerate(self.scene.paths):
            if not path.label or self.loss.is_crowded():
                continue
            curve = self.loss.curve(path_id)
            legend = self.loss.plot_widget().getPlotItem().legend
            for sample, label in legend.items:
                if sample.item is curve:
                    label.setText(path.label)
        self.loss.plot_widget().getPlotItem().legend.updateSize()

    def _grab(self) -> NDArray[np.uint8]:
        width, height = self.size
        # Lay out what the frame's drawing asked for before painting it, whatever the event
        # loop did since: an axis whose labels changed width reflows the map, and its locked
        # aspect then its range. Left to the loop, a frame showed the old range or the new one
        # by timing (the window's export runs between events, the command line's does not).
        # A pass may ask for another (the new range's labels).
        for _ in range(3):
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        image = QImage(width, height, QImage.Format.Format_RGB888)
        image.fill(Qt.GlobalColor.black)
        self._widget.render(image)
        # Rows of a QImage are padded to 4 bytes: read them with their stride, then cut.
        stride = image.bytesPerLine()
        buffer = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height)
        rows = buffer.reshape(height, stride)[:, : width * 3]
        return rows.reshape(height, width, 3).copy()


def dotted_curve(color: RGB, name: str) -> pg.PlotDataItem:
    """A dotted loss-plot curve in a path's colour, behind the paths' own (named in the legend
    when name is given)."""
    curve = pg.PlotDataItem(pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DotLine),
                            name=name or None)
    curve.setZValue(-1)
    return curve


def model_grid(landscape: ModelLandscape) -> LandscapeGrid:
    """A model's loss on the grid the window samples it on (coarser for big data sets)."""
    return landscape.grid(grid_size(len(landscape.data.x), landscape.from_sums))


def ensure_application() -> QApplication:
    """The running QApplication, or a new one: off screen unless a Qt platform is chosen."""
    app = QApplication.instance()
    if app is None:
        # Without a display the command line still draws: Qt's offscreen platform needs none.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["gdx"])
        _quiet_platform_notes()
    assert isinstance(app, QApplication)
    return app


def render_animation(scene: AnimationScene, settings: AnimationSettings,
                     path: str | os.PathLike[str],
                     progress: Callable[[int, int], None] | None = None) -> int:
    """Write the scene's animation to path (GIF or MP4, atomically); the number of frames.

    progress(done, total) is called after each frame. The last frame is drawn first: its
    colours are the GIF's palette.
    """
    ensure_application()
    settings.check_budget(scene.steps)
    renderer = FrameRenderer(scene, settings.width, settings.height)
    try:
        steps = frame_steps(scene.steps, settings.every)
        with AnimationWriter(path, settings.fps,
                             palette_frame=renderer.frame(int(steps[-1]))) as writer:
            for index, step in enumerate(steps):
                writer.add(renderer.frame(int(step)))
                if progress is not None:
                    progress(index + 1, len(steps))
        return len(steps)
    finally:
        renderer.close()


def save_scene_svg(scene: AnimationScene, path: str | os.PathLike[str], width: int,
                   height: int) -> None:
    """The contour map with the whole paths, as the last frame shows it, written as SVG
    (pyqtgraph's exporter, as File > Export figure… writes it; ExportError when it cannot)."""
    from explorer.gui.figures import save_figure

    ensure_application()
    # The SVG holds the map alone: the data pane (which evaluates the model) is left out.
    renderer = FrameRenderer(replace(scene, data=None), width, height)
    try:
        # Painted once first: the views settle their ranges and transforms as they paint, and
        # the exporter reads those.
        renderer.frame(scene.steps)
        save_figure(renderer.contour.plot_widget(), path)
    finally:
        renderer.close()


# What headless platforms say about any widget: true, and nothing the command's user can act on.
_PLATFORM_NOTES = ("This plugin does not support",)


def _quiet_platform_notes() -> None:
    """Drop Qt's platform notes from the command's stderr; pass every other message on."""
    previous: Callable[..., object] | None = None

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if message.startswith(_PLATFORM_NOTES):
            return
        if previous is not None:
            previous(kind, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)
