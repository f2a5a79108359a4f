"""core.fitting: the exact minibatch rule replayed by hand, convergence, outcomes (issue 15)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.budget import MAX_STEPS, BudgetError
from explorer.core.fitting import FitError, FitSettings, fit, minibatches
from explorer.core.model_landscape import ModelLandscape
from explorer.core.models import get_model
from explorer.core.optimizers import REGISTRY, OptimizerError
from explorer.io.dataset_csv import Dataset

RNG = np.random.default_rng(11)
N = 50
X = RNG.uniform(-2.0, 2.0, N)
Y = 1.2 * X - 0.4 + RNG.normal(0.0, 0.3, N)
LABELS = (RNG.random(N) < 1 / (1 + np.exp(-2 * X))).astype(float)


def landscape(
    name: str = "linear", x: np.ndarray = X, y: np.ndarray | None = None
) -> ModelLandscape:
    if y is None:
        y = LABELS if name == "logistic" else Y
    return ModelLandscape(get_model(name), Dataset(x, y, "test", None, ""))


def hand_loss(name: str, w: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor
              ) -> torch.Tensor:
    """The issue's table, written again here in torch."""
    if name == "linear":
        return ((w * x + b - y) ** 2).mean()
    z = w * x + b
    return (torch.log1p(torch.exp(-z.abs())) + z.clamp(min=0) - y * z).mean()


