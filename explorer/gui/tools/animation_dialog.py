"""File > Export animation…: the paths on screen as a GIF or MP4, with a progress bar and Cancel.

Frames are drawn on the GUI thread a few at a time between events (the views are widgets), and
encoded on a worker thread; Cancel stops both and leaves no file behind. A mode with a button of
its own for it and curves of its own beside its paths (the neural network: the slice's loss on
its path) attaches itself (AnimationSource), so its button and the File menu write one animation;
a mode with data (a model's, a network's) gives the data pane drawn beside the map (add_data).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QMenu,
    QProgressDialog,
    QSpinBox,
    QWidget,
)

from explorer.core.trajectory import Status
from explorer.gui.menus import add_export, make_action
from explorer.gui.model.shown import run_label
from explorer.gui.parts import Parts
from explorer.gui.settings import text_value
from explorer.gui.tools.animation_export import AnimatedPath, AnimationScene, FrameRenderer
from explorer.gui.tools.animation_panes import DataPane
from explorer.io.animation import (
    MAX_FPS,
    MAX_SIZE,
    MIN_SIZE,
    AnimationSettings,
    AnimationWriter,
    frame_count,
    frame_steps,
)
from explorer.io.atomic import ExportError

__all__ = ["AnimationDialog", "AnimationExport", "AnimationJob", "AnimationSource", "Beside",
           "DataOf", "Panes", "window_scene"]

# Drawing frames stops for the event loop after this long: the window answers while it works.
_SLICE_S = 0.04
# Frames drawn ahead of the encoder at most (each a few MB at large sizes).
_QUEUE_FRAMES = 8
_MAX_STEPS_PER_FRAME = 1_000_000
_FINISH = object()  # put on the queue after the last frame

# What a path has beside its values: other values at each of its rows and their legend name.
Beside = Callable[[int], tuple[NDArray[np.float64], str] | None]
# The data pane for the scene's paths (their path ids, in the scene's order), None: none.
DataOf = Callable[[Sequence[int]], DataPane | None]


@dataclass(frozen=True)
class Panes:
    """The panes beside the map the user asked for."""

    loss: bool = True
    data: bool = True


def window_scene(parts: Parts, log: bool, loss: bool = True,
                 beside: Beside | None = None, *,
                 only: Collection[int] | None = None,
                 data: DataOf | None = None) -> AnimationScene | None:
    """The paths on screen now (only: those of these path ids), whole (every row computed),
    over the map, each with what beside(path id) gives dotted beside its loss, and the data
    pane data(path ids) gives; None without any."""
    document = parts.document
    grid = document.grid
    names = document.axis_names
    paths, ids = [], []
    for path_id, shown in sorted(parts.runner.store.paths.items()):
        rows = shown.received
        if rows == 0 or (only is not None and path_id not in only):
            continue
        ids.append(path_id)
        diverged = ""
        if shown.status == Status.DIVERGED:
            text = shown.final_trajectory_status_text(names)
            diverged = text if text.startswith("diverged") else ""
        other = beside(path_id) if beside is not None else None
        if other is not None and len(other[0]) != rows:
            other = None  # not this path's (yet): drawn without it
        # Copies: the runs go on changing while the animation is made.
        paths.append(AnimatedPath(np.array(shown.xy[:rows]), np.array(shown.f[:rows]),
                                  shown.color, run_label(path_id), diverged,
                                  None if other is None else np.array(other[0], np.float64),
                                  "" if other is None else other[1]))
    if grid is None or not paths:
        return None
    return AnimationScene(grid, paths, names=names, log=log, loss=loss,
                          data=data(ids) if data is not None else None)


class AnimationJob(QObject):
    """One export: frames drawn in slices on the GUI thread, encoded on a thread of its own."""

    finished = Signal(str, int)  # the path, the frames written
    failed = Signal(str)  # why, in one line
    cancelled = Signal()

    def __init__(self, scene: AnimationScene, settings: AnimationSettings,
                 path: str | os.PathLike[str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        settings.check_budget(scene.steps)  # ExportError before anything is drawn
        self.path = str(path)
        self.steps = frame_steps(scene.steps, settings.every)
        self._renderer = FrameRenderer(scene, settings.width, settings.height)
        # The last frame first: it shows the most, so its colours make the GIF's palette. The
        # writer checks the path now (ExportError) and writes only at the end.
        self._writer = AnimationWriter(self.path, settings.fps,
                                       palette_frame=self._renderer.frame(int(self.steps[-1])))
        self._frames: queue.Queue[NDArray[np.uint8] | object] = queue.Queue(_QUEUE_FRAMES)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode, name="animation encoder")
        self._next = 0  # the next frame to draw
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._on_timeout)
        self.done = False

    @property
    def total(self) -> int:
        """Frames the animation has."""
        return len(self.steps)

    @property
    def drawn(self) -> int:
        """Frames drawn so far."""
        return self._next

    def start(self) -> None:
        """Begin drawing and encoding; the outcome is one of the three signals."""
        self._thread.start()
        self._timer.start()

    def cancel(self) -> None:
        """Stop now; nothing is written (a file that was there stays as it was)."""
        if self.done:
            return
        self._stop.set()
        self._end()
        self.cancelled.emit()

    def _on_timeout(self) -> None:
        if self.done:
            return
        if self._error is not None:
            self._stop.set()
            self._end()
            self.failed.emit(str(self._error))
            return
        if self._next == self.total:
            # Every frame is queued: wait for the encoder to write the file.
            if not self._thread.is_alive():
                self._end()
                self.finished.emit(self.path, self.total)
            return
        began = time.monotonic()
        while self._next < self.total and time.monotonic() - began < _SLICE_S:
            if self._frames.full():
                break  # the encoder is behind: let it catch up, keep the window answering
            self._frames.put(self._renderer.frame(int(self.steps[self._next])))
            self._next += 1
        if self._next == self.total:
            self._frames.put(_FINISH)

    def _encode(self) -> None:
        """The encoder thread: frames off the queue into the writer until _FINISH or a stop."""
        try:
            with self._writer as writer:
                while True:
                    item = self._next_item()
                    if item is None:
                        raise _Stopped
                    if item is _FINISH:
                        break
                    assert isinstance(item, np.ndarray)
                    writer.add(item)
        except _Stopped:
            pass
        except (ExportError, ValueError) as error:
            self._error = error

    def _next_item(self) -> NDArray[np.uint8] | object | None:
        """The next frame or _FINISH; None once the job is stopped."""
        while not self._stop.is_set():
            try:
                return self._frames.get(timeout=0.05)
            except queue.Empty:
                continue
        return None

    def _end(self) -> None:
        self.done = True
        self._timer.stop()
        if self._thread.is_alive():
            self._thread.join()
        self._renderer.close()


class _Stopped(Exception):
    """Cancel: the writer drops what it has."""


class AnimationDialog(QDialog):
    """Size, frame rate, steps per frame, the loss plot and (where there is one) the data view;
    says how many frames that makes."""

    def __init__(self, steps: int, parent: QWidget | None = None,
                 initial: AnimationSettings | None = None, *, data: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export animation")
        self._steps = steps
        initial = initial or AnimationSettings()
        self.width_box = _spin(MIN_SIZE[0], MAX_SIZE[0], initial.width, " px")
        self.height_box = _spin(MIN_SIZE[1], MAX_SIZE[1], initial.height, " px")
        self.fps_box = _spin(1, MAX_FPS, initial.fps, " frames/s")
        self.every_box = _spin(1, _MAX_STEPS_PER_FRAME, initial.every, " steps")
        self.loss_box = QCheckBox("The loss plot beside the map")
        self.loss_box.setChecked(True)
        self.data_box = QCheckBox("Data view: the data at each frame's parameters")
        self.data_box.setChecked(True)
        self.data_box.setVisible(data)  # shown only where the scene has data
        self._summary = QLabel()
        form = QFormLayout(self)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("Frame rate", self.fps_box)
        form.addRow("A frame every", self.every_box)
        form.addRow(self.loss_box)
        form.addRow(self.data_box)
        form.addRow(self._summary)
        form.addRow(QLabel("GIF or MP4: chosen by the file name's extension next."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        for box in (self.fps_box, self.every_box):
            box.valueChanged.connect(self._on_value_changed)
        self._on_value_changed()

    def settings(self) -> AnimationSettings:
        """The settings chosen."""
        return AnimationSettings(fps=self.fps_box.value(), every=self.every_box.value(),
                                 width=self.width_box.value(), height=self.height_box.value())

    def panes(self) -> Panes:
        """The panes chosen beside the map (the data view only where it was offered)."""
        return Panes(self.loss_box.isChecked(),
                     self.data_box.isChecked() and not self.data_box.isHidden())

    def summary(self) -> str:
        """What the settings make: frames and seconds."""
        return self._summary.text()

    def _on_value_changed(self) -> None:
        frames = frame_count(self._steps, self.every_box.value())
        seconds = frames / self.fps_box.value()
        self._summary.setText(f"{self._steps} steps: {frames} frames, {seconds:.3g} s")


def _spin(low: int, high: int, value: int, suffix: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


class AnimationSource(Protocol):
    """A mode with its own way to ask for the export and curves of its own beside its paths."""

    def attach_animation(self, export: AnimationExport) -> None:
        """Wire the mode's button to export.ask_export and give export.add_beside its curves."""


