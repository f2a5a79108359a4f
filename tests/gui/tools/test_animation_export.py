"""Animations drawn by the window's own views: the renderer, File > Export animation…, Cancel."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from explorer.core.expression import parse
from explorer.core.landscape import sample_landscape
from explorer.core.presets import get_preset
from explorer.core.trajectory import RunSettings
from explorer.gui.main_window import MainWindow
from explorer.gui.tools.animation_dialog import AnimationDialog, Panes
from explorer.gui.tools.animation_export import (
    AnimatedPath,
    AnimationScene,
    FrameRenderer,
    render_animation,
)
from explorer.io.animation import AnimationSettings, frame_count
from tests.gui.helpers import wait_idle

HIMMELBLAU = get_preset("himmelblau")


def _scene(steps: int, paths: int = 2, loss: bool = True) -> AnimationScene:
    """Straight paths across Himmelblau's domain, each one step a row (f from the formula)."""
    expression = parse(HIMMELBLAU.formula)
    grid = sample_landscape(expression, HIMMELBLAU.domain, 96)
    out = []
    for i in range(paths):
        t = np.linspace(0.0, 1.0, steps + 1 - 3 * i)  # paths of different lengths
        xy = np.column_stack((-4.0 + 8.0 * t, -4.0 + (6.0 + i) * t))
        f = expression.evaluate_numpy(xy[:, 0], xy[:, 1])
        out.append(AnimatedPath(xy, np.asarray(f, dtype=np.float64), label=f"path {i}"))
    return AnimationScene(grid, out, loss=loss)


def _pixel(renderer: FrameRenderer, x: float, y: float) -> tuple[int, int]:
    """Where data point (x, y) lands in a frame: (row, column)."""
    plot = renderer.contour.plot_widget()
    box = plot.getPlotItem().getViewBox()
    point = renderer.contour.mapTo(renderer.contour.window(),
                                   plot.mapFromScene(box.mapViewToScene(QPointF(x, y))))
    return point.y(), point.x()


def _near(frame: NDArray[np.uint8], row: int, col: int, radius: int = 4) -> NDArray[np.uint8]:
    return frame[row - radius: row + radius + 1, col - radius: col + radius + 1]


@pytest.mark.parametrize(("steps", "every"), [(12, 1), (20, 5), (23, 5), (7, 10)])
def test_frames_follow_the_rule_and_read_back(qapp: object, tmp_path: Path, steps: int,
                                              every: int) -> None:
    path = tmp_path / "a.gif"
    scene = _scene(steps)
    seen: list[tuple[int, int]] = []
    count = render_animation(scene, AnimationSettings(fps=10, every=every, width=320,
                                                      height=200), path,
                             lambda done, total: seen.append((done, total)))
    frames = iio.imread(path, index=None)
    assert count == frame_count(steps, every) == len(frames)
    assert frames.shape[1:] == (200, 320, 3)
    assert seen == [(k, count) for k in range(1, count + 1)]


def test_the_first_frame_shows_the_start_and_the_last_the_whole_path(qapp: object) -> None:
    scene = _scene(30, paths=1, loss=False)
    renderer = FrameRenderer(scene, 400, 400)
    try:
        end = scene.paths[0].xy[-1]
        middle = scene.paths[0].xy[15]
        first = renderer.frame(0)
        at_first = _pixel(renderer, -4.0, -4.0)
        last = renderer.frame(30)
        # The map stands still: the layout settled before the first frame (an axis that sized
        # itself to its labels only as frames were painted moved the map between them).
        assert _pixel(renderer, -4.0, -4.0) == at_first
        for x, y in (end, middle):
            row, col = _pixel(renderer, float(x), float(y))
            # Where the path ends and passes, the last frame has it and the first has not.
            assert (_near(first, row, col) != _near(last, row, col)).any()
        # Frame 0 marks the start: it differs there from the map with no path at all.
        row, col = _pixel(renderer, -4.0, -4.0)
        bare = FrameRenderer(AnimationScene(scene.grid, [AnimatedPath(
            np.array([[99.0, 99.0]]), np.array([0.0]))], loss=False), 400, 400)
        try:
            assert (_near(first, row, col) != _near(bare.frame(0), row, col)).any()
        finally:
            bare.close()
        assert (renderer.frame(30) == last).all()  # drawing again draws the same
    finally:
        renderer.close()


def test_an_mp4_is_written_by_the_renderer(qapp: object, tmp_path: Path) -> None:
    from tests.io.test_animation import _read_mp4

    path = tmp_path / "a.mp4"
    count = render_animation(_scene(9), AnimationSettings(fps=12, width=161, height=121), path)
    frames, meta = _read_mp4(path)
    assert len(frames) == count == frame_count(9, 1)
    assert frames.shape[1:3] == (122, 162) and meta["fps"] == 12


