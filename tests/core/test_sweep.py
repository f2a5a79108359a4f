"""Learning-rate sweeps, per-start learning rates, gradient noise and divergence explanations."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.stability import stability_note, stable_lr
from explorer.core.sweep import SweepError, best_entry, log_spaced, lr_sweep
from explorer.core.trajectory import RunSettings, Status

BOWL = "x**2 + 10*y**2"  # Hessian diag(2, 20): plain GD diverges exactly for lr > 2 / 20 = 0.1


def cli(*argv: str) -> tuple[int, str, str]:
    from explorer import cli as module

    out, err = io.StringIO(), io.StringIO()
    code = module.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_sweep_on_the_bowl_diverges_exactly_above_lr_one_tenth() -> None:
    lrs = log_spaced(0.01, 1.0, 21)  # includes 0.1 itself (10 ** -1) at index 10
    assert 0.1 in lrs
    entries = lr_sweep(parse(BOWL).evaluate, (1.0, 1.0), RunSettings(steps=300), lrs)
    assert [e.lr for e in entries] == lrs.tolist()
    for e in entries:
        assert (e.status is Status.DIVERGED) == (e.lr > 0.1), e
    # At lr = 0.1 the y component flips sign forever: |1 - 0.1 * 20| = 1, neither in nor out.
    at_limit = entries[10]
    assert at_limit.status is Status.MAX_STEPS and at_limit.f == pytest.approx(10.0)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "rmsprop"])
def test_per_start_learning_rates_equal_separate_runs(optimizer: str) -> None:
    objective = parse("(x**2 + y - 11)**2 + (x + y**2 - 7)**2").evaluate
    lrs = np.array([1e-4, 3e-3, 1e-2, 0.05])
    settings = RunSettings(optimizer=optimizer, steps=60)
    swept = run_descent(objective, [[0.5, -1.0]] * len(lrs), settings, lrs=lrs)
    for i, lr in enumerate(lrs):
        alone = run_descent(objective, [[0.5, -1.0]], RunSettings(optimizer=optimizer, lr=lr,
                                                                  steps=60)).trajectory(0)
        mine = swept.trajectory(i)
        assert mine.lr == lr and mine.status == alone.status
        np.testing.assert_array_equal(mine.x, alone.x)
        np.testing.assert_array_equal(mine.f, alone.f)
        np.testing.assert_array_equal(mine.grad_y, alone.grad_y)


def test_lbfgs_sweeps_use_each_learning_rate() -> None:
    objective = parse("(x**2 + y - 11)**2 + (x + y**2 - 7)**2").evaluate
    lrs = np.array([0.01, 0.1, 0.5])
    swept = run_descent(objective, [[0.5, -1.0]] * 3, RunSettings(optimizer="lbfgs", steps=3),
                        lrs=lrs)
    for i, lr in enumerate(lrs):
        alone = run_descent(objective, [[0.5, -1.0]],
                            RunSettings(optimizer="lbfgs", lr=lr, steps=3)).trajectory(0)
        assert swept.trajectory(i).lr == lr
        np.testing.assert_array_equal(swept.trajectory(i).x, alone.x)
    assert not np.array_equal(swept.trajectory(0).x, swept.trajectory(2).x)


def test_log_spaced_ends_and_errors() -> None:
    lrs = log_spaced(1e-5, 10.0, 25)
    assert lrs[0] == 1e-5 and lrs[-1] == 10.0 and len(lrs) == 25
    assert np.all(np.diff(lrs) > 0)
    ratios = lrs[1:] / lrs[:-1]
    np.testing.assert_allclose(ratios, 10 ** (6 / 24), rtol=1e-12)
    assert log_spaced(0.5, 0.5, 3).tolist() == [0.5, 0.5, 0.5]
    for bad in ((0.0, 1.0, 5), (1.0, 0.1, 5), (0.1, 1.0, 0), (0.1, math.inf, 3)):
        with pytest.raises(SweepError):
            log_spaced(*bad)


def test_best_entry_skips_diverged_runs() -> None:
    entries = lr_sweep(parse(BOWL).evaluate, (1.0, 1.0), RunSettings(steps=100),
                       np.array([0.01, 0.05, 0.5]))
    best = best_entry(entries)
    assert best is not None and best.lr == 0.05
    assert best_entry([entries[2]]) is None


def test_same_seed_same_noise_and_zero_noise_is_exact() -> None:
    objective = parse("x**2 + y**2").evaluate
    starts = [[1.0, 2.0], [-1.0, 0.5]]
    noisy = RunSettings(steps=30, noise=0.5, seed=7)
    a = run_descent(objective, starts, noisy).trajectory(1)
    b = run_descent(objective, starts, noisy).trajectory(1)
    c = run_descent(objective, starts, RunSettings(steps=30, noise=0.5, seed=8)).trajectory(1)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    clean = run_descent(objective, starts, RunSettings(steps=30)).trajectory(1)
    zero = run_descent(objective, starts, RunSettings(steps=30, noise=0.0, seed=3)).trajectory(1)
    np.testing.assert_array_equal(clean.x, zero.x)


def test_noise_has_the_chosen_scale_and_the_step_uses_it() -> None:
    # On x**2 + y**2 the true gradient is (2x, 2y); the recorded gradient is the noisy one.
    objective = parse("x**2 + y**2").evaluate
    rng = np.random.default_rng(0)
    starts = rng.uniform(-1, 1, size=(20000, 2))
    run = run_descent(objective, starts, RunSettings(lr=0.1, steps=1, tol=0, noise=0.3, seed=1))
    noise = run.grad[0] - 2 * run.xy[0]
    assert abs(noise.mean()) < 0.01 and noise.std() == pytest.approx(0.3, rel=0.02)
    # SGD moved by exactly -lr times the noisy gradient.
    np.testing.assert_allclose(run.xy[1], run.xy[0] - 0.1 * run.grad[0], rtol=0, atol=1e-15)


def test_noise_works_for_lbfgs_and_sweeps() -> None:
    objective = parse("x**2 + y**2").evaluate
    settings = RunSettings(optimizer="lbfgs", lr=0.5, steps=5, noise=0.1, seed=2)
    first = run_descent(objective, [[1.0, 1.0]], settings).trajectory(0)
    again = run_descent(objective, [[1.0, 1.0]], settings).trajectory(0)
    np.testing.assert_array_equal(first.x, again.x)
    swept = lr_sweep(objective, (1.0, 1.0), RunSettings(steps=5, noise=0.1, seed=2),
                     np.array([0.01, 0.1]))
    assert all(e.status is Status.MAX_STEPS for e in swept)


def test_divergence_names_the_coordinate_and_the_stable_learning_rate() -> None:
    # lr 0.11: y is multiplied by 1 - 0.11 * 20 = -1.2 per step, so |y| = 1.2**k first exceeds
    # 1e6 at k = ceil(log(1e6) / log(1.2)) = 76; x shrinks by 0.78 per step.
    expression = parse(BOWL)
    run = run_descent(expression.evaluate, [[1.0, 1.0]], RunSettings(lr=0.11, steps=200))
    outcome = run.outcome(0)
    assert math.ceil(math.log(1e6) / math.log(1.2)) == 76 == outcome.steps
    note = stability_note(expression, outcome.start, 0.11)
    assert outcome.status_text(1e6, note) == (
        "diverged at step 76: |y| > 1e6; lr 0.11 is above 2 / lambda_max = 0.1 at the start"
    )
    assert stable_lr(expression, 3.0, -2.0) == pytest.approx(0.1, rel=1e-15)
    assert stability_note(expression, (1.0, 1.0), 0.05) == ""
    # A saddle curves downward in y, upward in x: the limit is 2 / 2 = 1.
    assert stable_lr(parse("x**2 - y**2"), 0.0, 0.0) == pytest.approx(1.0)
    assert stable_lr(parse("-x**2 - y**2"), 0.0, 0.0) is None


def test_cli_sweep_json_is_one_list_in_increasing_lr() -> None:
    code, out, err = cli("sweep", "--function", BOWL, "--start", "-1,1", "--optimizer", "sgd",
                         "--lr-min", "0.01", "--lr-max", "1", "--count", "21", "--steps", "300",
                         "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert isinstance(data, list) and len(data) == 21
    assert all(set(entry) == {"lr", "f", "steps", "status", "schedule"} for entry in data)
    assert {entry["schedule"] for entry in data} == {""}
    lrs = [entry["lr"] for entry in data]
    assert lrs == sorted(lrs) and lrs[0] == 0.01 and lrs[-1] == 1.0
    assert [entry["status"] == "diverged" for entry in data] == [lr > 0.1 for lr in lrs]


def test_cli_sweep_table_and_errors() -> None:
    code, out, _ = cli("sweep", "--preset", "bowl", "--start", "1,1", "--optimizer",
                       "adam", "--lr-min", "0.001", "--lr-max", "0.1", "--count", "3",
                       "--steps", "50", "--param", "betas=0.9,0.99")
    assert code == 0 and "final f" in out and len(out.strip().splitlines()) >= 6
    for argv, needle in (
        (("--lr-min", "1", "--lr-max", "0.1", "--count", "3"), "lr-min <= lr-max"),
        (("--lr-min", "0.1", "--lr-max", "1", "--count", "0"), "count"),
        (("--lr-min", "0.1", "--lr-max", "1", "--count", "x"), "whole number"),
        (("--lr-min", "-1", "--lr-max", "1", "--count", "3"), "positive"),
    ):
        code, out, err = cli("sweep", "--function", "x**2", "--start", "1,1", "--optimizer",
                             "sgd", "--steps", "5", *argv)
        assert code == 2 and out == "" and needle in err and err.startswith("error:")
    code, _, err = cli("sweep", "--function", "x**2", "--start", "1,1", "--optimizer", "sgd",
                       "--steps", "5", "--lr-min", "0.1", "--lr-max", "1", "--count", "3",
                       "--param", "bogus=1")
    assert code == 2 and "bogus" in err

