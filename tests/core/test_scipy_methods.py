"""scipy.optimize methods with torch autograd derivatives, checked against scipy with hand ones."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import scipy.optimize
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.expression import parse
from explorer.core.optimizers import REGISTRY, OptimizerError
from explorer.core.presets import get_preset
from explorer.core.scipy_methods import METHODS, minimize, parse_options
from explorer.core.trajectory import Reason, Status

Array = np.ndarray
Derivatives = tuple[Callable[[Array], float], Callable[[Array], Array], Callable[[Array], Array]]


# Squares are written as products: torch squares by multiplying, while numpy's float64 ** 2 goes
# through pow(), which now and then rounds the last bit the other way; Powell's and
# Nelder-Mead's comparisons of f then branch differently and their nfev differ.


def _lecture_rosenbrock() -> Derivatives:
    """0.5(1 - x)^2 + (y - x^2)^2 and its derivatives, worked by hand."""

    def f(p: Array) -> float:
        x, y = p
        u, v = 1 - x, y - x * x
        return float(0.5 * (u * u) + v * v)

    def jac(p: Array) -> Array:
        x, y = p
        return np.array([-(1 - x) - 4 * x * (y - x**2), 2 * (y - x**2)])

    def hess(p: Array) -> Array:
        x, y = p
        return np.array([[1 - 4 * y + 12 * x**2, -4 * x], [-4 * x, 2.0]])

    return f, jac, hess


def _himmelblau() -> Derivatives:
    """(x^2 + y - 11)^2 + (x + y^2 - 7)^2 and its derivatives, worked by hand."""

    def f(p: Array) -> float:
        x, y = p
        a, b = x * x + y - 11, x + y * y - 7
        return float(a * a + b * b)

    def jac(p: Array) -> Array:
        x, y = p
        a, b = x**2 + y - 11, x + y**2 - 7
        return np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b])

    def hess(p: Array) -> Array:
        x, y = p
        a, b = x**2 + y - 11, x + y**2 - 7
        return np.array(
            [[4 * a + 8 * x**2 + 2, 4 * x + 4 * y], [4 * x + 4 * y, 2 + 4 * b + 8 * y**2]]
        )

    return f, jac, hess


def _booth() -> Derivatives:
    """(x + 2y - 7)^2 + (2x + y - 5)^2 and its derivatives, worked by hand."""

    def f(p: Array) -> float:
        x, y = p
        a, b = x + 2 * y - 7, 2 * x + y - 5
        return float(a * a + b * b)

    def jac(p: Array) -> Array:
        x, y = p
        a, b = x + 2 * y - 7, 2 * x + y - 5
        return np.array([2 * a + 4 * b, 4 * a + 2 * b])

    def hess(p: Array) -> Array:
        return np.array([[10.0, 8.0], [8.0, 10.0]])

    return f, jac, hess


LECTURE = "0.5*(1 - x)**2 + (y - x**2)**2"
# (the app's formula, the hand-written derivatives, a start)
CASES = {
    "lecture-rosenbrock": (LECTURE, _lecture_rosenbrock(), (2.0, -1.0)),
    "himmelblau": (get_preset("himmelblau").formula, _himmelblau(), (1.0, 1.0)),
    "booth": (get_preset("booth").formula, _booth(), (-3.0, 4.5)),
}


def direct_minimize(
    derivatives: Derivatives, start: tuple[float, float], name: str, steps: int, tol: float
) -> tuple[Array, scipy.optimize.OptimizeResult]:
    """scipy.optimize.minimize called as its documentation shows, without the app."""
    f, jac, hess = derivatives
    scipy_names = {
        "cg": "CG",
        "bfgs": "BFGS",
        "l-bfgs-b": "L-BFGS-B",
        "newton-cg": "Newton-CG",
        "trust-ncg": "trust-ncg",
        "nelder-mead": "Nelder-Mead",
        "powell": "Powell",
    }
    kwargs = {}
    if name not in ("nelder-mead", "powell"):
        kwargs["jac"] = jac
    if name in ("newton-cg", "trust-ncg"):
        kwargs["hess"] = hess
    points = [np.array(start)]
    result = scipy.optimize.minimize(
        f,
        np.array(start),
        method=scipy_names[name],
        tol=tol,
        options={"maxiter": steps},
        callback=lambda xk: points.append(np.array(xk)),
        **kwargs,
    )
    return np.array(points), result


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", list(METHODS))
def test_equals_a_direct_scipy_call(case: str, name: str) -> None:
    formula, derivatives, start = CASES[case]
    expected, result = direct_minimize(derivatives, start, name, 200, 1e-8)
    got = minimize(parse(formula).evaluate, start, name, steps=200, tol=1e-8)
    t = got.trajectory
    path = np.column_stack([t.x, t.y])
    assert path.shape == expected.shape
    np.testing.assert_allclose(path, expected, rtol=0, atol=1e-8)
    assert got.steps == result.nit
    assert got.message == result.message
    if name in ("nelder-mead", "powell"):
        assert got.evaluations["f"] == result.nfev
    # The recorded f and gradient are the function's at each iterate.
    f, jac, _ = derivatives
    np.testing.assert_allclose(t.f, [f(p) for p in expected], rtol=1e-9, atol=1e-12)
    grads = np.array([jac(p) for p in expected])
    np.testing.assert_allclose(np.column_stack([t.grad_x, t.grad_y]), grads, rtol=1e-9, atol=1e-9)
    assert t.status is (Status.CONVERGED if result.success else t.status)
    assert t.lr == 0.0 and t.optimizer == name


@pytest.mark.parametrize("name", list(METHODS))
def test_counts_are_scipys_and_zero_where_it_reports_none(name: str) -> None:
    formula, derivatives, start = CASES["lecture-rosenbrock"]
    _, result = direct_minimize(derivatives, start, name, 200, 1e-8)
    got = minimize(parse(formula).evaluate, start, name, steps=200, tol=1e-8)
    assert got.evaluations["f"] == result.nfev
    assert got.evaluations["grad"] == int(result.get("njev", 0))
    assert got.evaluations["hess"] == int(result.get("nhev", 0))
    if name in ("nelder-mead", "powell"):
        assert got.evaluations["grad"] == got.evaluations["hess"] == 0


@pytest.mark.parametrize("name", ["cg", "bfgs", "l-bfgs-b", "nelder-mead", "trust-ncg"])
def test_the_iteration_limit_is_max_steps(name: str) -> None:
    got = minimize(parse(LECTURE).evaluate, (2.0, -1.0), name, steps=2, tol=1e-12)
    assert got.steps == 2
    assert got.trajectory.status is Status.MAX_STEPS


@pytest.mark.parametrize("name", ["trust-ncg", "powell", "l-bfgs-b"])
def test_a_non_finite_value_is_diverged(name: str) -> None:
    # log(x) is NaN for x < 0, where these methods step from x = 1.
    got = minimize(parse("log(x)").evaluate, (1.0, 0.0), name, steps=100, tol=1e-8)
    assert got.trajectory.status is Status.DIVERGED
    assert got.trajectory.reason is Reason.NON_FINITE
    assert got.message


def test_the_names_stay_out_of_the_torch_registry() -> None:
    assert not set(METHODS) & set(REGISTRY)
    assert "lbfgs" in REGISTRY


def test_options_reach_scipy() -> None:
    formula, derivatives, start = CASES["lecture-rosenbrock"]
    options = parse_options("nelder-mead", ["maxfev=30", "adaptive=true"])
    assert options == {"maxfev": 30, "adaptive": True}
    got = minimize(
        parse(formula).evaluate, start, "nelder-mead", steps=200, tol=1e-8, options=options
    )
    result = scipy.optimize.minimize(
        derivatives[0],
        np.array(start),
        method="Nelder-Mead",
        tol=1e-8,
        options={"maxiter": 200, "maxfev": 30, "adaptive": True},
    )
    assert got.evaluations["f"] == result.nfev
    np.testing.assert_allclose(got.trajectory.end, result.x, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "item"),
    [
        ("bfgs", "lr=0.1"),
        ("bfgs", "momentum=0.9"),
        ("bfgs", "maxiter=5"),
        ("bfgs", "gtol"),
        ("bfgs", "=1"),
        ("bfgs", "gtol=-1"),
        ("bfgs", "gtol=0"),
        ("bfgs", "gtol=nan"),
        ("bfgs", "gtol=inf"),
        ("bfgs", "gtol=1e999"),
        ("bfgs", "gtol=abc"),
        ("bfgs", "xrtol=2"),
        ("l-bfgs-b", "maxcor=0"),
        ("l-bfgs-b", "maxcor=2.5"),
        ("l-bfgs-b", "maxls=" + "9" * 5000),
        ("l-bfgs-b", "maxfun=10000000000"),
        ("trust-ncg", "eta=0.3"),
        ("trust-ncg", "eta=-0.1"),
        ("nelder-mead", "adaptive=yes"),
        ("nelder-mead", "adaptive=1"),
        ("powell", "maxfev=-5"),
        ("cg", "norm=0.5"),
    ],
)
def test_hostile_options_are_refused_in_one_line(name: str, item: str) -> None:
    with pytest.raises(OptimizerError) as error:
        parse_options(name, [item])
    message = str(error.value)
    assert "\n" not in message and len(message) < 300


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(list(METHODS)),
    key=st.sampled_from(["gtol", "xtol", "maxfev", "eta", "adaptive", "maxcor", "norm", "x"]),
    text=st.one_of(st.text(max_size=30), st.floats().map(repr), st.integers().map(str)),
)
def test_any_option_text_is_a_checked_value_or_a_one_line_error(
    name: str, key: str, text: str
) -> None:
    try:
        options = parse_options(name, [f"{key}={text}"])
    except OptimizerError as error:
        assert "\n" not in str(error)
        return
    spec = METHODS[name].options[key]
    value = options[key]
    assert isinstance(value, spec.kind)
    if spec.kind is not bool:
        assert np.isfinite(value) and spec.low <= value <= spec.high


def test_an_evaluation_limit_is_max_steps() -> None:
    options = parse_options("l-bfgs-b", ["maxfun=3"])
    got = minimize(
        parse(LECTURE).evaluate, (2.0, -1.0), "l-bfgs-b", steps=100, tol=1e-8, options=options
    )
    assert got.steps < 100 and got.evaluations["f"] > 3
    assert got.trajectory.status is Status.MAX_STEPS


@pytest.mark.parametrize(("name", "formula"), [("powell", "x"), ("bfgs", "log(x)")])
def test_giving_up_otherwise_is_stopped_with_scipys_words(name: str, formula: str) -> None:
    # Powell finds no bracket on an unbounded line (scipy raises); BFGS reports precision loss.
    got = minimize(parse(formula).evaluate, (1.0, 0.0), name, steps=100, tol=1e-8)
    assert got.trajectory.status is Status.STOPPED
    assert got.message and got.evaluations["f"] > 0



@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("name", list(METHODS))
def test_the_evaluated_points_are_every_x_f_was_asked_for(case: str, name: str) -> None:
    formula, (f, jac, hess), start = CASES[case]
    # The direct call, its hand-written f keeping every x scipy passes it.
    asked: list[Array] = []

    def spied_f(p: Array) -> float:
        asked.append(np.array(p, dtype=np.float64))
        return f(p)

    _, result = direct_minimize((spied_f, jac, hess), start, name, 200, 1e-8)
    got = minimize(parse(formula).evaluate, start, name, steps=200, tol=1e-8)
    points = got.evaluated
    # One point per f evaluation scipy counted, in the order scipy asked for them.
    assert points.shape == (got.evaluations["f"], 2) == (result.nfev, 2) == (len(asked), 2)
    np.testing.assert_allclose(points, np.array(asked), rtol=0, atol=1e-8)
    assert got.trajectory.evaluations == (
        got.evaluations["f"], got.evaluations["grad"], got.evaluations["hess"]
    )
    record = got.trajectory.scipy
    assert record is not None and record.nit == got.steps and record.message == got.message
    # Evaluations before each row: none at the start, never fewer later, all at the end.
    assert len(record.upto) == len(got.trajectory.x)
    assert record.upto[0] == 0 and record.upto[-1] == len(points)
    assert (np.diff(record.upto) >= 0).all()
    assert len(record.until_row(0)) == 0
    assert len(record.until_row(len(record.upto) + 5)) == len(points)
    # Cut to the first rows: the points evaluated by then, the rest dropped.
    rows = max(1, len(record.upto) // 2)
    cut = record.cut(rows)
    assert len(cut.upto) == rows
    np.testing.assert_array_equal(cut.points, points[: record.upto[rows - 1]])
