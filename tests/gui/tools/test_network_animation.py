"""The neural-network view's Animation… button (issue 18): on once a trained network's path is on
the slice, it writes what File > Export animation… writes there (the path growing over the slice,
its true loss and, dotted, the slice's loss beside it), by the frame rule."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow
from explorer.gui.tools.animation_dialog import Panes, window_scene
from explorer.gui.tools.animation_export import AnimatedPath, FrameRenderer
from explorer.io.animation import AnimationSettings, frame_count
from tests.gui.test_network_mode import _setup, _train
from tests.gui.tools.test_animation_export import _near, _pixel

pytestmark = pytest.mark.window(surface=False)

SIZE = (320, 240)


def _export(window: MainWindow, qtbot: QtBot, path: Path, every: int,
            ask: object) -> NDArray[np.uint8]:
    """Answer the dialogs with these settings and path, ask (a button click or the menu), wait
    for the file; its frames."""
    export = window.animation
    export.ask_settings = lambda steps: (AnimationSettings(fps=10, every=every, width=SIZE[0],
                                                           height=SIZE[1]), Panes())
    export.ask_path = lambda name: str(path)
    assert callable(ask)
    ask()
    job = export.job
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60_000) as blocker:
        pass
    assert blocker.args == [str(path), frame_count(job.steps[-1], every)]
    frames: NDArray[np.uint8] = iio.imread(path, index=None)
    return frames


def test_the_button_writes_the_network_path_growing_on_its_slice(window: MainWindow,
                                                                 qtbot: QtBot,
                                                                 tmp_path: Path) -> None:
    panel = window.network_mode.panel
    button = panel.animation_button()
    assert not button.isEnabled()  # nothing trained yet
    _setup(window, steps="60", grid=9)
    result = _train(window, qtbot)
    assert button.isEnabled()
    frames = _export(window, qtbot, tmp_path / "net.gif", 20, button.click)
    assert frames.shape == (frame_count(60, 20), SIZE[1], SIZE[0], 3)
    # The scene it drew: the projected path, its true loss, the slice's loss beside it.
    scene = window_scene(window.parts, window.menus.log_scale.isChecked(),
                         beside=window.network_mode.beside)
    assert scene is not None
    (path,) = scene.paths
    np.testing.assert_array_equal(path.xy, result.view.path_ab)
    np.testing.assert_array_equal(path.f, result.view.path_loss)
    assert path.beside is not None
    np.testing.assert_array_equal(path.beside, result.view.path_slice_loss)
    # The last frame shows the path where the first has only its start.
    renderer = FrameRenderer(scene, *SIZE)
    try:
        start, ab = result.view.path_ab[0], result.view.path_ab
        reach = float(np.max(np.hypot(*(ab - start).T)))
        far = [p for p in ab if np.hypot(*(p - start)) > 0.4 * reach]
        assert far
        for x, y in far[:: max(len(far) // 4, 1)]:
            row, col = _pixel(renderer, float(x), float(y))
            assert (_near(frames[0], row, col) != _near(frames[-1], row, col)).any()
    finally:
        renderer.close()


def test_the_button_and_the_file_menu_write_the_same_animation(window: MainWindow,
                                                               qtbot: QtBot,
                                                               tmp_path: Path) -> None:
    _setup(window, steps="30", grid=7)
    _train(window, qtbot)
    by_button = _export(window, qtbot, tmp_path / "button.gif", 10,
                        window.network_mode.panel.animation_button().click)
    by_menu = _export(window, qtbot, tmp_path / "menu.gif", 10, window.animation.action.trigger)
    assert by_button.shape == (frame_count(30, 10), SIZE[1], SIZE[0], 3)
    np.testing.assert_array_equal(by_button, by_menu)


def test_the_button_is_off_without_a_network_path(window: MainWindow, qtbot: QtBot) -> None:
    button = window.network_mode.panel.animation_button()
    _setup(window, steps="20", grid=5)
    _train(window, qtbot)
    assert button.isEnabled()
    window.runner.clear()  # the path removed: nothing to animate
    assert not button.isEnabled()
    _train(window, qtbot)
    assert button.isEnabled()
    assert window.function.choose_preset("himmelblau")  # a function takes the map back
    qtbot.waitUntil(lambda: not window.network_mode.active, timeout=30_000)
    assert not button.isEnabled()


@given(st.integers(0, 40), st.integers(0, 40))
def test_values_beside_a_path_must_match_its_rows(rows: int, values: int) -> None:
    xy = np.zeros((rows, 2))
    if rows == values:
        assert AnimatedPath(xy, np.zeros(rows), beside=np.zeros(values)).beside is not None
    else:
        with pytest.raises(ValueError, match="beside"):
            AnimatedPath(xy, np.zeros(rows), beside=np.zeros(values))
