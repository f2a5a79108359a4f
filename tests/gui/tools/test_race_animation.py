"""The race's Animation… button (issue 18): on once a race has computed paths, it writes the
race's paths alone through File > Export animation…, by the frame rule; off without them."""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from explorer.core.race import RaceEntry
from explorer.core.trajectory import RunSettings
from explorer.gui.main_window import MainWindow
from explorer.gui.tools.animation_dialog import Panes, window_scene
from explorer.gui.tools.lab_tools import LabTools
from explorer.gui.tools.race_panel import RacePanel
from explorer.io.animation import AnimationSettings
from tests.gui.helpers import wait_idle

pytestmark = pytest.mark.window(surface=False)

STARTS = [(-1.0, 1.0), (1.0, -3.0)]
RACE_STEPS = 24
OTHER_STEPS = 60  # a path that is not the race's, longer than its paths
SIZE = (240, 180)


def _race(window: MainWindow, qtbot: QtBot) -> RacePanel:
    """A finished race of SGD and Adam from two starts, every path its whole budget long."""
    window.controls.set_limits(RACE_STEPS, 0.0, False)  # tol 0: no path stops early
    panel = window.findChild(LabTools).show_race()
    panel.set_entries([RaceEntry("sgd", 0.001), RaceEntry("adam", 0.05)])
    for x, y in STARTS:
        window.runner.add_pending(x, y)
    with qtbot.waitSignal(panel.leaderboard_ready, timeout=60_000):
        assert panel.start_race()
    return panel


def _other_path(window: MainWindow, qtbot: QtBot) -> None:
    """One more path on screen, from another start and with more steps than the race's."""
    settings = RunSettings(optimizer="sgd", lr=0.001, steps=OTHER_STEPS, tol=0.0)
    with qtbot.waitSignal(window.runner.worker.finished, timeout=30_000):
        window.runner.start_runs([(2.0, 2.0)], settings)
    wait_idle(qtbot, window)


def _answer(window: MainWindow, path: Path, every: int) -> list[int]:
    """Answer the export's dialogs; the steps each settings dialog was shown."""
    asked: list[int] = []

    def settings(steps: int) -> tuple[AnimationSettings, Panes]:
        asked.append(steps)
        return AnimationSettings(fps=10, every=every, width=SIZE[0], height=SIZE[1]), Panes()

    window.animation.ask_settings = settings
    window.animation.ask_path = lambda name: str(path)
    return asked


def _written(window: MainWindow, qtbot: QtBot) -> np.ndarray:
    job = window.animation.job
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    return np.asarray(iio.imread(job.path, index=None))


@pytest.mark.parametrize("every", [5, 8])
def test_the_button_writes_the_races_paths_alone(window: MainWindow, qtbot: QtBot,
                                                 tmp_path: Path, every: int) -> None:
    panel = _race(window, qtbot)
    button = panel.animation_button()
    assert button.isEnabled()
    race_paths = panel.race_paths()
    assert len(race_paths) == 2 * len(STARTS)
    _other_path(window, qtbot)
    assert len(window.runner.store.paths) == len(race_paths) + 1
    asked = _answer(window, tmp_path / "race.gif", every)
    button.click()
    frames = _written(window, qtbot)
    # The race's paths alone: its steps, not the other path's longer ones.
    assert asked == [RACE_STEPS]
    expected = len(range(0, RACE_STEPS, every)) + 1  # the start, every k-th, the last
    assert frames.shape == (expected, SIZE[1], SIZE[0], 3)
    assert not np.array_equal(frames[0], frames[-1])  # the paths grew
    scene = window_scene(window.parts, False, only=race_paths)
    assert scene is not None and len(scene.paths) == len(race_paths)
    raced = {tuple(map(float, p.xy[0])) for p in scene.paths}
    assert raced == set(STARTS)


def test_the_file_menu_still_writes_every_path(window: MainWindow, qtbot: QtBot,
                                               tmp_path: Path) -> None:
    _race(window, qtbot)
    _other_path(window, qtbot)
    asked = _answer(window, tmp_path / "all.gif", 20)
    window.animation.action.trigger()
    frames = _written(window, qtbot)
    assert asked == [OTHER_STEPS]
    assert len(frames) == len(range(0, OTHER_STEPS, 20)) + 1


def test_the_button_is_off_until_a_race_has_paths_and_after_they_go(window: MainWindow,
                                                                     qtbot: QtBot) -> None:
    panel = window.findChild(LabTools).show_race()
    button = panel.animation_button()
    assert not button.isEnabled()  # no race yet
    _race(window, qtbot)
    assert button.isEnabled()
    ids = panel.race_paths()
    window.runner.remove_paths(ids[:1])
    assert button.isEnabled() and panel.race_paths() == ids[1:]  # some are still on screen
    window.runner.remove_paths(ids[1:])
    assert not button.isEnabled() and panel.race_paths() == []
    # A new race: off while it runs, on when its leaderboard is ready.
    for x, y in STARTS:
        window.runner.add_pending(x, y)
    with qtbot.waitSignal(panel.leaderboard_ready, timeout=60_000):
        assert panel.start_race()
        assert not button.isEnabled()
    assert button.isEnabled()
