"""The models' losses against their formulas by hand, and ModelLandscape (issue 15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.core.landscape import Landscape
from explorer.core.model_landscape import ModelLandscape
from explorer.core.models import MODELS, ModelError, get_model
from explorer.io.dataset_csv import Dataset, bundled_datasets, load_dataset

RNG = np.random.default_rng(7)
X = RNG.normal(0.0, 2.0, 50)
Y = 0.8 * X - 0.3 + RNG.normal(0.0, 0.5, 50)
LABELS = (RNG.random(50) < 0.5).astype(float)
POINTS = [(0.0, 0.0), (1.3, -0.4), (-2.0, 3.5), (25.0, -40.0)]


def by_hand(name: str, a: float, b: float, x: np.ndarray, y: np.ndarray) -> float:
    """Each model's loss written out in numpy from the issue's table."""
    if name == "linear":
        return float(np.mean((a * x + b - y) ** 2))
    if name == "logistic":
        z = a * x + b
        return float(np.mean(np.logaddexp(0.0, z) - y * z))
    if name == "neuron":
        return float(np.mean((1.0 / (1.0 + np.exp(-(a * x + b))) - y) ** 2))
    return float(np.mean((b * a * x - y) ** 2))


def data_for(name: str) -> Dataset:
    y = LABELS if name == "logistic" else Y
    return Dataset(X, y, "test", None, "")


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("point", POINTS)
def test_loss_equals_the_formula_by_hand(name: str, point: tuple[float, float]) -> None:
    model, data = get_model(name), data_for(name)
    x, y = torch.from_numpy(data.x), torch.from_numpy(data.y)
    t = torch.tensor(point, dtype=torch.float64)
    scalar = model.loss(t[0], t[1], x, y)
    assert scalar.shape == ()
    assert float(scalar) == pytest.approx(by_hand(name, *point, data.x, data.y), rel=1e-12)


@pytest.mark.parametrize("name", list(MODELS))
def test_loss_is_batched_over_points_and_differentiable(name: str) -> None:
    model, data = get_model(name), data_for(name)
    p = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
    values = model.loss(p[:, 0], p[:, 1], torch.from_numpy(data.x), torch.from_numpy(data.y))
    assert values.shape == (len(POINTS),)
    values.sum().backward()
    assert p.grad is not None and torch.isfinite(p.grad).all()
    # The derivative by central differences of the formula by hand, at one point.
    h, (a, b) = 1e-6, POINTS[1]
    numeric = (by_hand(name, a + h, b, data.x, data.y) - by_hand(name, a - h, b, data.x, data.y))
    assert float(p.grad[1, 0]) == pytest.approx(numeric / (2 * h), rel=1e-6, abs=1e-9)


def test_logistic_loss_is_finite_far_out_and_exact_at_zero() -> None:
    model = get_model("logistic")
    x, y = torch.tensor([1.0, 1.0]), torch.tensor([0.0, 1.0])
    far = model.loss(torch.tensor(1e4), torch.tensor(0.0), x, y)
    assert float(far) == pytest.approx((1e4 + 0.0) / 2)  # softplus(z) ~ z; label 1 cancels it
    one, zero = torch.tensor([1.0], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64)
    for z in (-800.0, -30.0, -1e-3, 19.0, 21.0, 39.0, 41.0, 700.0):
        value = float(model.loss(torch.tensor(z, dtype=torch.float64), zero[0], one, zero))
        assert value == pytest.approx(float(np.logaddexp(0.0, z)), rel=1e-15, abs=1e-300)
    w = torch.tensor(0.0, requires_grad=True)
    model.loss(w, torch.tensor(0.0), x, y).backward()
    # d/dw mean(softplus(w x) - label w x) at 0 = mean(x (0.5 - label)) = 0.
    assert w.grad is not None and float(w.grad) == 0.0


@pytest.mark.parametrize("name", list(MODELS))
def test_predict_is_the_model_curve(name: str) -> None:
    model = get_model(name)
    xs = np.linspace(-3, 3, 7)
    a, b = 0.7, -0.2
    expected = {
        "linear": a * xs + b,
        "logistic": 1 / (1 + np.exp(-(a * xs + b))),
        "neuron": 1 / (1 + np.exp(-(a * xs + b))),
        "deeplinear": b * a * xs,
    }[name]
    np.testing.assert_allclose(model.predict(a, b, xs), expected, rtol=1e-13)
    far = model.predict(1e300, 1e300, xs)  # no warning (warnings are errors here)
    assert far.shape == xs.shape
    assert np.isfinite(far).all() or name in ("linear", "deeplinear")


def test_model_table() -> None:
    assert get_model("deeplinear").default_start == (0.5, -0.5)
    assert get_model("deeplinear").params == ("w1", "w2")
    assert get_model("logistic").columns == ("x", "label")
    assert all(MODELS[n].default_start == (0.0, 0.0) for n in ("linear", "logistic", "neuron"))


@pytest.mark.parametrize("bad", ["", "Linear", "svm", "x" * 1000, None, 3])
def test_unknown_model_lists_the_names(bad: object) -> None:
    with pytest.raises(ModelError) as info:
        get_model(bad)  # type: ignore[arg-type]
    assert all(name in str(info.value) for name in MODELS) and len(str(info.value)) < 200


# --- ModelLandscape -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODELS))
def test_landscape_objective_is_the_full_data_loss(name: str) -> None:
    model, data = get_model(name), data_for(name)
    landscape = ModelLandscape(model, data)
    assert isinstance(landscape, Landscape)
    p = torch.tensor(POINTS, dtype=torch.float64)
    full = landscape.objective(p[:, 0], p[:, 1])
    expected = [by_hand(name, a, b, data.x, data.y) for a, b in POINTS]
    np.testing.assert_allclose(full.numpy(), expected, rtol=1e-11)
    np.testing.assert_allclose(landscape.loss(p).numpy(), expected, rtol=1e-11)
    np.testing.assert_allclose(landscape.losses(np.array(POINTS)), expected, rtol=1e-11)
    rows = np.array([3, 1, 4, 1, 5])
    batch = landscape.batch_objective(rows)(p[:, 0], p[:, 1])
    by_rows = [by_hand(name, a, b, data.x[rows], data.y[rows]) for a, b in POINTS]
    np.testing.assert_allclose(batch.numpy(), by_rows, rtol=1e-12)


@pytest.mark.parametrize("name", list(MODELS))
def test_grid_and_domain(name: str) -> None:
    model, data = get_model(name), data_for(name)
    landscape = ModelLandscape(model, data)
    xmin, xmax, ymin, ymax = landscape.domain
    start = model.default_start
    assert xmin < start[0] < xmax and ymin < start[1] < ymax
    grid = landscape.grid(9)
    assert grid.z.shape == (9, 9)
    i, j = 3, 6
    assert grid.z[i, j] == pytest.approx(
        by_hand(name, grid.xs[i], grid.ys[j], data.x, data.y), rel=1e-10
    )
    assert grid.z_min == pytest.approx(np.nanmin(grid.z))


def test_linear_best_fit_is_lstsq_and_its_known_minimum() -> None:
    landscape = ModelLandscape(get_model("linear"), data_for("linear"))
    design = np.column_stack((X, np.ones_like(X)))
    expected = np.linalg.lstsq(design, Y, rcond=None)[0]
    best = landscape.best_fit()
    assert best is not None
    np.testing.assert_allclose(best, expected, rtol=1e-12)
    (minimum,) = landscape.known_minima
    assert minimum.f == pytest.approx(by_hand("linear", *expected, X, Y), rel=1e-10)
    xmin, xmax, ymin, ymax = landscape.domain
    assert xmin < best[0] < xmax and ymin < best[1] < ymax
    assert ModelLandscape(get_model("neuron"), data_for("neuron")).best_fit() is None
    assert ModelLandscape(get_model("neuron"), data_for("neuron")).known_minima == ()


def test_linear_loss_from_sums_keeps_its_digits_near_the_minimum() -> None:
    # Data far from the origin: expanding the square in raw sums would cancel every digit.
    x = 1e6 + np.arange(100.0)
    y = 3.0 * x + 2.0 + np.where(np.arange(100) % 2 == 0, 1e-3, -1e-3)
    landscape = ModelLandscape(get_model("linear"), Dataset(x, y, "far", None, ""))
    best = landscape.best_fit()
    assert best is not None
    direct = by_hand("linear", *best, x, y)
    assert landscape.losses(np.array([best]))[0] == pytest.approx(direct, rel=1e-3)


def test_bundled_sets_load_for_their_models() -> None:
    bundled = bundled_datasets()
    assert set(bundled) >= {"regression", "classification", "plateau"}
    for name, model in (("regression", "linear"), ("classification", "logistic"),
                        ("plateau", "neuron")):
        data = load_dataset(bundled[name], get_model(model))
        assert data.n >= 100 and data.name == name and isinstance(data.path, Path)
    labels = load_dataset(bundled["classification"], get_model("logistic")).y
    assert set(np.unique(labels)) == {0.0, 1.0}


def test_plateau_set_stalls_plain_sgd_but_not_adam() -> None:
    from explorer.core.fitting import FitSettings, fit

    neuron = get_model("neuron")
    landscape = ModelLandscape(neuron, load_dataset(bundled_datasets()["plateau"], neuron))
    sgd = fit(landscape, (0.0, 0.0), FitSettings("sgd", 0.05, epochs=2000, tol=0.0))
    adam = fit(landscape, (0.0, 0.0), FitSettings("adam", 0.1, epochs=2000, tol=0.0))
    assert sgd.status == adam.status == "done"
    assert sgd.loss[-1] > 0.85 * sgd.loss[0]  # 2000 steps: under 15% off the start's loss
    assert adam.loss[-1] < 0.05 * adam.loss[0]
