"""Sessions in the window: save, open (same picture, same numbers), import, recent, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.trajectory import RunSettings, Status
from explorer.gui.main_window import TITLE, MainWindow
from explorer.io.session import load_session
from explorer.io.trajectory_csv import write_trajectories
from tests.gui.helpers import wait_idle

WAVY = "sin(3*x)*cos(2*y) + 0.1*(x**2 + y**2)"


def _paths(window: MainWindow) -> list[np.ndarray]:
    return [t.trajectory().x.copy() for t in window.session.trajectories()]


def _run_two_batches(qtbot: QtBot, window: MainWindow) -> None:
    window.function.set_function(WAVY, (-2.0, 2.0, -2.0, 2.0))
    assert window.function.apply()
    sgd = RunSettings.create({"momentum": 0.5}, optimizer="sgd", lr=0.02, steps=60)
    adam = RunSettings(optimizer="adam", lr=0.05, steps=40, noise=0.2, seed=5)
    window.runner.start_runs([(0.5, -1.0), (1.5, 1.2)], sgd)
    window.runner.start_runs([(-1.0, 0.3)], adam)
    wait_idle(qtbot, window)


def test_save_then_open_restores_the_picture_and_the_numbers(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    _run_two_batches(qtbot, window)
    window.controls.set_lr(0.0123)
    before = _paths(window)
    path = tmp_path / "lesson.json"
    assert window.sessions.save_to(path)
    assert window.windowTitle() == f"lesson.json[*] — {TITLE}"
    saved = load_session(path)
    assert [len(run.starts) for run in saved.runs] == [2, 1]
    assert saved.controls.lr == 0.0123 and saved.runs[1].settings.noise == 0.2
    # The saved paths are the engine's numbers, batch by batch.
    direct = run_descent(parse(WAVY).evaluate, [(0.5, -1.0), (1.5, 1.2)], saved.runs[0].settings)
    np.testing.assert_array_equal(direct.trajectory(1).x, before[1])

    window.function.set_function("x**2 + y**2", (-1.0, 1.0, -1.0, 1.0))
    assert window.function.apply()
    window.controls.set_lr(0.5)
    assert window.session.trajectories() == []
    assert window.sessions.open_from(path)
    assert window.function.text() == WAVY
    assert window.controls.lr() == 0.0123
    after = _paths(window)
    assert len(after) == 3
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_session_without_paths_runs_them_again_bit_for_bit(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    _run_two_batches(qtbot, window)
    before = _paths(window)
    window.sessions.include_paths.setChecked(False)
    path = tmp_path / "starts-only.json"
    assert window.sessions.save_to(path)
    assert "trajectories" not in path.read_text()
    window.function.set_function("x**2", (-1.0, 1.0, -1.0, 1.0))
    assert window.function.apply()
    assert window.sessions.open_from(path)
    wait_idle(qtbot, window)
    after = _paths(window)
    assert len(after) == 3
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_session_files_change_nothing(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    window.runner.start_runs([(0.0, 0.0)])
    wait_idle(qtbot, window)
    text = window.function.text()
    bad_files = {
        "binary.json": bytes(range(256)),
        "not-json.json": b"{ this is not json",
        "version.json": json.dumps({"format": "gradient-descent-explorer-session",
                                    "version": 42}).encode(),
        "field.json": json.dumps({"format": "gradient-descent-explorer-session", "version": 1,
                                  "function": "x**2", "domain": [1, 0, 0, 1]}).encode(),
    }
    for name, content in bad_files.items():
        path = tmp_path / name
        path.write_bytes(content)
        assert not window.sessions.open_from(path)
        box = window.error_box()
        assert box is not None and name in box.text()
        box.close()
        assert window.function.text() == text and len(window.session.trajectories()) == 1
    assert window.sessions.path is None and window.windowTitle() == f"{TITLE}[*]"


def test_import_overlays_read_only_trajectories(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    run = run_descent(parse(window.function.text()).evaluate, [(1.0, 1.0), (-2.0, 2.0)],
                      RunSettings(lr=0.01, steps=30))
    path = tmp_path / "theirs.csv"
    write_trajectories(path, run.trajectories())
    assert window.sessions.import_from(path) == 2
    shown = window.session.trajectories()
    assert [s.imported for s in shown] == [True, True]
    np.testing.assert_array_equal(shown[1].trajectory().y, run.trajectory(1).y)
    assert "imported from theirs.csv" in shown[0].optimizer_text()
    assert shown[0].status is Status.MAX_STEPS
    # Imported paths are not part of the session's runs.
    assert window.session.state().runs == ()
    broken = tmp_path / "broken.csv"
    broken.write_text("trajectory,optimizer,lr,step,x,y,f,grad_x\n0,sgd,0.1,0,1,2,3,4\n")
    assert window.sessions.import_from(broken) == 0
    box = window.error_box()
    assert box is not None and "grad_y" in box.text() and "broken.csv" in box.text()
    assert len(window.session.trajectories()) == 2


def test_recent_files_and_the_unsaved_changes_question(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    assert window.sessions.save_to(first) and window.sessions.save_to(second)
    assert window.sessions.recent()[:2] == [str(second.resolve()), str(first.resolve())]
    assert not window.sessions.is_modified()
    window.controls.set_lr(0.42)
    assert window.sessions.is_modified()
    asked: list[bool] = []

    def cancel() -> QMessageBox.StandardButton:
        asked.append(True)
        return QMessageBox.StandardButton.Cancel

    window.sessions.ask_save = cancel
    window.close()
    assert asked and window.isVisible()  # cancelled: the window stays open

    def save() -> QMessageBox.StandardButton:
        return QMessageBox.StandardButton.Save

    window.sessions.ask_save = save
    window.close()
    assert not window.isVisible()
    assert load_session(second).controls.lr == 0.42


def test_the_race_entries_are_saved_and_restored(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    from explorer.core.race import RaceEntry
    from explorer.gui.tools.lab_tools import LabTools

    entries = [RaceEntry("sgd", 0.01), RaceEntry("adam", 0.2, (("amsgrad", True),)),
               RaceEntry("rmsprop", 0.003)]
    tools = window.findChild(LabTools)
    tools.show_race().set_entries(entries)
    window.controls.set_limits(77, 1e-9, False)
    path = tmp_path / "race.json"
    assert window.sessions.save_to(path)
    saved = load_session(path).race
    assert [(s.optimizer, s.lr, s.params, s.steps) for s in saved] == [
        ("sgd", 0.01, (), 77), ("adam", 0.2, (("amsgrad", True),), 77), ("rmsprop", 0.003, (), 77)]

    tools.show_race().set_entries([RaceEntry("nadam", 0.5)])
    assert window.sessions.open_from(path)
    assert tools.show_race().entries() == entries
    assert "race of 3 optimisers" in window.statusBar().currentMessage()
