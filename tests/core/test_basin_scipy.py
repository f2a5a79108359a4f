"""Basin maps with scipy.optimize methods (issue 16): one minimize per start, ends judged by the
engine's rule, grouped as for torch runs; progress counts starts and can cancel."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import torch

from explorer.core.basin import DIVERGED, BasinCancelled, BasinError, basin_map
from explorer.core.basin_scipy import scipy_ends
from explorer.core.trajectory import RunSettings


def himmelblau(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def himmelblau_np(p: np.ndarray) -> float:
    x, y = p
    return float((x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2)


def himmelblau_grad(p: np.ndarray) -> np.ndarray:
    # Worked by hand: d/dx = 4x(x^2 + y - 11) + 2(x + y^2 - 7), d/dy = 2(x^2 + y - 11) + 4y(...).
    x, y = p
    a, b = x**2 + y - 11, x + y**2 - 7
    return np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b])


@pytest.mark.parametrize(
    ("method", "scipy_name"), [("bfgs", "BFGS"), ("nelder-mead", "Nelder-Mead")]
)
def test_each_start_is_labelled_with_where_scipy_takes_it(method: str, scipy_name: str) -> None:
    n = 5
    result = basin_map(himmelblau, (-5, 5, -5, 5), RunSettings(optimizer=method, steps=200), n=n)
    assert result.diverged_count == 0
    span = 10.0
    for ix, x in enumerate(result.xs):
        for iy, y in enumerate(result.ys):
            jac = himmelblau_grad if scipy_name == "BFGS" else None
            direct = scipy.optimize.minimize(
                himmelblau_np, np.array([x, y]), method=scipy_name, jac=jac, tol=1e-8,
                options={"maxiter": 200},
            )
            assert result.ends[ix, iy] == pytest.approx(direct.x, abs=1e-8)
            label = int(result.labels[ix, iy])
            assert label >= 0
            m = result.minima[label]
            assert math.hypot(m.x - direct.x[0], m.y - direct.x[1]) <= 0.01 * span


def test_progress_counts_starts_and_cancels_between_them() -> None:
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        seen.append((done, total))
        return done < 3

    with pytest.raises(BasinCancelled):
        basin_map(himmelblau, (-5, 5, -5, 5), RunSettings(optimizer="bfgs"), n=4, progress=progress)
    assert seen == [(0, 16), (1, 16), (2, 16), (3, 16)]


def test_ends_beyond_the_bound_or_not_finite_are_diverged() -> None:
    # f = x - y falls without end: BFGS's line searches leave any bound.
    settings = RunSettings(optimizer="bfgs", steps=50, bound=100.0)
    result = basin_map(lambda x, y: x - y, (-1, 1, -1, 1), settings, n=3)
    assert (result.labels == DIVERGED).all() and result.diverged_share == 1.0
    starts = np.array([[0.0, 0.0], [1.0, 2.0]])
    ends = scipy_ends(lambda x, y: x - y, starts, settings)
    assert ends.diverged.all()


def test_a_scipy_map_runs_on_the_cpu_only() -> None:
    if torch.cuda.is_available():
        with pytest.raises(BasinError, match="CPU"):
            basin_map(himmelblau, (-1, 1, -1, 1), RunSettings(optimizer="cg"), n=2, device="cuda")
    else:
        with pytest.raises(BasinError, match="CUDA is not available"):
            basin_map(himmelblau, (-1, 1, -1, 1), RunSettings(optimizer="cg"), n=2, device="cuda")


def test_options_reach_scipy() -> None:
    # maxfev=5 stops Nelder-Mead long before the minimum: the ends stay near the starts.
    starts = np.array([[0.0, 0.0]])
    few = scipy_ends(
        himmelblau, starts, RunSettings.create({"maxfev": 5}, optimizer="nelder-mead", steps=500)
    )
    many = scipy_ends(himmelblau, starts, RunSettings(optimizer="nelder-mead", steps=500))
    assert few.f[0] > many.f[0] + 1.0


@pytest.mark.parametrize("method", ["cg", "bfgs", "l-bfgs-b", "newton-cg", "trust-ncg",
                                    "nelder-mead", "powell"])
def test_the_thin_path_a_map_uses_ends_where_the_whole_one_does(method: str) -> None:
    from explorer.core.scipy_methods import minimize

    whole = minimize(himmelblau, (0.5, -0.5), method, steps=100, tol=1e-8)
    thin = minimize(himmelblau, (0.5, -0.5), method, steps=100, tol=1e-8, whole_path=False)
    assert len(thin.trajectory.x) == min(2, len(whole.trajectory.x))
    assert thin.trajectory.start == whole.trajectory.start
    assert thin.trajectory.end == whole.trajectory.end
    assert thin.trajectory.f[-1] == whole.trajectory.f[-1]
    assert (thin.evaluations, thin.steps, thin.message) == (
        whole.evaluations, whole.steps, whole.message)
    assert thin.trajectory.status is whole.trajectory.status
    assert thin.trajectory.scipy is not None and whole.trajectory.scipy is not None
    assert np.array_equal(thin.trajectory.scipy.points, whole.trajectory.scipy.points)
