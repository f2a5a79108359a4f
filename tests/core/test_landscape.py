"""Landscapes: the protocol and f(x, y) as one; sampling (ij layout, gaps, log scale, levels)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.basin import BasinError, basin_map
from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.landscape import (
    FunctionLandscape,
    Landscape,
    contour_levels,
    domain_too_wide,
    sample_landscape,
    validate_domain,
)
from explorer.core.presets import get_preset
from explorer.core.trajectory import RunSettings

ROOT = Path(__file__).resolve().parents[2]


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


# --- huge numbers: no warning ever reaches the user ---------------------------------------------

HUGE_FUNCTIONS = ["exp(x)", "x**300", "x*y", "x + y", "1/x", "log(x) + y", "sinh(x)*cosh(y)"]
huge = st.floats(min_value=-1.7e308, max_value=1.7e308, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(HUGE_FUNCTIONS), huge, huge, huge, huge, st.booleans())
def test_any_finite_domain_samples_or_is_refused_in_words_without_warnings(
    text: str, a: float, b: float, c: float, d: float, log: bool
) -> None:
    # Warnings are errors in the tests: numpy's overflow warnings would fail this test.
    domain = (min(a, b), max(a, b), min(c, d), max(c, d))
    widths = (domain[1] - domain[0], domain[3] - domain[2])
    widths_overflow = not all(math.isfinite(w) for w in widths)
    try:
        grid = sample_landscape(parse(text), domain, 16)
    except ValueError as error:
        message = str(error)
        assert "\n" not in message
        flat = domain[0] == domain[1] or domain[2] == domain[3]
        assert flat or (widths_overflow and "too wide to sample" in message), message
        return
    assert not widths_overflow
    levels = contour_levels(grid, 14, log=log)
    assert np.all(np.isfinite(levels))
    assert np.all(np.diff(levels) >= 0)
    shown = grid.transformed(log)
    assert shown.shape == (16, 16)
    assert 0.0 <= grid.infinite_fraction <= 1.0 - grid.finite_fraction + 1e-12


def test_too_wide_domains_are_refused_before_sampling() -> None:
    with pytest.raises(ValueError, match=r"too wide to sample: the width of x .* overflows"):
        validate_domain((-1e308, 1e308, 0.0, 1.0))
    with pytest.raises(ValueError, match=r"the width of y"):
        validate_domain((0.0, 1.0, -1e308, 1e308))
    assert domain_too_wide((-8e307, 8e307, -1.0, 1.0)) == ""  # 1.6e308 still fits float64
    with pytest.raises(BasinError, match="too wide to sample"):
        basin_map(parse("x + y").evaluate, (-1e308, 1e308, -1e308, 1e308), RunSettings(), n=4)


def test_a_range_of_f_that_overflows_still_gets_levels_and_a_log_hint() -> None:
    # f from about -1e308 to 1e308: f's range itself is not a float64.
    grid = sample_landscape(parse("x*1e300"), (-1e8, 1e8, -1.0, 1.0), 32)
    assert grid.z_max - grid.z_min == math.inf and grid.suggest_log is False
    levels = contour_levels(grid, 10)
    assert len(levels) == 10 and np.all(np.isfinite(levels)) and np.all(np.diff(levels) > 0)
    assert grid.z_min < levels[0] and levels[-1] < grid.z_max
    # The linear display saturates at half the range at each end, so its width is a float64;
    # the log display keeps every value, in order.
    shown = grid.transformed(log=False)
    assert math.isfinite(float(shown.max()) - float(shown.min()))
    assert shown.max() == grid.z_max / 2 and shown.min() == grid.z_min / 2
    logged = grid.transformed(log=True)
    assert np.all(np.isfinite(logged))
    assert np.argmin(logged) == np.argmin(grid.z) and np.argmax(logged) == np.argmax(grid.z)


def test_gaps_say_whether_f_overflows_or_is_undefined() -> None:
    domain = (-2.0, 2.0, -1.0, 1.0)
    assert sample_landscape(parse("x + y"), domain, 8).gaps_text() == ""
    assert sample_landscape(parse("sqrt(x)"), domain, 8).gaps_text() == "f is undefined"
    overflow = sample_landscape(parse("exp(1000*x)"), domain, 8)
    # exp overflows past log(largest float64), about 709.78: by hand, the columns beyond it.
    beyond = np.linspace(-2.0, 2.0, 8) * 1000 > math.log(sys.float_info.max)
    assert overflow.infinite_fraction == beyond.mean() > 0
    assert overflow.gaps_text() == "f overflows (infinite or too large for float64)"
    both = sample_landscape(parse("exp(1000*x) + sqrt(y)"), domain, 8)
    assert both.gaps_text().endswith("or is undefined")


def test_cli_basin_over_a_domain_too_wide_is_one_line_and_no_warning() -> None:
    argv = ["basin", "--function", "x+y", "--domain=-1e308,1e308,-1e308,1e308", "--grid", "4",
            "--steps", "3"]
    result = subprocess.run(
        [sys.executable, "-W", "error", str(ROOT / "main.py"), *argv],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: the domain is too wide to sample")
    assert len(result.stderr.splitlines()) == 1 and "Warning" not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--function", "exp(x)", "--start=1e308,1e308"],
        ["run", "--function", "x**300", "--start=1e300,1", "--json"],
        ["basin", "--function", "exp(x)", "--domain=-1e300,1e300,-1,1", "--grid", "4",
         "--steps", "3"],
        ["basin", "--function", "x*y", "--domain=-8e307,8e307,-8e307,8e307", "--grid", "3",
         "--steps", "2"],
        ["sweep", "--function", "x**300", "--start=1e300,1", "--optimizer", "sgd",
         "--lr-min", "1e-300", "--lr-max", "1e300", "--count", "5", "--steps", "3"],
        ["grad", "--function", "x*y", "--at", "1e308,1e308"],
    ],
)
def test_cli_huge_numbers_warn_nowhere(argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", str(ROOT / "main.py"), *argv],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert result.returncode in (0, 2), result.stderr
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 1


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
