"""The race leaderboard and tune_lr, against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.optimizers import get_spec
from explorer.core.presets import get_preset
from explorer.core.race import (
    RaceEntry,
    combined_entries,
    known_minima,
    lap,
    leaderboard,
    nearest_minimum_distance,
    steps_to_tolerance,
    tune_grid,
    tune_lr,
)
from explorer.core.sweep import log_spaced
from explorer.core.trajectory import Outcome, RunSettings, Status, Trajectory

HIMMELBLAU = get_preset("himmelblau")
# Himmelblau's other three minima, as published (e.g. Wikipedia, "Himmelblau's function").
SECOND = (-2.805118086952745, 3.131312518250573)
THIRD = (-3.779310253377747, -3.283185991286170)
FOURTH = (3.584428340330492, -1.848126526964404)


def path(
    xy: list[tuple[float, float]],
    f: list[float],
    grad: list[tuple[float, float]],
    status: Status = Status.MAX_STEPS,
) -> Trajectory:
    """A hand-made trajectory."""
    return Trajectory(
        x=np.array([p[0] for p in xy]),
        y=np.array([p[1] for p in xy]),
        f=np.array(f, dtype=np.float64),
        grad_x=np.array([g[0] for g in grad]),
        grad_y=np.array([g[1] for g in grad]),
        status=status,
    )


def test_sgd_on_the_round_bowl_halves_x_and_reaches_the_tolerance_at_step_21() -> None:
    # f = x**2 + y**2, grad = 2x; lr 0.25: x <- x - 0.5 x = x / 2, so x_k = 2**-k and
    # |grad| = 2 * 2**-k <= 1e-6 first when 2**k >= 2e6, k = ceil(log2(2e6)) = 21.
    objective = parse("x**2 + y**2").evaluate
    settings = RunSettings(optimizer="sgd", lr=0.25, steps=40, tol=0.0)
    trajectory = run_descent(objective, [[1.0, 0.0]], settings).trajectory(0)
    np.testing.assert_allclose(trajectory.x[:5], [1.0, 0.5, 0.25, 0.125, 0.0625])
    measured = lap(trajectory, 1e-6)
    assert measured.steps_to_tol == 21 == math.ceil(math.log2(2e6))
    assert measured.steps == 40 and measured.status is Status.MAX_STEPS
    assert measured.distance is None  # no minima given
    assert lap(trajectory, 1e-30).steps_to_tol is None


def test_steps_to_tolerance_is_the_first_small_gradient() -> None:
    assert steps_to_tolerance([3.0, 0.0, 1e-9, 5.0], [4.0, 1.0, 0.0, 0.0], 1e-6) == 2
    assert steps_to_tolerance([0.6], [0.8], 1.0) == 0  # |(0.6, 0.8)| = 1 exactly
    assert steps_to_tolerance([1.0, math.nan], [1.0, math.nan], 0.5) is None


def test_distance_to_himmelblaus_nearest_known_minimum() -> None:
    minima = known_minima(HIMMELBLAU.formula)
    assert len(minima) == 4
    # The four minima of Himmelblau's function (published values).
    assert (3.0, 2.0) in [(m.x, m.y) for m in minima]
    assert nearest_minimum_distance((3.3, 2.4), minima) == pytest.approx(0.5)  # 3-4-5
    assert nearest_minimum_distance((SECOND[0] + 0.03, SECOND[1] - 0.04), minima) == (
        pytest.approx(0.05)
    )
    assert nearest_minimum_distance(THIRD, minima) == pytest.approx(0, abs=1e-12)
    assert nearest_minimum_distance((math.inf, 0.0), minima) == math.inf
    assert known_minima("x**2 + 3*y**2") == ()
    assert nearest_minimum_distance((1.0, 1.0), ()) is None


def test_leaderboard_sorts_by_final_f_and_sums_up_the_starts() -> None:
    minima = known_minima(HIMMELBLAU.formula)
    sgd, adam, wild = RaceEntry("sgd", 0.01), RaceEntry("adam", 0.05), RaceEntry("sgd", 5.0)
    g_small, g_big = (1e-9, 0.0), (1.0, 1.0)
    sgd_paths = [
        path([(0, 0), (3.0, 2.3)], [170.0, 2.0], [g_big, g_big]),
        path([(1, 1), (3.0, 2.1)], [106.0, 1.0], [g_big, g_big]),
    ]
    adam_paths = [
        path([(0, 0), (2, 2), (3.0, 2.0)], [170.0, 13.0, 0.0], [g_big, g_big, g_small],
             Status.CONVERGED),
        path([(1, 1), (3.6, -1.8)], [106.0, 0.5], [g_big, g_small], Status.CONVERGED),
    ]
    wild_paths = [
        path([(0, 0), (1e7, 0)], [170.0, 1e28], [g_big, g_big], Status.DIVERGED),
        path([(1, 1), (3.0, 2.0)], [106.0, 0.0], [g_big, g_small], Status.CONVERGED),
    ]
    board = leaderboard([sgd, wild, adam], [sgd_paths, wild_paths, adam_paths], 1e-6, minima)
    assert [s.entry for s in board] == [adam, sgd, wild]
    first, second, last = board
    assert first.final_f == pytest.approx(0.25)  # (0 + 0.5) / 2
    assert first.steps_to_tol == 2 and first.reached == 2  # the slowest start: 2 steps
    assert first.distance == pytest.approx(
        (0.0 + math.hypot(3.6 - FOURTH[0], -1.8 - FOURTH[1])) / 2
    )
    assert first.status == "converged"
    assert second.final_f == pytest.approx(1.5) and second.steps_to_tol is None
    assert second.distance == pytest.approx((0.3 + 0.1) / 2)
    assert second.status == "max_steps"
    assert last.final_f == math.inf and last.diverged == 1 and last.reached == 1
    assert last.status == "1 diverged, 1 converged"
    with pytest.raises(ValueError):
        leaderboard([sgd], [], 1e-6)


def test_final_f_within_rounding_is_a_tie_won_by_the_fewer_steps() -> None:
    g_small, g_big = (1e-9, 0.0), (1.0, 1.0)
    slow = path([(0, 0), (1, 1), (2, 2), (3, 2)], [9.0, 5.0, 1.0, 1e-19],
                [g_big, g_big, g_big, g_small], Status.CONVERGED)
    fast = path([(0, 0), (3, 2)], [9.0, 5e-19], [g_big, g_small], Status.CONVERGED)
    lower = path([(0, 0), (3, 2)], [9.0, -1e-6], [g_big, g_big])  # lower f by far more
    a, b, c = RaceEntry("sgd", 0.01), RaceEntry("adam", 0.05), RaceEntry("rmsprop", 0.01)
    board = leaderboard([a, b], [[slow], [fast]], 1e-6)
    assert [s.entry for s in board] == [b, a]  # 5e-19 vs 1e-19: a tie; 1 step beats 3
    board = leaderboard([a, b, c], [[slow], [fast], [lower]], 1e-6)
    assert [s.entry for s in board] == [c, b, a]


def test_entries_default_to_the_registry_and_keep_the_shared_budget() -> None:
    entry = RaceEntry.default("adam")
    assert entry.lr == get_spec("adam").default_lr and entry.label == "Adam"
    assert RaceEntry.default("sgd").label == "SGD"
    base = RunSettings.create({"momentum": 0.5}, steps=77, tol=1e-5, noise=0.3, seed=4)
    settings = RaceEntry("momentum", 0.02, (("momentum", 0.8),)).settings(base)
    assert (settings.optimizer, settings.lr, settings.param_dict) == (
        "momentum", 0.02, {"momentum": 0.8})
    assert (settings.steps, settings.tol, settings.noise, settings.seed) == (77, 1e-5, 0.3, 4)


def test_tune_grid_and_combined_entries() -> None:
    grid, rates = tune_grid([[0, 0], [1, 2]], [0.1, 0.2, 0.3])
    assert grid.tolist() == [[0, 0], [1, 2]] * 3
    assert rates.tolist() == [0.1, 0.1, 0.2, 0.2, 0.3, 0.3]

    def outcome(f: float, steps: int, status: Status) -> Outcome:
        return Outcome((0, 0), (0, 0), f, (0, 0), steps, status)

    entries = combined_entries([0.1, 0.2], [
        outcome(1.0, 10, Status.CONVERGED), outcome(3.0, 20, Status.CONVERGED),
        outcome(0.0, 5, Status.CONVERGED), outcome(math.inf, 7, Status.DIVERGED),
    ], 2)
    assert [e.lr for e in entries] == [0.1, 0.2]
    assert (entries[0].f, entries[0].steps, entries[0].status) == (2.0, 20, Status.CONVERGED)
    assert entries[1].status is Status.DIVERGED


def test_tune_lr_picks_the_rate_with_the_lowest_f_worked_out_by_hand() -> None:
    # Plain SGD on x**2 + 10*y**2 multiplies x by (1 - 2 lr) and y by (1 - 20 lr) each step:
    # after n steps f = x0**2 (1 - 2 lr)**(2n) + 10 y0**2 (1 - 20 lr)**(2n); lr > 0.1 diverges.
    starts = [(1.0, 1.0), (-2.0, 0.5)]
    n = 50
    lrs = log_spaced(1e-4, 1.0, 12)

    def mean_f(lr: float) -> float:
        return sum(x * x * (1 - 2 * lr) ** (2 * n) + 10 * y * y * (1 - 20 * lr) ** (2 * n)
                   for x, y in starts) / len(starts)

    stable = [lr for lr in lrs.tolist() if lr <= 0.1]
    want = min(stable, key=mean_f)
    assert 0.05 < want < 0.1
    base = RunSettings(steps=n, tol=0.0)
    got = tune_lr(parse("x**2 + 10*y**2").evaluate, starts, RaceEntry("sgd", 0.001), base)
    assert got == want


def test_tune_lr_returns_none_when_every_rate_diverges_and_handles_lbfgs() -> None:
    objective = parse("x**2 + 10*y**2").evaluate
    base = RunSettings(steps=100, tol=0.0)
    assert tune_lr(objective, [(1.0, 1.0)], RaceEntry("sgd", 1.0), base,
                   lr_min=0.2, lr_max=1.0, count=4) is None
    got = tune_lr(objective, [(1.0, 1.0)], RaceEntry("lbfgs", 1.0), RunSettings(steps=5),
                  count=4)
    assert got in log_spaced(1e-4, 1.0, 4).tolist()
