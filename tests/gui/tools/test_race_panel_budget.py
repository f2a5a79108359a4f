"""The race with scipy.optimize entries and an evaluation budget (issue 16): the leaderboard
shows evaluations and ranks by the f reached, as the core worked out separately."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from explorer.core.race import RaceEntry, leaderboard
from explorer.core.scipy_descent import run_paths
from explorer.core.trajectory import Status
from explorer.gui.main_window import MainWindow
from explorer.gui.model.leaderboard_table import EVALUATIONS_COLUMN, evaluations_text
from explorer.gui.tools.lab_tools import LabTools

STARTS = [(-1.0, 1.0), (1.0, -3.0)]


def race_panel(window: MainWindow):  # type: ignore[no-untyped-def]
    return window.findChild(LabTools).show_race()


def test_bfgs_sgd_and_nelder_mead_race_on_one_evaluation_budget(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.controls.set_limits(400, 1e-6, False)
    panel = race_panel(window)
    panel.set_entries([RaceEntry("sgd", 0.01), RaceEntry.default("bfgs"),
                       RaceEntry.default("nelder-mead")])
    assert [e.optimizer for e in panel.entries()] == ["sgd", "bfgs", "nelder-mead"]
    assert panel.budget() is None
    panel.set_budget(30)
    assert panel.budget() == 30
    for x, y in STARTS:
        window.runner.add_pending(x, y)
    with qtbot.waitSignal(panel.leaderboard_ready, timeout=60_000):
        assert panel.start_race()
        assert "at most 30 f evaluations each" in panel.message_text()

    # The same race worked out again from the core, entry by entry.
    base = window.controls.run_settings()
    entries = panel.entries()
    expected_paths = [
        run_paths(window.document.expression.evaluate, STARTS, e.settings(base, 30),
                  window.document.expression.text)
        for e in entries
    ]
    expected = leaderboard(entries, expected_paths, base.tol, by_evaluations=True)
    standings = panel.standings()
    assert [s.entry.optimizer for s in standings] == [s.entry.optimizer for s in expected]
    for got, want in zip(standings, expected, strict=True):
        assert got.final_f == want.final_f and got.evaluations == want.evaluations
        assert got.evaluations is not None
        # Each path used the budget, unless it converged first.
        for lap in got.laps:
            assert lap.evaluations is not None
            assert lap.evaluations[0] >= 30 or lap.status in (Status.CONVERGED, Status.DIVERGED)
    sgd = next(s for s in standings if s.entry.optimizer == "sgd")
    for lap in sgd.laps:  # 29 steps, rows 0..29: exactly the budget unless it stopped first
        assert lap.evaluations == (lap.steps + 1, lap.steps + 1, 0)
        assert lap.steps == 29 or lap.status in (Status.CONVERGED, Status.DIVERGED)
    board = panel.leaderboard_table().model()
    assert board.headerData(EVALUATIONS_COLUMN, Qt.Orientation.Horizontal) == (
        "evaluations (budget 30 f)")
    for row, standing in enumerate(standings):
        assert board.index(row, EVALUATIONS_COLUMN).data() == evaluations_text(
            standing.evaluations)
        lr = board.index(row, 2).data()
        assert (lr == "-") == standing.entry.is_scipy


def test_a_scipy_entry_has_no_lr_to_tune_and_lbfgs_search_is_refused(
    qtbot: QtBot, window: MainWindow
) -> None:
    panel = race_panel(window)
    panel.set_entries([RaceEntry.default("powell"),
                       RaceEntry("lbfgs", 1.0, (("line_search_fn", "strong_wolfe"),))])
    assert not panel.tune_button(0).isEnabled() and panel.tune_button(1).isEnabled()
    window.runner.add_pending(1.0, 1.0)
    assert not panel.tune(0) and "no learning rate" in panel.message_text()
    panel.set_budget(50)
    assert not panel.start_race() and "line search" in panel.message_text()
    assert window.runner.pending_starts() == [(1.0, 1.0)]  # nothing was taken or started
    panel.set_budget(None)  # by steps, the same entries race
    with qtbot.waitSignal(panel.leaderboard_ready, timeout=60_000):
        assert panel.start_race()
    assert len(panel.standings()) == 2


def test_scipy_entries_and_the_budget_come_back_with_the_session(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    panel = race_panel(window)
    entries = [RaceEntry.default("trust-ncg"), RaceEntry("adam", 0.05),
               RaceEntry("powell", 0.01, (("xtol", 1e-6),))]
    panel.set_entries(entries)
    panel.set_budget(77)
    saved = tmp_path / "race.json"
    assert window.sessions.save_to(saved)
    panel.set_entries([RaceEntry.default("sgd")])
    panel.set_budget(None)
    assert window.sessions.open_from(saved)
    assert panel.entries() == entries
    assert panel.budget() == 77
    # And a race by steps stays one.
    panel.set_budget(None)
    assert window.sessions.save_to(saved)
    panel.set_budget(5)
    assert window.sessions.open_from(saved)
    assert panel.budget() is None
