"""Landscape sampling: ij layout, gaps, the log-scale suggestion, contour levels."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.core.expression import parse
from explorer.core.landscape import contour_levels, sample_landscape, validate_domain
from explorer.core.presets import get_preset


def test_grid_is_ij_indexed_over_the_domain() -> None:
    grid = sample_landscape(parse("x + 10*y"), (-1.0, 1.0, 0.0, 2.0), 5)
    assert grid.z.shape == (5, 5)
    np.testing.assert_array_equal(grid.xs, np.linspace(-1, 1, 5))
    # z[i, j] = f(xs[i], ys[j])
    assert grid.z[4, 0] == 1.0 and grid.z[0, 4] == -1.0 + 20.0
    assert (grid.z_min, grid.z_max) == (-1.0, 21.0)
    assert grid.finite_fraction == 1.0 and not grid.has_gaps


def test_constant_function_fills_the_grid() -> None:
    grid = sample_landscape(parse("3"), (0.0, 1.0, 0.0, 1.0), 4)
    assert grid.z.shape == (4, 4) and np.all(grid.z == 3.0)
    assert contour_levels(grid).size == 0


def test_gaps_are_nan_and_counted() -> None:
    grid = sample_landscape(parse("log(x)"), (-1.0, 1.0, 0.0, 1.0), 11)
    assert grid.has_gaps
    assert np.isnan(grid.z[0, 0]) and np.isfinite(grid.z[-1, 0])
    assert 0.4 < grid.finite_fraction < 0.5
    assert np.isfinite(grid.z_min) and np.isfinite(grid.z_max)


def test_log_scale_is_suggested_for_steep_functions_only() -> None:
    def suggests(name: str) -> bool:
        preset = get_preset(name)
        return sample_landscape(parse(preset.formula), preset.domain, 128).suggest_log

    assert suggests("rosenbrock") and suggests("beale")
    assert not suggests("himmelblau") and not suggests("bowl") and not suggests("booth")


def test_log_display_keeps_the_minimum_finite_and_order() -> None:
    grid = sample_landscape(parse("x**2 + y**2"), (-1.0, 1.0, -1.0, 1.0), 9)
    shown = grid.transformed(log=True)
    assert np.all(np.isfinite(shown))
    assert np.argmin(shown) == np.argmin(grid.z) and np.argmax(shown) == np.argmax(grid.z)


def test_contour_levels_are_inside_the_range() -> None:
    grid = sample_landscape(parse(get_preset("himmelblau").formula), (-5, 5, -5, 5), 64)
    levels = contour_levels(grid, 12)
    assert len(levels) == 12 and np.all(np.diff(levels) > 0)
    assert grid.z_min < levels[0] and levels[-1] < grid.z_max


@pytest.mark.parametrize(
    ("domain", "fragment"),
    [((1, 0, 0, 1), "x min"), ((0, 1, 2, 2), "y min"), ((0, float("nan"), 0, 1), "finite")],
)
def test_bad_domains_are_plain_errors(domain: tuple[float, ...], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        validate_domain(domain)  # type: ignore[arg-type]
