"""core.toy_data: the toy classification sets for networks (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.toy_data import (
    GENERATORS,
    MAX_NOISE,
    MAX_POINTS,
    ToyDataError,
    check_request,
    toy_data,
)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_every_set_is_standardised_with_balanced_labels(name: str) -> None:
    x, y = toy_data(name, 301, 0.1, 4)
    assert x.shape == (301, 2) and y.shape == (301,)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(x.std(axis=0), 1.0, rtol=1e-12)
    assert set(np.unique(y)) == {-1.0, 1.0}
    assert int((y == 1).sum()) == 151  # the first class gets the odd point


@pytest.mark.parametrize("name", list(GENERATORS))
def test_the_same_seed_gives_the_same_set_and_another_another(name: str) -> None:
    a = toy_data(name, 50, 0.1, 7)
    b = toy_data(name, 50, 0.1, 7)
    c = toy_data(name, 50, 0.1, 8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


def test_the_shapes_are_what_their_names_say() -> None:
    # Without noise: circles' classes have two radii, xor's labels are the sign of x*y.
    x, y = toy_data("circles", 200, 0.0, 0)
    radius = np.hypot(x[:, 0] - x[:, 0].mean(), x[:, 1] - x[:, 1].mean())
    assert radius[y > 0].min() > radius[y < 0].max()
    x, y = toy_data("xor", 200, 0.0, 0)
    raw_sign = np.sign(x[:, 0] + 0.0) * np.sign(x[:, 1])  # xor's quadrants survive centring
    assert (raw_sign == y).mean() > 0.9


def test_one_point_has_no_spread_and_stays_finite() -> None:
    x, y = toy_data("moons", 1, 0.5, 0)
    assert np.isfinite(x).all() and y.tolist() == [1.0]


@settings(max_examples=60, deadline=None)
@given(
    name=st.one_of(st.sampled_from(list(GENERATORS)), st.text(max_size=10), st.integers()),
    n=st.one_of(st.integers(-(10**20), 10**20), st.floats(), st.booleans(), st.none()),
    noise=st.one_of(st.floats(), st.integers(-5, 500), st.booleans(), st.text(max_size=3)),
    seed=st.one_of(st.integers(-(10**30), 10**30), st.floats(), st.booleans()),
)
def test_hostile_requests_are_refused_or_drawn(name: object, n: object, noise: object,
                                               seed: object) -> None:
    try:
        check_request(name, n, noise, seed)
    except ToyDataError as error:
        assert "\n" not in str(error) and len(str(error)) < 200
        return
    assert isinstance(n, int) and 1 <= n <= MAX_POINTS
    assert isinstance(noise, int | float) and 0 <= noise <= MAX_NOISE
    if n <= 2000:
        assert isinstance(seed, int)
        x, _ = toy_data(str(name), n, float(noise), seed)
        assert np.isfinite(x).all()
