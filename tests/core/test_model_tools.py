"""The point analyses, the race, the sweep and the basin map on a model on data (issue 15).

The golden values are worked out in numpy from the data, never by the code under test: for the
linear model mean((w x + b - y)^2) the gradient is 2 [mean(r x), mean(r)] with r = w x + b - y,
the Hessian is 2 [[mean x^2, mean x], [mean x, 1]], and the best fit is numpy's lstsq.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.analysis import directional_derivatives, gradient_field, hessian_report
from explorer.core.basin import basin_map
from explorer.core.descent import run_descent
from explorer.core.gradient import (
    autograd_gradient,
    expression_of,
    gradient_report,
    objective_of,
    point_note,
)
from explorer.core.landscape import FunctionLandscape
from explorer.core.model_landscape import ModelLandscape
from explorer.core.models import get_model
from explorer.core.presets import get_preset
from explorer.core.race import RaceEntry, landscape_minima, leaderboard
from explorer.core.stability import stability_note, stable_lr
from explorer.core.sweep import lr_sweep
from explorer.core.trajectory import RunSettings, Status
from explorer.io.dataset_csv import Dataset, bundled_datasets, load_dataset


def regression() -> ModelLandscape:
    """linear on the bundled regression set."""
    spec = get_model("linear")
    return ModelLandscape(spec, load_dataset(bundled_datasets()["regression"], spec))


LINEAR = regression()
X, Y = LINEAR.data.x, LINEAR.data.y


def numpy_gradient(w: float, b: float) -> tuple[float, float]:
    """The linear loss's gradient by its formula."""
    r = w * X + b - Y
    return 2.0 * float(np.mean(r * X)), 2.0 * float(np.mean(r))


def numpy_hessian() -> np.ndarray:
    """The linear loss's (constant) Hessian by its formula."""
    return 2.0 * np.array([[np.mean(X * X), np.mean(X)], [np.mean(X), 1.0]])


def numpy_lstsq() -> tuple[float, float]:
    (w, b), *_ = np.linalg.lstsq(np.column_stack((X, np.ones_like(X))), Y, rcond=None)
    return float(w), float(b)


NUMPY_LR_MAX = 2.0 / float(np.linalg.eigvalsh(numpy_hessian())[-1])


def test_the_objective_of_a_model_is_its_full_data_loss() -> None:
    assert objective_of(LINEAR) == LINEAR.objective
    assert expression_of(LINEAR) is None
    function = FunctionLandscape.from_preset(get_preset("himmelblau"))
    assert expression_of(function) is function.expression
    assert expression_of(function.expression) is function.expression


@pytest.mark.parametrize("point", [(0.0, 0.0), (1.5, -2.0), (-3.0, 4.0)])
def test_gradient_on_linear_equals_the_numpy_formula(point: tuple[float, float]) -> None:
    f, gx, gy = autograd_gradient(LINEAR, *point)
    w, b = point
    assert f == pytest.approx(float(np.mean((w * X + b - Y) ** 2)), rel=1e-12)
    assert (gx, gy) == pytest.approx(numpy_gradient(w, b), rel=1e-10, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3))
def test_gradient_anywhere_matches_the_formula(w: float, b: float) -> None:
    _, gx, gy = autograd_gradient(LINEAR, w, b)
    expected = numpy_gradient(w, b)
    scale = max(1.0, abs(expected[0]), abs(expected[1]))
    assert abs(gx - expected[0]) <= 1e-9 * scale
    assert abs(gy - expected[1]) <= 1e-9 * scale


def test_gradient_report_of_a_model_has_no_formula() -> None:
    report = gradient_report(LINEAR, 0.5, 0.25)
    assert report.has_formula is False
    assert report.symbolic == ("", "") and report.symbolic_values == (None, None)
    assert report.grad == pytest.approx(numpy_gradient(0.5, 0.25), rel=1e-10)
    assert report.undefined is None
    function = FunctionLandscape.from_preset(get_preset("himmelblau"))
    expression_report = gradient_report(function, 1.0, 1.0)
    assert expression_report.has_formula is True and all(expression_report.symbolic)


def test_hessian_on_linear_equals_the_numpy_formula() -> None:
    report = hessian_report(LINEAR, 0.3, -0.7)
    assert np.array(report.hessian) == pytest.approx(numpy_hessian(), rel=1e-12)
    assert report.eigenvalues == pytest.approx(np.linalg.eigvalsh(numpy_hessian()), rel=1e-10)
    assert report.lr_max == pytest.approx(NUMPY_LR_MAX, rel=1e-12)
    assert stable_lr(LINEAR, 0.3, -0.7) == pytest.approx(NUMPY_LR_MAX, rel=1e-12)


