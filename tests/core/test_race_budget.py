"""Races with scipy methods and an evaluation budget (issue 16): every entry held to B f
evaluations per start, counted outside the engine where possible, and ranked by f reached."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.descent import run_descent
from explorer.core.optimizers import OptimizerError
from explorer.core.race import (
    MAX_EVALUATIONS,
    RaceEntry,
    entry_settings,
    leaderboard,
    tune_lr,
)
from explorer.core.scipy_methods import METHODS, minimize
from explorer.core.trajectory import RunSettings, Status, Trajectory
from tests.counting import Counting, rosenbrock

START = (2.0, -1.0)




BASE = RunSettings(steps=7, tol=0.0, schedule="")


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "nesterov"])
@pytest.mark.parametrize("budget", [1, 2, 17, 300])
def test_a_torch_entry_uses_exactly_the_budget(optimizer: str, budget: int) -> None:
    entry = RaceEntry(optimizer, 0.01)
    objective = Counting()
    run = run_descent(objective, [START], entry.settings(BASE, budget))
    assert objective.calls == budget
    assert run.outcome(0).evaluations == (budget, budget, 0)


@pytest.mark.parametrize("budget", [1, 5, 40])
def test_lbfgs_uses_exactly_the_budget_in_closure_calls(budget: int) -> None:
    settings = RaceEntry("lbfgs", 0.1, (("history_size", 10),)).settings(BASE, budget)
    assert dict(settings.params)["max_iter"] == 1 and settings.steps == budget
    run = run_descent(rosenbrock, [START], settings)
    assert run.outcome(0).evaluations == (budget, budget, 0)


def test_lbfgs_with_a_line_search_is_refused_an_evaluation_budget() -> None:
    entry = RaceEntry("lbfgs", 1.0, (("line_search_fn", "strong_wolfe"),))
    with pytest.raises(OptimizerError, match="line search"):
        entry.settings(BASE, 10)


@pytest.mark.parametrize("method", list(METHODS))
def test_a_scipy_entry_stops_at_the_budget(method: str) -> None:
    free = minimize(rosenbrock, START, method, steps=1000, tol=1e-14)
    budget = max(2, free.evaluations["f"] // 2)  # left alone it would use twice as many
    settings = RaceEntry.default(method).settings(dataclasses.replace(BASE, tol=1e-14), budget)
    held = minimize(
        rosenbrock, START, method, steps=settings.steps, tol=settings.tol,
        options=settings.param_dict,
    )
    used = held.evaluations["f"]
    # Checked between iterations: at least the budget, and cut short of the free run.
    assert budget <= used < free.evaluations["f"]
    assert held.trajectory.status is Status.MAX_STEPS, held.message
    # The path is the free run's first iterates: a budget only cuts it short (the last
    # one may differ: Powell's limit also cuts its last line search short).
    rows = len(held.trajectory.x) - 1
    assert np.array_equal(held.trajectory.x[:rows], free.trajectory.x[:rows])


def test_scipy_entries_have_no_learning_rate_or_schedule() -> None:
    entry = RaceEntry.default("nelder-mead")
    assert entry.label == "Nelder-Mead" and entry.is_scipy
    base = dataclasses.replace(BASE, schedule="cosine", ascent=True, noise=0.5)
    settings = entry.settings(base)
    assert settings.optimizer == "nelder-mead"
    assert (settings.schedule, settings.ascent, settings.noise) == ("", False, 0.0)
    assert RaceEntry.default("sgd").settings(dataclasses.replace(BASE, schedule="x")).schedule


@given(st.one_of(st.integers(-10**12, 10**12), st.booleans(), st.floats(allow_nan=True)))
def test_the_budget_must_be_a_whole_number_in_range(budget: object) -> None:
    fine = isinstance(budget, int) and not isinstance(budget, bool)
    fine = fine and 1 <= budget <= MAX_EVALUATIONS  # type: ignore[operator]
    for name in ("sgd", "bfgs"):
        if fine:
            assert entry_settings(RaceEntry.default(name).settings(BASE), budget)  # type: ignore[arg-type]
        else:
            with pytest.raises(OptimizerError, match="evaluation budget"):
                entry_settings(RaceEntry.default(name).settings(BASE), budget)  # type: ignore[arg-type]


def _path(f: float, evaluations: tuple[int, int, int]) -> Trajectory:
    one = np.array([f])
    zero = np.zeros(1)
    return Trajectory(zero, zero, one, zero, zero, evaluations=evaluations)


def test_an_evaluation_race_breaks_ties_in_f_by_fewer_evaluations() -> None:
    many, few = RaceEntry("sgd", 0.1), RaceEntry("bfgs", 0.0)
    paths = [[_path(1.0, (50, 50, 0))], [_path(1.0 + 1e-13, (9, 9, 0))]]
    board = leaderboard([many, few], paths, 1e-6, by_evaluations=True)
    assert [s.entry for s in board] == [few, many]
    assert board[0].evaluations == (9.0, 9.0, 0.0)
    # Lower f still wins whatever it cost.
    paths = [[_path(0.5, (50, 50, 0))], [_path(1.0, (9, 9, 0))]]
    board = leaderboard([many, few], paths, 1e-6, by_evaluations=True)
    assert [s.entry for s in board] == [many, few]
    # Unknown counts rank after known ones at equal f.
    paths = [[_path(1.0, (50, 50, 0))], [Trajectory(*([np.zeros(1)] * 2), np.ones(1),
                                                    np.zeros(1), np.zeros(1))]]
    board = leaderboard([many, few], paths, 1e-6, by_evaluations=True)
    assert board[0].entry is many and board[1].evaluations is None
    assert math.isfinite(board[0].final_f)


def test_tuning_a_scipy_entry_is_refused_in_words() -> None:
    with pytest.raises(OptimizerError, match="no learning rate"):
        tune_lr(rosenbrock, [START], RaceEntry.default("cg"), BASE)
