"""deeplinear's map: the saddle at the origin, the default start and the valley of minima
w1 * w2 = c all in view, whatever the data (issue 15)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.model_landscape import ModelLandscape
from explorer.core.models import get_model
from explorer.io.dataset_csv import Dataset, bundled_datasets, load_dataset


def _inside(domain: tuple[float, float, float, float], point: tuple[float, float]) -> bool:
    xmin, xmax, ymin, ymax = domain
    return xmin < point[0] < xmax and ymin < point[1] < ymax


def test_bundled_regression_shows_the_saddle_the_start_and_the_valley() -> None:
    model = get_model("deeplinear")
    data = load_dataset(bundled_datasets()["regression"], model)
    landscape = ModelLandscape(model, data)
    # The valley's product by numpy: the least-squares slope of a line through the origin.
    c = float(data.x @ data.y / (data.x @ data.x))
    root = math.sqrt(abs(c))
    sign = 1.0 if c >= 0 else -1.0
    domain = landscape.domain
    for point in [(0.0, 0.0), model.default_start, (root, sign * root), (-root, -sign * root)]:
        assert _inside(domain, point), (point, domain)
    # Both branches of w1 * w2 = c cross the map: a stretch of each is drawn.
    xmin, xmax, ymin, ymax = domain
    w1 = np.linspace(xmin, xmax, 401)
    w1 = w1[w1 != 0.0]
    on_map = (c / w1 > ymin) & (c / w1 < ymax)
    assert on_map[w1 > 0].mean() > 0.4 and on_map[w1 < 0].mean() > 0.4
    # The grid reaches down into the valley: its lowest value is close to the least loss.
    least = float(np.mean(data.y**2) - np.mean(data.x * data.y) ** 2 / np.mean(data.x**2))
    grid = landscape.grid(64)
    at_start = float(landscape.losses(np.array([model.default_start]))[0])
    assert least <= grid.z_min < least + 0.02 * (at_start - least)


finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=30),
       st.sampled_from([1e-200, 1e-3, 1.0, 1e3, 1e150]))
def test_any_data_gives_a_square_about_the_saddle_holding_the_start(
        rows: list[tuple[float, float]], scale: float) -> None:
    model = get_model("deeplinear")
    with np.errstate(all="ignore"):
        xy = np.array(rows, dtype=np.float64) * scale
    data = Dataset(xy[:, 0].copy(), xy[:, 1].copy(), "hostile", None, "")
    with np.errstate(all="ignore"):
        landscape = ModelLandscape(model, data)
    xmin, xmax, ymin, ymax = landscape.domain
    assert all(math.isfinite(v) for v in landscape.domain)
    assert xmin < xmax and ymin < ymax
    assert _inside(landscape.domain, model.default_start)
    with np.errstate(all="ignore"):
        c = float(np.mean(data.x * data.y) / np.mean(data.x**2)) if np.any(data.x) else 0.0
    if math.isfinite(c) and abs(c) < 1e200:
        # Unless the data overflow, the square is centred on the saddle and holds the valley.
        assert (xmin, ymin) == (-xmax, -ymax)
        root = math.sqrt(abs(c))
        assert _inside(landscape.domain, (root, math.copysign(root, c)))


@pytest.mark.parametrize("name", ["linear", "logistic", "neuron"])
def test_other_models_keep_their_domain_rule(name: str) -> None:
    # Only deeplinear's map changed: the others are still centred on their fit, not the origin.
    model = get_model(name)
    data = load_dataset(bundled_datasets()["classification" if name == "logistic"
                                           else "regression"], model)
    xmin, xmax, ymin, ymax = ModelLandscape(model, data).domain
    assert (xmin, ymin) != (-xmax, -ymax)