def replay(name: str, optimizer: str, lr: float, batch: int, epochs: int, seed: int,
           start: tuple[float, float], y: np.ndarray) -> Iterator[tuple[np.ndarray, float]]:
    """The issue's rule by hand: numpy's generator, torch.optim, one step per batch."""
    rng = np.random.default_rng(seed)
    xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.tensor(start[0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(start[1], dtype=torch.float64, requires_grad=True)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer]
    saved = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # Adam's step count in float64, as the app keeps it
    try:
        opt = cls([w, b], lr=lr)
        for _ in range(epochs):
            perm = rng.permutation(N)
            for i in range(0, N, batch):
                rows = torch.from_numpy(perm[i : i + batch])
                opt.zero_grad()
                loss = hand_loss(name, w, b, xt[rows], yt[rows])
                loss.backward()
                opt.step()
                yield np.array([w.item(), b.item()]), loss.item()
    finally:
        torch.set_default_dtype(saved)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", ["linear", "logistic"])
def test_minibatch_fit_matches_a_replay_by_hand_at_every_step(optimizer: str, name: str) -> None:
    batch, epochs, seed, start, lr = 16, 4, 3, (-1.0, 2.0), 0.05  # 50 rows: last batch of 2
    result = fit(landscape(name), start, FitSettings(optimizer, lr, batch_size=batch,
                                                     epochs=epochs, seed=seed, tol=0.0))
    expected = list(replay(name, optimizer, lr, batch, epochs, seed, start,
                           LABELS if name == "logistic" else Y))
    assert result.steps == len(expected) == epochs * math.ceil(N / batch)
    assert result.status == "done" and result.epochs_done == epochs
    np.testing.assert_array_equal(result.params[0], start)
    assert math.isnan(result.batch_loss[0])
    for k, (params, loss) in enumerate(expected, start=1):
        np.testing.assert_allclose(result.params[k], params, rtol=0, atol=1e-10)
        assert abs(result.batch_loss[k] - loss) <= 1e-10
    assert [len(rows) for rows in result.batches[:4]] == [16, 16, 16, 2]


def test_losses_per_row_are_the_full_data_and_the_batch_loss() -> None:
    result = fit(landscape(), (0.5, 0.5), FitSettings("momentum", 0.02, batch_size=7, epochs=2))
    for k in range(result.steps + 1):
        w, b = result.params[k]
        assert result.loss[k] == pytest.approx(np.mean((w * X + b - Y) ** 2), rel=1e-10)
        if k:
            rows = result.batches[k - 1]
            w0, b0 = result.params[k - 1]
            by_hand = np.mean((w0 * X[rows] + b0 - Y[rows]) ** 2)
            assert result.batch_loss[k] == pytest.approx(by_hand, rel=1e-12)


def test_full_batch_sgd_converges_to_lstsq() -> None:
    expected = np.linalg.lstsq(np.column_stack((X, np.ones(N))), Y, rcond=None)[0]
    result = fit(landscape(), (0.0, 0.0), FitSettings("sgd", 0.2, epochs=5000, tol=1e-12))
    assert result.status == "converged", result.reason
    assert result.steps < 5000 and result.epochs_done == result.steps
    np.testing.assert_allclose(result.params[-1], expected, rtol=0, atol=1e-8)
    # Full batch: every step's batch is every row, in a fresh permutation each time.
    assert all(sorted(rows.tolist()) == list(range(N)) for rows in result.batches)


def test_lbfgs_full_batch_converges_with_its_closure_on_the_batch() -> None:
    result = fit(landscape("logistic"), (0.0, 0.0), FitSettings("lbfgs", 1.0, epochs=20, tol=1e-5))
    assert result.status == "converged", result.reason
    # The first batch loss is the loss at the start: log 2 for logistic at (0, 0).
    assert result.batch_loss[1] == pytest.approx(math.log(2.0), rel=1e-12)


@pytest.mark.parametrize("optimizer", list(REGISTRY))
def test_every_optimiser_fits(optimizer: str) -> None:
    lr = REGISTRY[optimizer].default_lr * 0.1
    result = fit(landscape("neuron"), (0.0, 0.0), FitSettings(optimizer, lr, batch_size=13,
                                                               epochs=2, seed=1))
    assert result.steps == 2 * 4 and result.status in ("done", "converged")
    assert np.isfinite(result.params).all() and np.isfinite(result.loss).all()
    assert result.loss.shape == result.batch_loss.shape == (result.steps + 1,)
    assert len(result.batches) == result.steps


def test_divergence_ends_the_path_at_the_row_with_the_reason() -> None:
    result = fit(landscape(), (0.0, 0.0), FitSettings("sgd", 5.0, epochs=200, bound=1e6))
    assert result.status == "diverged"
    last = result.params[-1]
    assert max(abs(last)) > 1e6 and np.abs(result.params[:-1]).max() <= 1e6
    which = "w" if abs(last[0]) > 1e6 else "b"
    assert result.reason == f"diverged at step {result.steps}: |{which}| > 1e6"
    assert len(result.batches) == result.steps


def test_non_finite_divergence() -> None:
    result = fit(landscape(), (0.0, 0.0), FitSettings("sgd", 1e200, epochs=50, bound=1e308))
    assert result.status == "diverged" and "NaN or infinite" in result.reason
    assert not np.isfinite(result.loss[-1]) or not np.isfinite(result.params[-1]).all()


def test_should_stop_and_progress() -> None:
    calls: list[int] = []
    asked = iter(range(1000))
    result = fit(landscape(), (0.0, 0.0), FitSettings("sgd", 0.01, batch_size=1, epochs=30),
                 should_stop=lambda: next(asked) >= 75, on_progress=calls.append)
    assert result.status == "stopped" and result.steps == 75
    assert result.reason == "stopped at step 75" and result.epochs_done == 1
    assert calls == [50]  # the end of the first epoch


def test_minibatches_rule() -> None:
    batches = minibatches(np.random.default_rng(4), 10, 4)
    perm = np.random.default_rng(4).permutation(10)
    assert [b.tolist() for b in batches] == [perm[:4].tolist(), perm[4:8].tolist(),
                                             perm[8:].tolist()]
    (whole,) = minibatches(np.random.default_rng(4), 10, None)
    assert whole.tolist() == perm.tolist()
    assert [len(b) for b in minibatches(np.random.default_rng(0), 3, 100)] == [3]


def test_zero_epochs_is_the_start() -> None:
    result = fit(landscape(), (1.0, 2.0), FitSettings("sgd", 0.1, epochs=0))
    assert result.steps == 0 and result.status == "done" and result.batches == []
    assert result.loss[0] == pytest.approx(np.mean((X + 2 - Y) ** 2))


@settings(max_examples=40, deadline=None)
@given(
    field=st.sampled_from(["batch_size", "epochs", "seed", "tol", "bound"]),
    value=st.one_of(st.integers(-10**30, 0), st.floats(allow_nan=True), st.text(max_size=5),
                    st.booleans(), st.none()),
)
def test_hostile_settings_are_refused(field: str, value: object) -> None:
    kwargs: dict[str, object] = {"epochs": 1, field: value}
    ok = (field == "batch_size" and value is None) or (
        field in ("epochs", "seed") and type(value) is int and value == 0) or (
        field == "tol" and type(value) in (int, float) and 0 <= value < math.inf) or (
        field == "bound" and type(value) in (int, float) and 0 < value < math.inf)
    if ok:
        return
    with pytest.raises((FitError, BudgetError)):
        fit(landscape(), (0.0, 0.0), FitSettings("sgd", 0.1, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("start", [(math.nan, 0.0), (0.0, math.inf), (1.0,), ("a", 1.0)])
def test_bad_starts_are_refused(start: tuple[float, float]) -> None:
    with pytest.raises(FitError):
        fit(landscape(), start, FitSettings("sgd", 0.1))


def test_budget_and_optimizer_errors() -> None:
    with pytest.raises(BudgetError, match="limit"):
        fit(landscape(), (0.0, 0.0), FitSettings("sgd", 0.1, batch_size=1, epochs=MAX_STEPS))
    with pytest.raises(BudgetError, match="row evaluations"):
        big = np.linspace(-1, 1, 100_000)
        fit(landscape("neuron", big, big), (0.0, 0.0),
            FitSettings("sgd", 0.1, batch_size=1000, epochs=1000))
    with pytest.raises(BudgetError, match="row indices"):
        fit(landscape("neuron", big, big), (0.0, 0.0), FitSettings("sgd", 0.1, epochs=2000))
    with pytest.raises(OptimizerError):
        fit(landscape(), (0.0, 0.0), FitSettings("sgd", -1.0))
    with pytest.raises(OptimizerError):
        fit(landscape(), (0.0, 0.0), FitSettings("adam", 0.1, params=(("betas", 3.0),)))


def test_a_start_at_the_minimum_converges_at_step_0() -> None:
    best = np.linalg.lstsq(np.column_stack((X, np.ones(N))), Y, rcond=None)[0]
    result = fit(landscape(), (float(best[0]), float(best[1])),
                 FitSettings("sgd", 0.1, batch_size=5, tol=1e-9))
    assert result.status == "converged" and result.steps == 0 and result.epochs_done == 0


@pytest.mark.parametrize("name", ["linear", "neuron", "deeplinear"])
def test_data_near_float64s_limit_diverges_at_the_start(name: str) -> None:
    x, y = np.array([1e300, -1e300, 3.0]), np.array([1e300, 0.0, 1.0])
    model_landscape = landscape(name, x, y)  # no overflow warning (warnings are errors here)
    assert model_landscape.known_minima == ()
    assert model_landscape.grid(4).finite_fraction == 0.0
    start = get_model(name).default_start
    result = fit(model_landscape, start, FitSettings("adam", 0.1, batch_size=2, epochs=3))
    assert result.status == "diverged" and result.steps == 0
    assert result.reason == "diverged at step 0: a value became NaN or infinite"
    assert result.batches == [] and result.params.shape == (1, 2)
