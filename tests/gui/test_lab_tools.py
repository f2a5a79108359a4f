"""The teaching-lab tools in the window: gradient noise, the learning-rate sweep, the race."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from explorer.gui.main_window import SETTINGS_ENV, MainWindow

HAS_GL = os.environ.get("QT_QPA_PLATFORM") == "xcb"
ENGINE_TIMEOUT_MS = 120_000  # the first torch import, on a busy shared machine


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> QSettings:
    """A settings file in tmp_path: the user's real settings are never read or written."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return QSettings(str(path), QSettings.Format.IniFormat)


def _open(qtbot: object, settings: QSettings) -> MainWindow:
    window = MainWindow(settings, with_surface=False)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    qtbot.waitExposed(window)  # type: ignore[attr-defined]
    window.start_engine()
    qtbot.waitUntil(lambda: window.landscape() is not None,  # type: ignore[attr-defined]
                    timeout=ENGINE_TIMEOUT_MS)
    window.controls_panel().set_animation_speed(None)
    return window


@pytest.fixture
def window(qtbot: object, settings: QSettings) -> MainWindow:
    """The window on Himmelblau with its engine loaded, drawing paths instantly."""
    return _open(qtbot, settings)


def wait_idle(qtbot: object, window: MainWindow) -> None:
    """Wait until every path is computed and drawn."""
    qtbot.waitUntil(lambda: not window.is_animating(), timeout=30_000)  # type: ignore[attr-defined]


def run_once(qtbot: object, window: MainWindow, start: tuple[float, float]) -> np.ndarray:
    """Run from start with the current controls; the path computed."""
    before = {p.path_id for p in window.shown_trajectories()}
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):  # type: ignore[attr-defined]
        window.start_runs([start])
    wait_idle(qtbot, window)
    (shown,) = [p for p in window.shown_trajectories() if p.path_id not in before]
    return shown.trajectory().x + 1j * shown.trajectory().y


# ----- noisy gradients -------------------------------------------------------------------------


def test_noise_same_seed_same_path_and_noise_changes_the_path(
    qtbot: object, window: MainWindow
) -> None:
    controls = window.controls_panel()
    controls.set_optimizer("sgd")
    controls.set_lr(0.01)
    controls.set_limits(60, 1e-8, False)
    clean = run_once(qtbot, window, (0.5, -0.5))

    controls.set_noise(2.0, 7)
    settings = controls.run_settings()
    assert (settings.noise, settings.seed) == (2.0, 7)
    first = run_once(qtbot, window, (0.5, -0.5))
    again = run_once(qtbot, window, (0.5, -0.5))
    np.testing.assert_array_equal(first, again)
    assert len(first) == len(clean) and not np.array_equal(first, clean)
    controls.set_noise(2.0, 8)
    other = run_once(qtbot, window, (0.5, -0.5))
    assert not np.array_equal(other, first)

    noisy = window.shown_trajectories()[-1]
    row = window.runs_panel().row_texts(noisy.path_id)
    assert "noise 2 (seed 8)" in row[2]
    clean_row = window.runs_panel().row_texts(window.shown_trajectories()[0].path_id)
    assert "noise" not in clean_row[2]


def test_noise_is_remembered(qtbot: object, settings: QSettings) -> None:
    window = _open(qtbot, settings)
    window.controls_panel().set_noise(0.25, 42)
    window.close()
    again = _open(qtbot, QSettings(settings.fileName(), QSettings.Format.IniFormat))
    run = again.controls_panel().run_settings()
    assert (run.noise, run.seed) == (0.25, 42)