def test_500_steps_at_800x600_make_a_gif_under_10_mb(qapp: object, tmp_path: Path) -> None:
    path = tmp_path / "long.gif"
    render_animation(_scene(500, paths=3), AnimationSettings(), path)
    assert path.stat().st_size < 10 * 1024 * 1024
    assert len(iio.imread(path, index=None)) == frame_count(500, 1)


# -- the window ----------------------------------------------------------------------------------


def _folder(tmp_path: Path) -> Path:
    """A folder of its own for the files written (the window's settings file is in tmp_path)."""
    out = tmp_path / "out"
    out.mkdir()
    return out


@pytest.fixture
def window_with_runs(window: MainWindow, qtbot: QtBot) -> MainWindow:
    window.runner.start_runs([(0.0, 0.0), (-1.0, -4.0)],
                             RunSettings(lr=0.005, steps=40, tol=0.0))
    wait_idle(qtbot, window)
    return window


def test_file_menu_exports_the_paths_on_screen(window_with_runs: MainWindow, qtbot: QtBot,
                                               tmp_path: Path) -> None:
    window = window_with_runs
    assert window.animation.action in window.menus.file.actions()
    path = tmp_path / "window.gif"
    window.animation.ask_settings = lambda steps: (
        AnimationSettings(fps=10, every=4, width=300, height=200), Panes())
    window.animation.ask_path = lambda name: str(path)
    window.animation.ask_export()
    job = window.animation.job
    assert job is not None and window.animation.progress_dialog() is not None
    with qtbot.waitSignal(job.finished, timeout=60_000) as blocker:
        pass
    assert blocker.args == [str(path), frame_count(40, 4)]
    assert iio.imread(path, index=None).shape == (frame_count(40, 4), 200, 300, 3)
    assert window.animation.progress_dialog() is None
    assert "Wrote 11 frames" in window.statusBar().currentMessage()


def test_cancel_leaves_nothing_behind(window: MainWindow, qtbot: QtBot,
                                      tmp_path: Path) -> None:
    window.runner.start_runs([(0.0, 0.0)], RunSettings(lr=0.0005, steps=400, tol=0.0))
    wait_idle(qtbot, window)
    out = _folder(tmp_path)
    path = out / "cancelled.mp4"
    job = window.animation.export_to(str(path), AnimationSettings(width=200, height=150))
    assert job is not None
    qtbot.waitUntil(lambda: job.drawn >= 3, timeout=30_000)  # it is under way, in slices
    progress = window.animation.progress_dialog()
    assert progress is not None
    button = progress.findChild(QPushButton)
    assert button is not None and button.text() == "Cancel"
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert job.done and job.drawn < job.total
    assert list(out.iterdir()) == []
    assert "nothing was written" in window.statusBar().currentMessage()


def test_closing_the_window_cancels_the_export(window: MainWindow, qtbot: QtBot,
                                               tmp_path: Path) -> None:
    window.runner.start_runs([(0.0, 0.0)], RunSettings(lr=0.0005, steps=400, tol=0.0))
    wait_idle(qtbot, window)
    out = _folder(tmp_path)
    job = window.animation.export_to(str(out / "a.gif"), AnimationSettings(width=200, height=150))
    assert job is not None
    qtbot.waitUntil(lambda: job.drawn >= 1, timeout=30_000)
    with qtbot.waitSignal(job.cancelled, timeout=10_000):
        window.close()
    assert job.done and list(out.iterdir()) == []


def test_refused_paths_write_nothing_and_say_why(window_with_runs: MainWindow,
                                                 tmp_path: Path) -> None:
    window = window_with_runs
    tmp_path = _folder(tmp_path)
    shown: list[tuple[str, str]] = []
    window.notifier.error_requested.disconnect()
    window.notifier.error_requested.connect(lambda title, text: shown.append((title, text)))
    for name in ("a.avi", "missing/a.gif"):
        assert window.animation.export_to(str(tmp_path / name), AnimationSettings()) is None
    assert [text.split(":")[0] for _, text in shown] == [
        f"cannot write {tmp_path / 'a.avi'}", f"cannot write {tmp_path / 'missing' / 'a.gif'}"]
    assert list(tmp_path.iterdir()) == []


def test_without_paths_there_is_nothing_to_export(window: MainWindow, tmp_path: Path) -> None:
    window.animation.ask_settings = lambda steps: pytest.fail("no dialog without paths")
    window.animation.ask_export()
    assert "Nothing to animate" in window.statusBar().currentMessage()


def test_the_dialog_says_what_its_settings_make(qtbot: QtBot) -> None:
    dialog = AnimationDialog(100)
    qtbot.addWidget(dialog)
    dialog.every_box.setValue(10)
    dialog.fps_box.setValue(5)
    assert dialog.summary() == f"100 steps: {frame_count(100, 10)} frames, " \
        f"{frame_count(100, 10) / 5:.3g} s"
    assert dialog.settings() == AnimationSettings(fps=5, every=10)
    dialog.every_box.setValue(0)  # below the range: the box keeps its minimum
    assert dialog.settings().every == 1
