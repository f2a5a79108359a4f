"""Evaluation counts of torch optimisers (issue 16): what the engine reports equals a count
made outside it, by a counting objective or a counting closure in a plain torch loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.descent import run_descent
from explorer.core.race import outcome_of
from explorer.core.trajectory import RunSettings, Status
from tests.counting import Counting, rosenbrock


@pytest.mark.parametrize(
    ("optimizer", "lr", "steps", "tol"),
    [("sgd", 0.05, 30, 1e-8), ("sgd", 0.2, 500, 1e-6), ("adam", 0.1, 200, 1e-5)],
)
def test_elementwise_count_equals_the_objective_calls(
    optimizer: str, lr: float, steps: int, tol: float
) -> None:
    objective = Counting()
    run = run_descent(
        objective, [(2.0, -1.0)], RunSettings(optimizer=optimizer, lr=lr, steps=steps, tol=tol)
    )
    trajectory = run.trajectory(0)
    # One start: every objective call was this start's evaluation of f and its gradient.
    assert trajectory.evaluations == (objective.calls, objective.calls, 0)
    assert run.outcome(0).evaluations == trajectory.evaluations
    assert outcome_of(trajectory).evaluations == trajectory.evaluations


def test_a_batch_counts_each_start_as_if_it_ran_alone() -> None:
    # The batch keeps stepping a start that stopped; its count is what it needed.
    starts = [(1.0, 1.0 + 1e-6), (2.0, -1.0), (-1.5, 2.0)]
    config = RunSettings(optimizer="sgd", lr=0.1, steps=400, tol=1e-4)
    run = run_descent(rosenbrock, starts, config)
    for i, start in enumerate(starts):
        alone = Counting()
        run_descent(alone, [start], config)
        assert run.outcome(i).evaluations == (alone.calls, alone.calls, 0)
    counts = {run.outcome(i).evaluations for i in range(len(starts))}
    assert len(counts) > 1  # the starts stopped at different rows


def _plain_lbfgs_calls(start: tuple[float, float], steps: int, **kwargs: object) -> int:
    """Closure calls of torch.optim.LBFGS over this many steps, counted by its own closure."""
    p = torch.tensor([start], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([p], **kwargs)  # type: ignore[arg-type]
    calls = 0

    def closure() -> torch.Tensor:
        nonlocal calls
        calls += 1
        optimizer.zero_grad()
        loss = rosenbrock(*p.unbind(1)).sum()
        loss.backward()
        return loss

    for _ in range(steps):
        optimizer.step(closure)
    return calls


@pytest.mark.parametrize(
    ("params", "torch_kwargs"),
    [
        ((), {"lr": 0.5}),
        ((("max_iter", 3),), {"lr": 0.5, "max_iter": 3}),
        ((("line_search_fn", "strong_wolfe"),), {"lr": 1.0, "line_search_fn": "strong_wolfe"}),
    ],
)
@pytest.mark.parametrize("steps", [1, 4, 50])
def test_lbfgs_counts_every_closure_call(
    params: tuple[tuple[str, object], ...], torch_kwargs: dict[str, object], steps: int
) -> None:
    lr = float(torch_kwargs["lr"])  # type: ignore[arg-type]
    config = RunSettings.create(dict(params), optimizer="lbfgs", lr=lr, steps=steps, tol=1e-10)
    starts = [(2.0, -1.0), (-1.0, 1.5)]
    run = run_descent(rosenbrock, starts, config)
    for i, start in enumerate(starts):
        trajectory = run.trajectory(i)
        calls = _plain_lbfgs_calls(start, trajectory.steps, **torch_kwargs)
        assert trajectory.evaluations == (calls, calls, 0)
        assert calls >= trajectory.steps  # at least one call per step


def test_lbfgs_line_search_calls_are_counted() -> None:
    # With a line search a step costs more than one evaluation: the count must show it.
    config = RunSettings.create(
        {"line_search_fn": "strong_wolfe", "max_iter": 20}, optimizer="lbfgs", lr=1.0, steps=3
    )
    trajectory = run_descent(rosenbrock, [(2.0, -1.0)], config).trajectory(0)
    assert trajectory.evaluations is not None
    assert trajectory.evaluations[0] > 2 * trajectory.steps


@settings(max_examples=25, deadline=None)
@given(
    lr=st.floats(1e-6, 1e3),
    steps=st.integers(0, 60),
    tol=st.floats(0.0, 1e3),
    x=st.floats(-1e8, 1e8),
    y=st.floats(-1e8, 1e8),
)
def test_elementwise_counts_hold_for_any_run(
    lr: float, steps: int, tol: float, x: float, y: float
) -> None:
    # Diverging, converging at once or running out: the count is the rows evaluated.
    objective = Counting()
    with np.errstate(all="ignore"):
        run = run_descent(
            objective, [(x, y)], RunSettings(optimizer="sgd", lr=lr, steps=steps, tol=tol)
        )
    outcome = run.outcome(0)
    assert outcome.status is not Status.RUNNING
    assert outcome.evaluations == (objective.calls, objective.calls, 0)