class AnimationExport(QObject):
    """File > Export animation…: asks how and where, then runs one AnimationJob at a time."""

    def __init__(self, parts: Parts, settings: QSettings, file_menu: QMenu,
                 log: Callable[[], bool], *sources: AnimationSource) -> None:
        super().__init__(parts.host)
        self._parts = parts
        self._settings = settings
        self._log = log
        self._beside: list[Beside] = []
        self._data: list[DataOf] = []
        self.job: AnimationJob | None = None
        self._progress: QProgressDialog | None = None
        self._last = AnimationSettings()
        self.action = make_action(parts.host, "Export &animation…", None, self.ask_export,
                                  "Write the paths growing step by step as a GIF or MP4")
        add_export(file_menu, self.action)
        # Closing the window stops an export under way (its thread must not outlive it).
        parts.host.installEventFilter(self)
        # Tests answer the dialogs: the steps -> (settings, panes) or None; the name -> a path.
        self.ask_settings: Callable[[int], tuple[AnimationSettings, Panes] | None] = (
            self._ask_settings)
        self._offer_data = False  # the dialog offers the data view (the scene has data)
        self.ask_path: Callable[[str], str] = self._ask_path
        for source in sources:
            source.attach_animation(self)

    def add_beside(self, beside: Beside) -> None:
        """Draw what beside(path id) gives (values at each row, a name) dotted beside that
        path's loss, where it gives anything (the first that does, of those added)."""
        self._beside.append(beside)

    def add_data(self, data: DataOf) -> None:
        """Draw the data pane data(path ids) gives beside the map, where it gives one (the
        first that does, of those added)."""
        self._data.append(data)

    def _beside_of(self, path_id: int) -> tuple[NDArray[np.float64], str] | None:
        return next((found for found in (beside(path_id) for beside in self._beside)
                     if found is not None), None)

    def _data_of(self, path_ids: Sequence[int]) -> DataPane | None:
        return next((found for found in (data(path_ids) for data in self._data)
                     if found is not None), None)

    def ask_export(self, *, paths: Collection[int] | None = None) -> None:
        """Ask the settings and the file, then export the paths on screen (paths: those of
        these path ids, as the race's Animation… asks)."""
        scene = window_scene(self._parts, self._log(), beside=self._beside_of, only=paths,
                             data=self._data_of)
        if scene is None:
            self._parts.notifier.status("Nothing to animate yet: start a descent first.", 5000)
            return
        if self.job is not None and not self.job.done:
            self._parts.notifier.status("An animation is being written already.", 5000)
            return
        self._offer_data = scene.data is not None
        answer = self.ask_settings(scene.steps)
        if answer is None:
            return
        settings, panes = answer
        path = self.ask_path("animation.gif")
        if path:
            self.export_to(path, settings, loss=panes.loss, data=panes.data, paths=paths)

    def export_to(self, path: str, settings: AnimationSettings, *, loss: bool = True,
                  data: bool = True,
                  paths: Collection[int] | None = None) -> AnimationJob | None:
        """Start writing the paths on screen (paths: those of these path ids) to path, with
        the loss plot and the data view where asked (and there is data); None (with a
        message) when it cannot."""
        scene = window_scene(self._parts, self._log(), loss, self._beside_of, only=paths,
                             data=self._data_of if data else None)
        if scene is None:
            self._parts.notifier.status("Nothing to animate yet: start a descent first.", 5000)
            return None
        try:
            job = AnimationJob(scene, settings, path, self)
        except ExportError as error:
            self._parts.notifier.error("Export animation", f"{error}\n\nNothing was written.")
            return None
        self._last = settings
        self.job = job
        progress = QProgressDialog(f"Writing {Path(path).name}…", "Cancel", 0, job.total,
                                   self._parts.host)
        progress.setWindowTitle("Export animation")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.canceled.connect(job.cancel)
        self._progress = progress
        tick = QTimer(progress)
        tick.setInterval(100)
        tick.timeout.connect(lambda: progress.setValue(job.drawn))
        tick.start()
        job.finished.connect(self._on_job_finished)
        job.failed.connect(self._on_job_failed)
        job.cancelled.connect(self._on_job_cancelled)
        job.start()
        return job

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt's name
        """The window is closing: cancel the export under way."""
        if (event.type() == QEvent.Type.Close and watched is self._parts.host
                and self.job is not None and not self.job.done):
            self.job.cancel()
        return super().eventFilter(watched, event)

    def progress_dialog(self) -> QProgressDialog | None:
        """The progress dialog of the export under way (for tests)."""
        return self._progress

    def _on_job_finished(self, path: str, frames: int) -> None:
        self._close_progress()
        self._parts.notifier.status(f"Wrote {frames} frames to {path}", 10000)

    def _on_job_failed(self, why: str) -> None:
        self._close_progress()
        self._parts.notifier.error("Export animation failed", f"{why}\n\nNothing was written.")

    def _on_job_cancelled(self) -> None:
        self._close_progress()
        self._parts.notifier.status("Animation cancelled: nothing was written.", 5000)

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.canceled.disconnect()
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None

    def _ask_settings(self, steps: int) -> tuple[AnimationSettings, Panes] | None:
        dialog = AnimationDialog(steps, self._parts.host, self._last, data=self._offer_data)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.settings(), dialog.panes()

    def _ask_path(self, name: str) -> str:
        folder = Path(text_value(self._settings.value("export/folder"), str(Path.home())))
        path, chosen = QFileDialog.getSaveFileName(
            self._parts.host, "Export animation", str(folder / name),
            "GIF animation (*.gif);;MP4 video (*.mp4)")
        if path and not Path(path).suffix:  # the filter says which (dialogs may not add it)
            path += ".mp4" if "mp4" in chosen else ".gif"
        if path:
            self._settings.setValue("export/folder", str(Path(path).parent))
        return path
