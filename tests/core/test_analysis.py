"""Curvature, slopes, the -grad field and predicted decrease, against values worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from explorer.core.analysis import (
    directional_derivatives,
    gradient_field,
    hessian_report,
    step_decrease,
)
from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.trajectory import RunSettings, Trajectory

TUTORIAL = parse("x*y + sin(pi*x)")


def test_hessian_of_a_quadratic_is_its_constant_matrix() -> None:
    # f = 3x^2 + 2xy + 5y^2: f_xx = 6, f_xy = f_yx = 2, f_yy = 10, at every point.
    quadratic = parse("3*x**2 + 2*x*y + 5*y**2")
    for x, y in [(0.0, 0.0), (1.5, -2.0), (-7.0, 3.25)]:
        report = hessian_report(quadratic, x, y)
        assert report.hessian == ((6.0, 2.0), (2.0, 10.0))
        assert report.finite


def test_eigenvalues_condition_and_lr_max_of_a_known_matrix() -> None:
    # [[6, 2], [2, 10]]: trace 16, determinant 56, so lambda = 8 -+ sqrt(64 - 56) = 8 -+ 2 sqrt 2.
    report = hessian_report(parse("3*x**2 + 2*x*y + 5*y**2"), 0.5, 0.5)
    low, high = 8 - 2 * math.sqrt(2), 8 + 2 * math.sqrt(2)
    assert report.eigenvalues == pytest.approx((low, high), rel=1e-14)
    assert report.condition_number == pytest.approx(high / low, rel=1e-14)
    assert report.lr_max == pytest.approx(2 / high, rel=1e-14)  # = 0.18470...
    assert report.lr_max == pytest.approx(0.184699031, rel=1e-8)


def test_the_tutorial_function_at_2_3() -> None:
    # f = xy + sin(pi x): f_x = y + pi cos(pi x) = 3 + pi, f_y = x = 2;
    # f_xx = -pi^2 sin(pi x) = -pi^2 sin(2 pi) ~ 0, f_xy = 1, f_yy = 0.
    report = hessian_report(TUTORIAL, 2.0, 3.0)
    (hxx, hxy), (hyx, hyy) = report.hessian
    assert hxx == pytest.approx(0.0, abs=1e-12)
    assert (hxy, hyx, hyy) == (1.0, 1.0, 0.0)
    # [[~0, 1], [1, 0]]: eigenvalues -1 and 1, so the condition number is 1 and lr_max 2.
    assert report.eigenvalues == pytest.approx((-1.0, 1.0), abs=1e-12)
    assert report.condition_number == pytest.approx(1.0, abs=1e-12)
    assert report.lr_max == pytest.approx(2.0, abs=1e-12)

    slopes = directional_derivatives(TUTORIAL, 2.0, 3.0, np.linspace(0, 2 * np.pi, 7))
    assert slopes.gradient == pytest.approx((3 + math.pi, 2.0), rel=1e-14)


def test_singular_saddle_and_concave_hessians() -> None:
    # x^2: [[2, 0], [0, 0]], singular; lr_max 2 / 2 = 1.
    flat_y = hessian_report(parse("x**2"), 1.0, 2.0)
    assert flat_y.eigenvalues == (0.0, 2.0)
    assert flat_y.condition_number == math.inf
    assert flat_y.lr_max == 1.0
    # x^2 - 3y^2: eigenvalues -6 and 2; only the upward direction limits the step: 2 / 2 = 1.
    saddle = hessian_report(parse("x**2 - 3*y**2"), 0.0, 0.0)
    assert saddle.eigenvalues == (-6.0, 2.0)
    assert saddle.condition_number == 3.0
    assert saddle.lr_max == 1.0
    # -(x^2 + y^2) curves down everywhere, and a plane not at all: no curvature limit.
    assert hessian_report(parse("-(x**2 + y**2)"), 0.3, 0.4).lr_max is None
    plane = hessian_report(parse("2*x - y + 1"), 0.3, 0.4)
    assert plane.hessian == ((0.0, 0.0), (0.0, 0.0))
    assert plane.lr_max is None
    assert plane.condition_number == math.inf
    constant = hessian_report(parse("3"), 0.0, 0.0)
    assert constant.hessian == ((0.0, 0.0), (0.0, 0.0)) and constant.lr_max is None


def test_undefined_points_give_nan_not_errors() -> None:
    # log(x) is undefined at x = -1, although the formula of its derivative, 1/x, is not.
    report = hessian_report(parse("log(x)"), -1.0, 0.0)
    assert not report.finite
    assert all(math.isnan(v) for v in report.eigenvalues)
    assert math.isnan(report.condition_number)
    assert report.lr_max is None
    slopes = directional_derivatives(parse("log(x)"), -1.0, 0.0, [0.0, 1.0])
    assert np.isnan(slopes.slopes).all()
    assert slopes.steepest_descent_angle is None
    assert math.isnan(slopes.min_slope)


def test_slope_is_lowest_along_minus_grad_and_equals_minus_its_length() -> None:
    angles = np.linspace(-np.pi, np.pi, 3601)
    slopes = directional_derivatives(TUTORIAL, 2.0, 3.0, angles)
    norm = math.hypot(3 + math.pi, 2.0)
    assert slopes.min_slope == pytest.approx(-norm, rel=1e-14)
    assert slopes.slopes.min() == pytest.approx(-norm, rel=1e-6)  # sampled every 0.1 degree
    assert slopes.slopes.max() == pytest.approx(norm, rel=1e-6)
    descent = math.atan2(-2.0, -(3 + math.pi))
    assert slopes.steepest_descent_angle == pytest.approx(descent, rel=1e-14)
    assert angles[np.argmin(slopes.slopes)] == pytest.approx(descent, abs=1e-3)
    # Along the contour line (perpendicular to the gradient) the slope is zero.
    across = directional_derivatives(TUTORIAL, 2.0, 3.0, [descent + math.pi / 2])
    assert across.slopes[0] == pytest.approx(0.0, abs=1e-12)
    # Along +x the slope is f_x, along +y it is f_y.
    axes = directional_derivatives(TUTORIAL, 2.0, 3.0, [0.0, math.pi / 2])
    assert axes.slopes == pytest.approx([3 + math.pi, 2.0], rel=1e-12)


def test_zero_gradient_has_no_steepest_direction() -> None:
    at_minimum = directional_derivatives(parse("x**2 + y**2"), 0.0, 0.0, [0.0, 1.0, 2.0])
    assert at_minimum.steepest_descent_angle is None
    assert at_minimum.slopes.tolist() == [0.0, 0.0, 0.0]


def test_field_points_downhill_and_stays_inside_a_grid_cell() -> None:
    # x^2 + y^2: -grad f = -(2x, 2y) points at the origin; zero there.
    field = gradient_field(parse("x**2 + y**2"), (-2.0, 2.0, -2.0, 2.0), m=5)
    assert len(field) == 25
    spacing = 1.0
    assert field.length == pytest.approx(0.85 * spacing)
    lengths = np.hypot(field.u, field.v)
    assert lengths.max() == pytest.approx(field.length)
    origin = (field.x == 0.0) & (field.y == 0.0)
    assert lengths[origin].tolist() == [0.0]
    assert field.magnitude == pytest.approx(2 * np.hypot(field.x, field.y))
    others = ~origin
    cross = field.u[others] * field.y[others] - field.v[others] * field.x[others]
    assert cross == pytest.approx(np.zeros(others.sum()), abs=1e-12)  # parallel to (x, y)
    assert (field.u[others] * field.x[others] + field.v[others] * field.y[others] < 0).all()
    # Steeper is longer, though compressed: the corners (|g| = 4 sqrt 2) beat (1, 0) (|g| = 2).
    corner = (field.x == 2.0) & (field.y == 2.0)
    side = (field.x == 1.0) & (field.y == 0.0)
    assert lengths[corner][0] > lengths[side][0] > 0.0


def test_field_drops_undefined_points_and_handles_constants() -> None:
    field = gradient_field(parse("log(x) + y"), (-1.0, 1.0, -1.0, 1.0), m=5)
    assert (field.x > 0).all()  # x <= 0 dropped: log is NaN or -inf there
    assert len(field) == 2 * 5
    # -grad f = -(1/x, 1): downhill in y, and u / v = 1/x.
    assert (field.v < 0).all()
    assert field.u == pytest.approx(field.v / field.x)
    constant = gradient_field(parse("3"), (-1.0, 1.0, -1.0, 1.0), m=3)
    assert len(constant) == 9
    assert constant.u.tolist() == [0.0] * 9 and constant.v.tolist() == [0.0] * 9
    only_x = gradient_field(parse("x**2"), (-1.0, 1.0, -1.0, 1.0), m=3)
    assert only_x.v.tolist() == [0.0] * 9
    with pytest.raises(ValueError):
        gradient_field(parse("x"), (1.0, -1.0, 0.0, 1.0))


def test_predicted_and_actual_decrease_of_one_sgd_step_by_hand() -> None:
    # x^2 + y^2 from (1, 2) with lr 0.1: grad (2, 4), |grad|^2 = 20, predicted 0.1 * 20 = 2.
    # The step goes to (1 - 0.2, 2 - 0.4) = (0.8, 1.6), where f = 0.64 + 2.56 = 3.2: actual 5 - 3.2.
    hand = Trajectory(
        x=np.array([1.0, 0.8]),
        y=np.array([2.0, 1.6]),
        f=np.array([5.0, 3.2]),
        grad_x=np.array([2.0, 1.6]),
        grad_y=np.array([4.0, 3.2]),
        lr=0.1,
    )
    decrease = step_decrease(hand)
    assert decrease.steps.tolist() == [1]
    assert decrease.predicted == pytest.approx([2.0])
    assert decrease.actual == pytest.approx([1.8])

    # The engine's own run agrees with the hand values.
    expression = parse("x**2 + y**2")
    run = run_descent(expression.evaluate, [(1.0, 2.0)], RunSettings(lr=0.1, steps=3))
    engine = step_decrease(run.trajectory(0))
    assert engine.steps.tolist() == [1, 2, 3]
    assert engine.predicted[0] == pytest.approx(2.0, rel=1e-14)
    assert engine.actual[0] == pytest.approx(1.8, rel=1e-14)
    # On this bowl each step keeps (1 - 2 lr)^2 of f, so actual = (1 - lr) * predicted.
    assert engine.actual == pytest.approx(0.9 * engine.predicted, rel=1e-12)

    climb = step_decrease(hand, ascent=True)
    assert climb.predicted == pytest.approx([-2.0])


def test_decrease_of_an_empty_or_diverged_path() -> None:
    start_only = Trajectory(
        x=np.array([1.0]),
        y=np.array([1.0]),
        f=np.array([2.0]),
        grad_x=np.array([2.0]),
        grad_y=np.array([2.0]),
    )
    assert len(step_decrease(start_only).steps) == 0
    blown = Trajectory(
        x=np.array([1.0, 1e200]),
        y=np.array([0.0, 0.0]),
        f=np.array([1.0, math.inf]),
        grad_x=np.array([1e200, math.inf]),
        grad_y=np.array([0.0, math.nan]),
        lr=1.0,
    )
    decrease = step_decrease(blown)
    assert decrease.actual.tolist() == [-math.inf]
    assert decrease.predicted.tolist() == [math.inf]
