"""Hostile session files in the window: one message naming the field, nothing changed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from explorer.core.trajectory import RunSettings
from explorer.gui.main_window import MainWindow
from explorer.io.session import Session, SessionRun, session_to_json
from tests.gui.helpers import wait_idle


def _session_data() -> dict[str, Any]:
    settings = RunSettings(optimizer="momentum", lr=0.01, steps=20, noise=0.1, seed=4)
    return session_to_json(Session("x**2 + y**2", (-2.0, 2.0, -2.0, 2.0),
                                   runs=(SessionRun(settings, ((1.0, 1.0),)),)))


def test_hostile_sessions_get_a_message_naming_the_field(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    text = window.function.text()
    seed = _session_data()
    seed["runs"][0]["settings"]["seed"] = 10**30
    momentum = _session_data()
    momentum["runs"][0]["settings"]["params"] = {"momentum": "0.9"}
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    cases = {
        tmp_path / "seed.json": "runs[0].settings.seed",
        tmp_path / "momentum.json": 'expected a number from 0 to 0.999, found the text "0.9"',
        fifo: "pipe (FIFO)",
        Path("/dev/zero"): "it is a device",
    }
    (tmp_path / "seed.json").write_text(json.dumps(seed))
    (tmp_path / "momentum.json").write_text(json.dumps(momentum))
    for path, needle in cases.items():
        assert not window.sessions.open_from(path)
        box = window.error_box()
        assert box is not None and needle in box.text() and str(path) in box.text()
        assert "Traceback" not in box.text()
        box.close()
        assert window.function.text() == text and len(window.session.trajectories()) == 1