@pytest.mark.parametrize("name", ["logistic", "neuron", "deeplinear"])
def test_hessian_of_the_other_models_by_central_differences(name: str) -> None:
    spec = get_model(name)
    data_name = "classification" if name == "logistic" else "plateau"
    landscape = ModelLandscape(spec, load_dataset(bundled_datasets()[data_name], spec))
    p = np.array([0.4, -0.3])
    h = 1e-4
    numeric = np.empty((2, 2))
    for j in range(2):
        step = np.zeros(2)
        step[j] = h
        up = np.array(autograd_gradient(landscape, *(p + step))[1:])
        down = np.array(autograd_gradient(landscape, *(p - step))[1:])
        numeric[:, j] = (up - down) / (2 * h)
    report = hessian_report(landscape, *p)
    assert np.array(report.hessian) == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_slopes_and_field_on_linear() -> None:
    slopes = directional_derivatives(LINEAR, 1.0, 2.0, [0.0, math.pi / 2])
    assert slopes.slopes == pytest.approx(numpy_gradient(1.0, 2.0), rel=1e-10)
    whole = gradient_field(LINEAR, LINEAR.domain, 7)
    chunked = gradient_field(LINEAR, LINEAR.domain, 7, chunk=5)
    assert len(whole) == 49
    np.testing.assert_allclose(chunked.u, whole.u, rtol=1e-12)
    np.testing.assert_allclose(chunked.magnitude, whole.magnitude, rtol=1e-12)
    for i in (0, 20, 48):
        expected = numpy_gradient(float(whole.x[i]), float(whole.y[i]))
        assert whole.magnitude[i] == pytest.approx(math.hypot(*expected), rel=1e-10)


@pytest.mark.parametrize("chunk", [0, -1, -(10**18)])
def test_field_refuses_no_points_per_pass(chunk: int) -> None:
    with pytest.raises(ValueError, match="at least one point"):
        gradient_field(LINEAR, LINEAR.domain, 5, chunk=chunk)


def test_field_with_enormous_chunk_is_one_pass() -> None:
    field = gradient_field(LINEAR, LINEAR.domain, 5, chunk=10**18)
    assert len(field) == 25


def test_a_model_whose_loss_overflows_says_so_in_words() -> None:
    spec = get_model("linear")
    huge = ModelLandscape(
        spec,
        Dataset(np.array([1e300, -1e300]), np.array([1e300, 1.0]), "huge", None, ""),
        domain=(-1.0, 1.0, -1.0, 1.0),
    )
    report = gradient_report(huge, 0.0, 1e300)
    assert report.has_formula is False
    assert not math.isfinite(report.f)
    assert report.undefined is not None and "loss is not a finite number" in report.undefined
    assert "not a finite number" in point_note(huge, (0.0, 1e300))
    assert "not a finite number" in stability_note(huge, (0.0, 1e300), 0.1)
    assert hessian_report(huge, 0.0, 1e300).lr_max is None


def test_sweep_on_linear_diverges_exactly_above_the_numpy_limit() -> None:
    factors = np.array([0.5, 0.9, 0.99, 1.01, 1.1, 2.0])
    lrs = NUMPY_LR_MAX * factors
    entries = lr_sweep(LINEAR.objective, (0.0, 0.0), RunSettings(steps=3000, tol=1e-10), lrs)
    for factor, entry in zip(factors, entries, strict=True):
        assert (entry.status is Status.DIVERGED) == (factor > 1.0), (factor, entry.status)


def test_race_on_linear_reaches_lstsq_and_measures_against_it() -> None:
    minima = landscape_minima(LINEAR)
    w, b = numpy_lstsq()
    assert len(minima) == 1 and (minima[0].x, minima[0].y) == pytest.approx((w, b), rel=1e-12)
    entries = [RaceEntry("sgd", 0.9 * NUMPY_LR_MAX), RaceEntry("adam", 0.05)]
    base = RunSettings(steps=5000, tol=1e-10)
    starts = np.array([[-2.0, 3.0], [1.0, -1.0]])
    paths = [
        run_descent(LINEAR.objective, starts, e.settings(base)).trajectories() for e in entries
    ]
    board = leaderboard(entries, paths, base.tol, minima)
    best = board[0]
    assert best.distance is not None and best.distance < 1e-6
    for trajectory in paths[entries.index(best.entry)]:
        assert trajectory.end == pytest.approx((w, b), abs=1e-6)


def test_landscape_minima_of_a_function_and_of_other_models() -> None:
    himmelblau = get_preset("himmelblau")
    function = FunctionLandscape.from_preset(himmelblau)
    bare = FunctionLandscape(function.expression, function.domain, "bare")
    assert landscape_minima(function) == tuple(himmelblau.minima)
    assert landscape_minima(bare) == tuple(himmelblau.minima)  # found by its formula
    assert landscape_minima(None) == ()
    spec = get_model("neuron")
    neuron = ModelLandscape(spec, load_dataset(bundled_datasets()["plateau"], spec))
    assert landscape_minima(neuron) == ()


def test_basin_map_on_linear_has_one_minimum_at_lstsq() -> None:
    settings_ = RunSettings(lr=0.5 * NUMPY_LR_MAX, steps=3000, tol=1e-9)
    result = basin_map(
        LINEAR.objective, LINEAR.domain, settings_, n=12, known_minima=landscape_minima(LINEAR)
    )
    assert len(result.minima) == 1
    (only,) = result.minima
    assert (only.x, only.y) == pytest.approx(numpy_lstsq(), abs=1e-6)
    assert only.share == 1.0 and result.global_share == 1.0
    assert result.matches_known is True


def test_the_objective_is_batched_as_the_tools_need() -> None:
    points = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    values = LINEAR.objective(points[:, 0], points[:, 1])
    assert values.shape == (2,)
