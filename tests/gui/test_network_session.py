"""Sessions keep the window's neural network (issue 17): saved in network mode, opened in a
fresh window it fills the panel and the controls and trains again to the same numbers bit for
bit; a stopped training, one started from a click on the slice, a network still training when
a function session opens, and a session whose data file is gone."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from explorer.gui.engine.network_job import NetworkResult
from explorer.gui.main_window import MainWindow
from explorer.io.dataset_csv import network_datasets
from tests.gui.helpers import wait_idle

pytestmark = pytest.mark.window(surface=False)

XOR = network_datasets()["xor"]


def _setup(window: MainWindow, *, steps: str = "120", data: str = "xor") -> None:
    """A 2-8-4-1 gelu mse net on xor, momentum SGD, a 9 x 9 filter slice, seed 3."""
    panel = window.network_mode.panel
    panel.choose(activation="gelu", loss="mse", data=data)
    panel.set_hidden("8,4")
    panel.set_steps(steps)
    panel.set_sharpness_every(15)
    panel.set_grid(9)
    panel.set_fields(replace(panel.fields(), directions="filter", seed=3))
    window.controls.set_optimizer("sgd")
    window.controls.set_params("sgd", {"momentum": 0.5})
    window.controls.set_lr(0.07)


def _train(window: MainWindow, qtbot: QtBot,
           start: Callable[[], int | None] | None = None) -> NetworkResult:
    mode = window.network_mode
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        token = (start or mode.train)()
        assert token is not None, mode.panel.error_text()
    wait_idle(qtbot, window)
    assert mode.result is not None
    return mode.result


def _open(window: MainWindow, qtbot: QtBot, path: Path) -> NetworkResult:
    mode = window.network_mode
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        assert window.sessions.open_from(path)
    wait_idle(qtbot, window)
    assert mode.result is not None
    return mode.result


def _assert_same_numbers(a: NetworkResult, b: NetworkResult) -> None:
    for name in ("path", "loss", "sharpness"):
        assert getattr(a.run, name).tobytes() == getattr(b.run, name).tobytes(), name
    for name in ("losses", "alphas", "betas", "path_ab", "path_loss"):
        assert getattr(a.view, name).tobytes() == getattr(b.view, name).tobytes(), name


def test_a_saved_network_opens_in_a_fresh_window_with_the_same_numbers(
        window: MainWindow, window_opener: Callable[[], MainWindow], qtbot: QtBot,
        tmp_path: Path) -> None:
    _setup(window)
    before = _train(window, qtbot)
    window.controls.set_lr(0.5)  # after training: the session keeps both
    path = tmp_path / "net.json"
    assert window.sessions.save_to(path)
    block = json.loads(path.read_text())["network"]
    assert block["data"] == "xor" and block["hidden"] == [8, 4] and block["lr"] == 0.07
    assert block["params"] == {"momentum": 0.5} and block["sharpness_every"] == 15
    assert (block["directions"], block["grid"], block["seed"], block["steps"]) == (
        "filter", 9, 3, 120)
    assert "start" not in block

    fresh = window_opener()
    assert fresh.network_mode.panel.fields() != window.network_mode.panel.fields()
    mode = fresh.network_mode
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        assert fresh.sessions.open_from(path)
        # While it trains again the map still shows the session's function: the status bar
        # says what is coming.
        assert mode.running
        message = fresh.statusBar().currentMessage()
        assert message == (f"Opened {path}; its network (2-8-4-1 gelu, mse, 120 steps) trains "
                           "again, and its slice replaces the map when done…")
    wait_idle(qtbot, fresh)
    after = mode.result
    assert after is not None
    assert "steps, done" in fresh.statusBar().currentMessage()  # replaced once shown
    assert fresh.network_mode.active
    assert fresh.network_mode.panel.fields() == window.network_mode.panel.fields()
    assert fresh.controls.run_settings() == window.controls.run_settings()  # lr 0.5 again
    assert after.request.settings == before.request.settings  # it trained with lr 0.07
    assert after.run.loss[-1] == before.run.loss[-1] and after.run.status == "done"
    _assert_same_numbers(before, after)
    # Trained again, the window is the file: nothing to save.
    assert not fresh.sessions.is_modified()


def test_a_stopped_training_is_kept_as_the_steps_it_took(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    _setup(window, steps="100000")
    mode = window.network_mode
    assert mode.train() is not None
    mode.panel.pause_button().click()
    qtbot.waitUntil(lambda: mode.job.held_at() is not None, timeout=60_000)
    with qtbot.waitSignal(mode.shown, timeout=60_000):
        mode.panel.stop_button().click()
    wait_idle(qtbot, window)
    stopped = mode.result
    assert stopped is not None and stopped.run.status == "stopped"
    path = tmp_path / "stopped.json"
    assert window.sessions.save_to(path)
    assert json.loads(path.read_text())["network"]["steps"] == stopped.run.steps
    again = _open(window, qtbot, path)
    assert again.run.status == "done" and again.run.steps == stopped.run.steps
    _assert_same_numbers(stopped, again)


def test_training_from_a_click_on_the_slice_keeps_its_start(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    _setup(window, steps="40")
    _train(window, qtbot)
    mode = window.network_mode
    clicked = _train(window, qtbot, lambda: mode.start_at(0.3, -0.2))
    assert clicked.request.start is not None
    path = tmp_path / "clicked.json"
    assert window.sessions.save_to(path)
    start = json.loads(path.read_text())["network"]["start"]
    assert np.array(start).tobytes() == clicked.request.start.tobytes()
    window.function.set_function("x**2 + y**2", (-1.0, 1.0, -1.0, 1.0))
    assert window.function.apply()
    assert not mode.active
    again = _open(window, qtbot, path)
    assert again.request.start is not None
    assert again.request.start.tobytes() == clicked.request.start.tobytes()
    _assert_same_numbers(clicked, again)


def test_a_function_session_drops_a_network_still_training(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "function.json"
    assert window.sessions.save_to(path)
    assert "network" not in json.loads(path.read_text())
    _setup(window, steps="100000")
    mode = window.network_mode
    assert mode.train() is not None
    mode.panel.pause_button().click()
    qtbot.waitUntil(lambda: mode.job.held_at() is not None, timeout=60_000)
    assert window.sessions.open_from(path)
    qtbot.waitUntil(lambda: not mode.running, timeout=30_000)
    wait_idle(qtbot, window)
    assert mode.result is None and not mode.active
    assert mode.panel.train_button().isEnabled()


def test_a_session_whose_data_file_is_gone_changes_nothing(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_bytes(XOR.read_bytes())
    window.network_mode.panel.open_file(str(csv))
    _setup(window, steps="30", data="mine.csv")
    _train(window, qtbot)
    path = tmp_path / "mine.json"
    assert window.sessions.save_to(path)
    assert json.loads(path.read_text())["network"]["data"] == str(csv.resolve())
    csv.unlink()
    fields = window.network_mode.panel.fields()
    assert not window.sessions.open_from(path)
    box = window.error_box()
    assert box is not None
    assert "field 'network.data'" in box.text() and str(csv) in box.text()
    box.close()
    assert window.network_mode.panel.fields() == fields and window.network_mode.active
