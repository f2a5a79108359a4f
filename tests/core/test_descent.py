"""The batched engine: recording, statuses, chunks, batched == one by one, the one step loop,
the one outcome rule, and the outcomes-only batch the basin map runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.core.descent import (
    Cancelled,
    converged_rows,
    descend,
    descend_to_end,
    diverged_rows,
    run_descent,
    step_loop,
)
from explorer.core.optimizers import REGISTRY
from explorer.core.trajectory import Reason, Run, RunSettings, Status


def himmelblau(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def wavy(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.sin(3 * x) * torch.cos(2 * y) + 0.1 * (x**2 + y**2)


STARTS = np.array([[0.0, 0.0], [1.0, -1.0], [-2.5, 2.5], [4.0, -4.0], [-0.3, -3.1], [2.2, 0.7]])
# Every optimiser but L-BFGS (test_optimizers pins the registry's names and order).
ELEMENTWISE = [name for name, spec in REGISTRY.items() if spec.elementwise]


@pytest.mark.parametrize("optimizer", ELEMENTWISE)
def test_batched_equals_one_by_one_bit_for_bit(optimizer: str) -> None:
    # Polynomial: every operation is exactly rounded IEEE arithmetic, so a point's path cannot
    # depend on what else is in the batch.
    settings = RunSettings(optimizer=optimizer, lr=0.003, steps=40, tol=0)
    batched = run_descent(himmelblau, STARTS, settings)
    for i, start in enumerate(STARTS):
        alone = run_descent(himmelblau, start[None, :], settings).trajectory(0)
        together = batched.trajectory(i)
        for name in ("x", "y", "f", "grad_x", "grad_y"):
            np.testing.assert_array_equal(getattr(together, name), getattr(alone, name))
        assert together.status == alone.status


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop"])
def test_batched_equals_one_by_one_with_transcendentals(optimizer: str) -> None:
    # sin and cos may take a vectorised path in a batch and a scalar one alone: allow an ulp.
    settings = RunSettings(optimizer=optimizer, lr=0.01, steps=60, tol=0)
    batched = run_descent(wavy, STARTS, settings)
    for i, start in enumerate(STARTS):
        alone = run_descent(wavy, start[None, :], settings).trajectory(0)
        np.testing.assert_allclose(batched.trajectory(i).x, alone.x, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(batched.trajectory(i).y, alone.y, rtol=1e-12, atol=1e-14)


def test_rows_are_start_then_points_after_each_step() -> None:
    run = run_descent(himmelblau, [[1.0, 1.0]], RunSettings(lr=0.01, steps=3, tol=0))
    t = run.trajectory(0)
    assert t.steps == 3 and len(t.x) == 4
    assert (t.x[0], t.y[0]) == (1.0, 1.0)
    for k in range(3):
        # Row k's gradient is the one step k+1 uses: x_{k+1} = x_k - lr * g_k.
        # (torch may fuse the multiply-add, so allow the last bit.)
        assert t.x[k + 1] == pytest.approx(t.x[k] - 0.01 * t.grad_x[k], rel=1e-15)
        assert t.y[k + 1] == pytest.approx(t.y[k] - 0.01 * t.grad_y[k], rel=1e-15)
    xs = torch.tensor(t.x)
    ys = torch.tensor(t.y)
    np.testing.assert_array_equal(t.f, himmelblau(xs, ys).numpy())


def test_statuses_and_stopped_trajectories_stay_stopped() -> None:
    starts = [[3.0, 2.0], [0.0, 0.0], [10.0, 10.0], [float("nan"), 0.0]]
    run = run_descent(himmelblau, starts, RunSettings(lr=0.01, steps=30, tol=1e-8))
    t_min, t_run, t_div, t_nan = run.trajectories()
    # (3, 2) is a minimum: converged at row 0, nothing else recorded for it.
    assert t_min.status is Status.CONVERGED and t_min.steps == 0
    assert t_run.status is Status.MAX_STEPS and t_run.steps == 30
    assert t_div.status is Status.DIVERGED and t_div.reason is Reason.OUT_OF_BOUNDS
    assert abs(t_div.x[-1]) > 1e6 or abs(t_div.y[-1]) > 1e6  # the offending row is kept
    assert np.all(np.abs(t_div.x[:-1]) <= 1e6) and np.all(np.abs(t_div.y[:-1]) <= 1e6)
    assert t_nan.status is Status.DIVERGED and t_nan.reason is Reason.NON_FINITE
    assert t_nan.steps == 0
    assert "diverged at step" in t_div.status_text()


def test_convergence_is_reached_and_reported() -> None:
    run = run_descent(himmelblau, [[0.0, 0.0]], RunSettings(lr=0.01, steps=1000, tol=1e-8))
    t = run.trajectory(0)
    assert t.status is Status.CONVERGED
    assert np.hypot(t.grad_x[-1], t.grad_y[-1]) <= 1e-8
    assert np.hypot(t.grad_x[-2], t.grad_y[-2]) > 1e-8
    assert t.end == pytest.approx((3.0, 2.0), abs=1e-8)


def test_divergence_on_huge_learning_rate_and_custom_bound() -> None:
    run = run_descent(himmelblau, [[1.0, 1.0]], RunSettings(lr=5.0, steps=100, bound=100.0))
    t = run.trajectory(0)
    assert t.status is Status.DIVERGED and t.steps < 100
    assert max(abs(t.x[-1]), abs(t.y[-1])) > 100.0


def test_constant_function_converges_at_once() -> None:
    def constant(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.full(torch.broadcast_shapes(x.shape, y.shape), 4.0, dtype=torch.float64)

    run = run_descent(constant, [[1.0, 2.0], [3.0, 4.0]], RunSettings(steps=10))
    for t in run.trajectories():
        assert t.status is Status.CONVERGED and t.steps == 0
        assert (t.grad_x[0], t.grad_y[0], t.f[0]) == (0.0, 0.0, 4.0)


def test_chunks_stream_every_row_once() -> None:
    settings = RunSettings(lr=0.001, steps=25, tol=0)
    chunks = list(descend(himmelblau, STARTS, settings, chunk_steps=7))
    spans = [(c.first_row, c.end_row) for c in chunks]
    assert spans == [(0, 7), (7, 14), (14, 21), (21, 26)]
    assert chunks[-1].run.finished


def test_generator_can_stop_early() -> None:
    stream = descend(himmelblau, STARTS, RunSettings(lr=0.001, steps=10**6, tol=0), chunk_steps=5)
    first = next(stream)
    stream.close()
    assert first.end_row == 5 and not first.run.finished


def test_lbfgs_runs_each_start_alone() -> None:
    settings = RunSettings(optimizer="lbfgs", lr=1.0, steps=20, tol=1e-6)
    run = run_descent(himmelblau, [[0.0, 0.0], [-1.0, -1.0]], settings)
    ends = [t.end for t in run.trajectories()]
    assert ends[0] == pytest.approx((3.0, 2.0), abs=1e-5)
    assert ends[1] == pytest.approx((-3.779310253377747, -3.2831859912861696), abs=1e-5)
    alone = run_descent(himmelblau, [[-1.0, -1.0]], settings).trajectory(0)
    np.testing.assert_array_equal(run.trajectory(1).x, alone.x)


def test_no_starts_is_an_empty_run() -> None:
    run = run_descent(himmelblau, np.empty((0, 2)), RunSettings())
    assert run.size == 0 and run.trajectories() == []


def test_buffers_grow_when_the_run_is_long(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = RunSettings(lr=1e-4, steps=300, tol=0)
    reference = run_descent(himmelblau, STARTS, settings)
    monkeypatch.setattr(Run, "MAX_INITIAL_VALUES", 5 * len(STARTS) * 8)
    grown = run_descent(himmelblau, STARTS, settings)
    assert grown.capacity == 301 and reference.capacity == 301
    for i in range(len(STARTS)):
        np.testing.assert_array_equal(grown.trajectory(i).x, reference.trajectory(i).x)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs"])
def test_without_history_outcomes_equal_the_full_run(optimizer: str) -> None:
    starts = np.vstack([STARTS, [[3.0, 2.0], [float("nan"), 1.0], [9.0, 9.0]]])
    lr = 1.0 if optimizer == "lbfgs" else 0.01
    settings = RunSettings(optimizer=optimizer, lr=lr, steps=150)
    full = run_descent(himmelblau, starts, settings)
    lean = run_descent(himmelblau, starts, settings, history=False)
    assert lean.capacity <= 64 < full.capacity
    assert {int(s) for s in full.status} >= {Status.CONVERGED, Status.DIVERGED}
    for i in range(len(starts)):
        t, a, b = full.trajectory(i), full.outcome(i), lean.outcome(i)
        assert a.steps == b.steps == t.steps and a.status == b.status == t.status
        np.testing.assert_array_equal(a.end, t.end)
        np.testing.assert_array_equal(b.end, t.end)
        np.testing.assert_array_equal([b.f, *b.grad], [t.f[-1], t.grad_x[-1], t.grad_y[-1]])
        assert b.status_text() == t.status_text()
    with pytest.raises(ValueError, match="outcome"):
        lean.trajectory(0)


def test_without_history_chunks_fit_the_ring() -> None:
    settings = RunSettings(lr=0.001, steps=200, tol=0)
    for chunk in descend(himmelblau, STARTS, settings, chunk_steps=1000, history=False):
        run = chunk.run
        assert chunk.end_row - chunk.first_row <= run.capacity
        # The rows of this chunk are all still in the ring.
        k = chunk.end_row - 1
        np.testing.assert_array_equal(
            run.f[run.slot(k)], himmelblau(*torch.tensor(run.xy[run.slot(k)]).T).numpy()
        )


def test_step_loop_steps_only_when_asked_for_the_next_row() -> None:
    # SGD lr 0.25 on f = x^2: x <- x - 0.25 * 2x = x / 2, so rows are 8, 4, 2, 1 by hand.
    p = torch.tensor([8.0], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.25)

    def evaluate() -> float:
        (p**2).sum().backward()
        return float(p.detach())

    rows = []
    for k, x in step_loop(optimizer, evaluate, 10):
        rows.append((k, x))
        if k == 3:
            break  # the point stays at row 3: no step after the last row asked for
    assert rows == [(0, 8.0), (1, 4.0), (2, 2.0), (3, 1.0)]
    assert float(p.detach()) == 1.0
    assert [k for k, _ in step_loop(optimizer, evaluate, 2)] == [0, 1, 2]
    assert float(p.detach()) == 0.25  # two steps, not three


def test_outcome_rule_row_by_row_by_hand() -> None:
    nan, inf = float("nan"), float("inf")
    xy = torch.tensor([[0.0, 0.0], [nan, 0.0], [2e6, 0.0], [inf, 0.0], [1.0, 1.0], [0.0, 0.0]])
    f = torch.tensor([0.0, 0.0, 0.0, 0.0, 0.0, inf])
    grad = torch.tensor([[0.0, 1e-9], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [3e-5, 4e-5], [0.0, 0.0]])
    non_finite, out = diverged_rows(xy, f, grad, 1e6)
    assert non_finite.tolist() == [False, True, False, True, False, True]
    assert out.tolist() == [False, False, True, True, False, False]  # NaN is never above
    # |(3e-5, 4e-5)| = 5e-5: converged at tol 5e-5 and 1e-4, not at 4e-5.
    assert converged_rows(grad, 5e-5).tolist()[4] and not converged_rows(grad, 4e-5).tolist()[4]
    assert converged_rows(grad, 1e-8).tolist() == [True, True, True, True, False, True]


def test_outcomes_only_batch_by_hand() -> None:
    # SGD lr 0.1 on x^2 - y^2: x <- 0.8 x, y <- 1.2 y. From (1, 0) the path converges toward
    # the saddle; from (1, 1) |y| = 1.2^k passes the bound 100 at k = 26 (1.2^26 = 114).
    starts = torch.tensor([[1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    settings = RunSettings(lr=0.1, steps=40, bound=100.0, tol=1e-12)
    calls: list[tuple[int, int]] = []
    end = descend_to_end(
        lambda x, y: x**2 - y**2, starts, settings, check_every=10,
        progress=lambda done, total: calls.append((done, total)) is None,
    )
    assert end.diverged.tolist() == [False, True]  # seen at the check of step 30
    assert end.steps_run == 40 and calls == [(0, 40), (10, 40), (20, 40), (30, 40), (40, 40)]
    assert end.points[0].tolist() == pytest.approx([0.8**40, 0.0], rel=1e-12)
    assert end.f[0].item() == pytest.approx(0.8**80, rel=1e-12)
    # The same rule as the recorded run: that path diverged out of bounds at step 26.
    run = run_descent(lambda x, y: x**2 - y**2, starts.numpy(), settings)
    assert run.outcome(1).status is Status.DIVERGED and run.outcome(1).steps == 26
    assert run.outcome(1).reason is Reason.OUT_OF_BOUNDS

    with pytest.raises(Cancelled):
        descend_to_end(
            lambda x, y: x**2 - y**2, starts, settings, progress=lambda done, total: done < 5
        )
