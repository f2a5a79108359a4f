"""The teaching-lab tools in the window: gradient noise, the learning-rate sweep, the race."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from explorer.gui.main_window import MainWindow
from explorer.gui.tools.lab_tools import LabTools
from explorer.gui.tools.race_panel import RacePanel
from explorer.gui.tools.sweep_panel import SweepPanel
from tests.gui.helpers import WindowOpener, wait_idle

# The window (no 3D view) on Himmelblau, drawing paths instantly.
pytestmark = pytest.mark.window(surface=False)


def run_once(qtbot: QtBot, window: MainWindow, start: tuple[float, float]) -> np.ndarray:
    """Run from start with the current controls; the path computed."""
    before = {p.path_id for p in window.runner.shown_trajectories()}
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([start])
    wait_idle(qtbot, window)
    (shown,) = [p for p in window.runner.shown_trajectories() if p.path_id not in before]
    return shown.trajectory().x + 1j * shown.trajectory().y


# ----- noisy gradients -------------------------------------------------------------------------


def test_noise_same_seed_same_path_and_noise_changes_the_path(
    qtbot: QtBot, window: MainWindow
) -> None:
    controls = window.controls
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

    noisy = window.runner.shown_trajectories()[-1]
    row = window.runs_panel.row_texts(noisy.path_id)
    assert "noise 2 (seed 8)" in row[2]
    clean_row = window.runs_panel.row_texts(window.runner.shown_trajectories()[0].path_id)
    assert "noise" not in clean_row[2]


def test_noise_is_remembered(window_opener: WindowOpener, settings: QSettings) -> None:
    window = window_opener()
    window.controls.set_noise(0.25, 42)
    window.close()
    again = window_opener(QSettings(settings.fileName(), QSettings.Format.IniFormat))
    run = again.controls.run_settings()
    assert (run.noise, run.seed) == (0.25, 42)


# ----- the learning-rate sweep -----------------------------------------------------------------

BOWL = "x**2 + 10*y**2"  # Hessian diag(2, 20): plain GD diverges exactly for lr > 2 / 20 = 0.1


def show_function(qtbot: QtBot, window: MainWindow, text: str,
                  domain: tuple[float, float, float, float] = (-2.0, 2.0, -2.0, 2.0)) -> None:
    panel = window.function
    panel.set_function(text, domain)
    assert panel.apply()
    assert window.document.expression is not None and window.document.expression.text == text


def test_sweep_plots_every_rate_and_marks_exactly_the_diverged_ones(
    qtbot: QtBot, window: MainWindow
) -> None:
    from explorer.core.expression import parse
    from explorer.core.sweep import best_entry, log_spaced, lr_sweep
    from explorer.core.trajectory import RunSettings

    show_function(qtbot, window, BOWL)
    controls = window.controls
    controls.set_optimizer("sgd")
    controls.set_limits(300, 1e-8, False)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    panel = window.findChild(SweepPanel)
    assert panel is not None and panel.isVisible()
    window.contour.start_requested.emit(1.0, 1.0, True)  # a Shift-click at (1, 1)
    assert panel.start() == (1.0, 1.0)
    panel.set_range(0.01, 1.0, 21)  # 10 ** -1 = 0.1 is the 11th rate
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        assert panel.run_sweep()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=30_000)

    lrs = log_spaced(0.01, 1.0, 21)
    entries = panel.entries()
    assert [e.lr for e in entries] == lrs.tolist()
    items = panel.plot_items()
    finished = [*items["converged"].xData, *items["max_steps"].xData]
    diverged = list(items["diverged"].xData)
    # x data in log mode is stored as given; the count of points is the count of rates.
    assert len(finished) + len(diverged) == 21
    assert sorted(diverged) == [lr for lr in lrs.tolist() if lr > 0.1]
    assert len(items["steps"].xData) + len(items["steps_max"].xData) + len(
        items["steps_diverged"].xData) == 21
    # 2 / lambda_max at the start: the Hessian of x**2 + 10*y**2 is diag(2, 20).
    assert panel.stable_lr() == pytest.approx(0.1)
    # The stable limit is kept apart from the range's spin boxes: the next sweep can be set up.
    panel.set_range(0.02, 2.0, 5)
    assert items["limit"].value() == pytest.approx(-1.0)  # log10(0.1) on the log axis
    assert "0.1" in items["limit"].label.toPlainText()

    want = best_entry(lr_sweep(parse(BOWL).evaluate, (1.0, 1.0),
                               RunSettings(steps=300, tol=1e-8), lrs))
    assert want is not None and panel.best() is not None
    assert panel.best().lr == want.lr
    controls.set_lr(0.001)
    panel.best_button().click()
    assert controls.lr() == pytest.approx(want.lr)
    assert window.runner.shown_trajectories() == []  # the sweep never drew in the main views


def test_diverged_run_says_why_in_the_table(qtbot: QtBot, window: MainWindow) -> None:
    show_function(qtbot, window, BOWL)
    controls = window.controls
    controls.set_optimizer("sgd")
    controls.set_lr(0.11)
    controls.set_limits(500, 1e-8, False)
    with qtbot.waitSignal(window.worker.finished, timeout=30_000):
        window.runner.start_runs([(1.0, 1.0)])
    wait_idle(qtbot, window)
    (shown,) = window.runner.shown_trajectories()
    # y_k = (1 - 20 * 0.11)**k = (-1.2)**k leaves |y| <= 1e6 first at k = 76 (1.2**76 > 1e6).
    row = window.runs_panel.row_texts(shown.path_id)
    assert row[3] == "76"
    # The table says what happened, and in a column of its own why.
    assert row[-2:] == ("diverged at step 76",
                        "|y| > 1e6; lr 0.11 is above 2 / lambda_max = 0.1 at the start")


# ----- the race --------------------------------------------------------------------------------


def test_race_without_starts_asks_for_them(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.findChild(LabTools).show_race()
    assert not panel.start_race()
    assert any("Shift-click" in label.text() and "first" in label.text()
               for label in panel.findChildren(QLabel))
    assert window.runner.shown_trajectories() == []


def test_race_three_entries_two_starts_six_paths_and_a_sorted_leaderboard(
    qtbot: QtBot, window: MainWindow
) -> None:
    from explorer.core.descent import run_descent
    from explorer.core.presets import get_preset
    from explorer.core.race import RaceEntry, lap

    controls = window.controls
    controls.set_limits(400, 1e-6, False)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_R,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    panel = window.findChild(RacePanel)
    assert panel is not None and panel.isVisible()
    entries = panel.entries()
    assert [e.optimizer for e in entries] == ["sgd", "momentum", "adam"]
    assert [e.lr for e in entries] == [0.01, 0.01, 0.05]  # the registry's defaults

    starts = [(-1.0, 1.0), (1.0, -3.0)]
    for x, y in starts:
        window.contour.start_requested.emit(x, y, True)  # Shift-clicks
    with qtbot.waitSignal(panel.leaderboard_ready, timeout=60_000):
        assert panel.start_race()
    paths = window.runner.shown_trajectories()
    assert len(paths) == 6 and window.runner.pending_starts() == []
    assert sorted(p.start for p in paths) == sorted(starts * 3)
    assert window.contour.path_ids() == [p.path_id for p in paths]
    assert window.loss.path_ids() == [p.path_id for p in paths]
    # One colour per entry, the swatch's.
    for color, optimizer in zip(panel.entry_colors(), ["sgd", "momentum", "adam"], strict=True):
        assert {p.color for p in paths if p.settings.optimizer == optimizer} == {color}

    # The leaderboard, worked out again from separate runs of each entry.
    minima = get_preset("himmelblau").minima
    base = controls.run_settings()
    expected = []
    for entry in entries:
        run = run_descent(window.document.expression.evaluate, starts, entry.settings(base))
        laps = [lap(run.trajectory(i), base.tol, minima) for i in range(2)]
        expected.append((sum(x.f for x in laps) / 2, entry.optimizer, laps))
    # Lowest mean final f; within 1e-10 a tie, won by the slowest start's steps to the tol.
    expected.sort(key=lambda item: (round(item[0] / 1e-10),
                                    max(x.steps_to_tol or 10**9 for x in item[2])))
    standings = panel.standings()
    assert [s.entry.optimizer for s in standings] == [optimizer for _, optimizer, _ in expected]
    for standing, (f, _, laps) in zip(standings, expected, strict=True):
        assert standing.final_f == pytest.approx(f, rel=1e-12, abs=1e-300)
        assert [x.steps_to_tol for x in standing.laps] == [x.steps_to_tol for x in laps]
    board = panel.leaderboard_table().model()
    assert board.rowCount() == 3
    assert [board.index(row, 1).data() for row in range(3)] == [
        RaceEntry(o, 0.1).label for _, o, _ in expected]
    assert board.index(0, 0).data() == "1"


def test_tune_sets_the_entry_lr_to_the_sweeps_best(qtbot: QtBot, window: MainWindow) -> None:
    from explorer.core.race import tune_lr

    show_function(qtbot, window, BOWL)
    window.controls.set_limits(50, 0.0, False)
    panel = window.findChild(LabTools).show_race()
    starts = [(1.0, 1.0), (-2.0, 0.5)]
    for x, y in starts:
        window.contour.start_requested.emit(x, y, True)
    entry = panel.entries()[0]
    assert entry.optimizer == "sgd"
    panel.tune_button(0).click()
    assert panel.is_tuning() and not panel.tune_button(0).isEnabled()
    qtbot.waitUntil(lambda: not panel.is_tuning(), timeout=30_000)
    want = tune_lr(window.document.expression.evaluate, starts, entry,
                   window.controls.run_settings())
    assert want is not None and want != entry.lr
    assert panel.entries()[0].lr == pytest.approx(want)
    assert panel.tune_button(0).isEnabled()
    assert window.runner.pending_starts() == starts  # tuning leaves the starts for the race
