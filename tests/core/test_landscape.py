"""Landscapes: the protocol and f(x, y) as one; sampling (ij layout, gaps, log scale, levels)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.core.basin import basin_map
from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.landscape import (
    FunctionLandscape,
    Landscape,
    contour_levels,
    sample_landscape,
    validate_domain,
)
from explorer.core.presets import get_preset
from explorer.core.trajectory import RunSettings


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


# --- the Landscape protocol ------------------------------------------------------------------

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "test_functions.json"


def reference_minima(name: str) -> list[tuple[float, float, float]]:
    """Published global minima from the shared reference file (independent of the presets)."""
    functions = json.loads(REFERENCE.read_text(encoding="utf-8"))["functions"]
    entry = next(f for f in functions if f["name"] == name)
    return [(*m["point"], m["f"]) for m in entry["global_minima_precise"]]


def test_a_function_is_a_landscape_with_its_gradient_by_hand() -> None:
    # The tutorial's f = x*y + sin(pi*x): df/dx = y + pi*cos(pi*x), df/dy = x, so at (2, 3)
    # the gradient is (3 + pi, 2) and f = 6.
    land = FunctionLandscape.from_expression(parse("x*y + sin(pi*x)"), (-4.0, 4.0, -4.0, 4.0))
    assert isinstance(land, Landscape)
    assert land.name == "x*y + sin(pi*x)" and land.domain == (-4.0, 4.0, -4.0, 4.0)
    assert land.known_minima == ()  # the tutorial preset publishes none
    points = torch.tensor([[2.0, 3.0], [0.5, -1.0]], dtype=torch.float64, requires_grad=True)
    values = land.loss(points)
    assert values.shape == (2,)
    values.sum().backward()
    assert points.grad is not None
    assert points.grad[0].tolist() == pytest.approx([3 + math.pi, 2.0], abs=1e-12)
    assert values[0].item() == pytest.approx(6.0, abs=1e-12)
    # loss and objective are the same function, on rows and on columns.
    x, y = points.detach().unbind(1)
    assert torch.equal(land.objective(x, y), values.detach())


# Himmelblau's four global minima as published (Wikipedia, "Test functions for optimization").
HIMMELBLAU_PUBLISHED = (
    (3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127)
)


def test_himmelblau_preset_landscape_has_the_known_minima() -> None:
    land = FunctionLandscape.from_preset(get_preset("himmelblau"))
    assert isinstance(land, Landscape) and land.name == "himmelblau"
    assert len(land.known_minima) == 4
    for x, y in HIMMELBLAU_PUBLISHED:
        assert any(math.hypot(m.x - x, m.y - y) <= 1e-6 for m in land.known_minima), (x, y)
    values = land.loss(torch.tensor([(m.x, m.y) for m in land.known_minima], dtype=torch.float64))
    assert values.abs().max().item() <= 1e-20
    # The same formula typed by hand is recognised as the preset; another one has no minima.
    typed = FunctionLandscape.from_expression(parse(get_preset("himmelblau").formula), land.domain)
    assert typed.known_minima == land.known_minima
    assert FunctionLandscape.from_expression(parse("x**2"), land.domain).known_minima == ()


def test_himmelblau_known_minima_match_the_shared_reference() -> None:
    if not REFERENCE.exists():
        pytest.skip(f"no shared reference file at {REFERENCE}")
    land = FunctionLandscape.from_preset(get_preset("himmelblau"))
    published = reference_minima("Himmelblau")
    assert len(land.known_minima) == len(published) == 4
    for x, y, f in published:
        assert any(
            math.hypot(m.x - x, m.y - y) <= 1e-12 and m.f == f for m in land.known_minima
        ), (x, y)


def test_landscape_sample_is_the_grid_of_its_function() -> None:
    land = FunctionLandscape.from_expression(parse("x + 10*y"), (-1.0, 1.0, 0.0, 2.0))
    grid = land.sample(5)
    np.testing.assert_array_equal(grid.z, sample_landscape(parse("x + 10*y"), land.domain, 5).z)
    with pytest.raises(ValueError, match="x min"):
        FunctionLandscape.from_expression(parse("x"), (1.0, 0.0, 0.0, 1.0))


def test_the_engine_descends_a_landscape_objective() -> None:
    land = FunctionLandscape.from_preset(get_preset("himmelblau"))
    settings = RunSettings(optimizer="adam", lr=0.1, steps=200)
    result = basin_map(
        land.objective, land.domain, settings, n=12, known_minima=land.known_minima
    )
    assert result.matches_known is True and len(result.minima) == 4
    # One step of SGD from (2, 3), by hand: df/dx = 4x(x^2 + y - 11) + 2(x + y^2 - 7) = -24,
    # df/dy = 2(x^2 + y - 11) + 4y(x + y^2 - 7) = 40, so lr 0.01 moves to (2.24, 2.6).
    run = run_descent(land.objective, [(2.0, 3.0)], RunSettings(lr=0.01, steps=1))
    path = run.trajectory(0)
    assert (path.grad_x[0], path.grad_y[0]) == pytest.approx((-24.0, 40.0), abs=1e-12)
    assert (path.x[1], path.y[1]) == pytest.approx((2.24, 2.6), abs=1e-12)
