"""Where f is undefined: the first operation that fails, in words, for grad, runs and the parser."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.cli import main as cli_main
from explorer.core.descent import run_descent
from explorer.core.expression import parse
from explorer.core.gradient import gradient_report, start_note
from explorer.core.stability import stability_note
from explorer.core.trajectory import RunSettings, Status


def _division(a: float, b: float) -> str | None:
    """Why a / b is not finite, by IEEE's rules (Python's float division overflows to inf)."""
    if b == 0:
        return "division by zero"
    return None if math.isfinite(a / b) else "a division overflows"


def _power(x: float, y: float) -> str | None:
    """Why x**y is not finite, from the definition of the power (Python raises on overflow)."""
    if x == 0 and y < 0:
        return "zero to a negative power"
    if x < 0 and y != math.floor(y):
        return "a negative number to a non-integer power"
    try:
        return None if math.isfinite(x**y) else "a power overflows"
    except OverflowError:
        return "a power overflows"


# Each function with, by hand, why it is undefined at a point (None: defined there). The rules
# come from the definitions of log, sqrt, division and powers, not from the code under test.
CASES = {
    "log(x) + y": lambda x, y: (
        "log of a negative number" if x < 0 else "log of zero" if x == 0 else None
    ),
    "sqrt(x - y)": lambda x, y: "sqrt of a negative number" if x - y < 0 else None,
    "x / y": lambda x, y: _division(x, y),
    "1 / (x*y)": lambda x, y: _division(1.0, x * y),
    "log10(y) * x**2": lambda x, y: (
        "log10 of a negative number" if y < 0 else "log10 of zero" if y == 0 else None
    ),
    "asin(x) + y": lambda x, y: "asin of a number outside [-1, 1]" if abs(x) > 1 else None,
    "x**y": lambda x, y: _power(x, y),
}
coordinate = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0]),
    st.floats(min_value=-10, max_value=10, allow_nan=False),
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(CASES)), coordinate, coordinate)
def test_a_non_finite_f_is_always_explained_and_gives_no_numbers(
    text: str, x: float, y: float
) -> None:
    expression = parse(text)
    report = gradient_report(expression, x, y)
    expected = CASES[text](x, y)
    point = torch.tensor([x, y], dtype=torch.float64)
    f_torch = float(expression.evaluate(point[0], point[1]))
    if math.isfinite(f_torch):
        assert report.undefined is None and report.f == f_torch
        return
    assert expected is not None, (text, x, y)
    state = "is too large for float64" if "overflows" in expected else "is undefined"
    assert report.undefined == f"f {state} at ({x:.6g}, {y:.6g}): {expected}"
    assert math.isnan(report.f) and all(math.isnan(g) for g in report.grad)
    assert report.symbolic_values == (None, None)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(CASES)), st.lists(st.tuples(coordinate, coordinate), max_size=20))
def test_batches_agree_with_single_points(text: str, points: list[tuple[float, float]]) -> None:
    expression = parse(text)
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    batch = expression.undefined(xs, ys)
    assert len(batch) == len(points)
    assert batch == [expression.undefined_at(x, y) for x, y in points]


def test_the_first_failing_operation_is_named() -> None:
    # log(x) fails first (x = -1); the division by zero comes after it.
    problem = parse("log(x) / y").undefined_at(-1.0, 0.0)
    assert problem is not None and problem.reason == "log of a negative number"
    problem = parse("exp(x) * 0 + y").undefined_at(1000.0, 0.0)
    assert problem is not None and problem.overflow and problem.reason == "exp overflows"
    assert problem.at(1000.0, 0.0) == "f is too large for float64 at (1000, 0): exp overflows"
    # A failure a later operation heals (exp(-inf) = 0) leaves f finite: nothing to explain.
    assert parse("exp(log(x))").undefined_at(0.0, 0.0) is None


@pytest.mark.parametrize(
    ("text", "x", "y", "reason"),
    [
        ("x**300", 1e200, 0.0, "a power overflows"),
        ("x*y", 1e200, 1e200, "a product overflows"),
        ("x + y", 1.7e308, 1.7e308, "a sum overflows"),
        ("x - y", 1.7e308, -1.7e308, "a difference overflows"),
        ("x / y", 1e300, 1e-300, "a division overflows"),
        ("cosh(x)", 1e4, 0.0, "cosh overflows"),
    ],
)
def test_overflow_is_named(text: str, x: float, y: float, reason: str) -> None:
    problem = parse(text).undefined_at(x, y)
    assert problem is not None and problem.overflow and problem.reason == reason


def test_huge_and_non_finite_points_give_no_warning_and_no_crash() -> None:
    expression = parse("log(x) + sqrt(y) + 1/x")
    values = [math.inf, -math.inf, math.nan, 1e308, -1e308, 0.0, -0.0]
    xs, ys = np.meshgrid(values, values)
    found = expression.undefined(xs, ys)
    assert len(found) == xs.size
    # x or y not finite is no operation's fault: said in general words, never a crash.
    assert all(p is None or p.reason for p in found)


def test_start_note_and_the_status_of_a_run_started_where_f_is_undefined() -> None:
    expression = parse("log(x)")
    assert start_note(expression, (-1.0, 1.0)) == (
        "f is undefined at the start: log of a negative number"
    )
    assert start_note(expression, (2.0, 1.0)) == ""
    sqrt_note = start_note(parse("sqrt(x)"), (0.0, 0.0))  # f = 0, but d/dx sqrt(x) = inf
    assert sqrt_note == "the gradient of f is not finite at the start"
    run = run_descent(expression.evaluate, [(-1.0, 1.0)], RunSettings(steps=10))
    trajectory = run.outcome(0)
    assert trajectory.status is Status.DIVERGED and trajectory.steps == 0
    note = stability_note(expression, trajectory.start, 0.01)
    assert trajectory.status_text(1e6, note) == (
        "diverged at step 0: f is undefined at the start: log of a negative number"
    )


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_cli_grad_says_f_is_undefined_and_prints_no_numbers(json_flag: list[str]) -> None:
    code, out, err = _cli("grad", "--function", "log(x)", "--at=-1,1", *json_flag)
    assert code == 2 and out == ""
    assert err == "error: f is undefined at (-1, 1): log of a negative number\n"


def test_cli_grad_refuses_a_constant_division_by_zero() -> None:
    code, out, err = _cli("grad", "--function", "1/0 + x", "--at", "1,1")
    assert code == 2 and out == ""
    assert err.splitlines()[0] == "error: 1/0 is undefined: division by zero (column 1)"


def test_cli_run_from_an_undefined_start_says_why() -> None:
    code, out, _ = _cli("run", "--function", "sqrt(x) + y", "--start=-4,0")
    assert code == 0
    assert "diverged at step 0: f is undefined at the start: sqrt of a negative number" in out


def test_a_run_that_walks_into_the_undefined_region_says_where_and_why() -> None:
    # log(x) decreases towards x = 0 (df/dx = 1/x > 0 for x > 0): plain descent steps past 0,
    # where log is undefined; the status names the point it reached and why.
    expression = parse("log(x)")
    run = run_descent(expression.evaluate, [(1.0, 1.0)], RunSettings(steps=200))
    trajectory = run.outcome(0)
    assert trajectory.status is Status.DIVERGED and trajectory.steps > 0
    x, y = trajectory.end
    assert x <= 0 and y == 1.0
    reason = "log of zero" if x == 0 else "log of a negative number"
    note = stability_note(expression, trajectory.start, 0.01, trajectory.end)
    assert note == f"f is undefined at ({x:.6g}, {y:.6g}): {reason}"
    assert trajectory.status_text(1e6, note) == (
        f"diverged at step {trajectory.steps}: a value became NaN or infinite; {note}"
    )
    # Where the run stopped with f finite there, no such note.
    assert stability_note(parse("x**2"), (1.0, 1.0), 0.01, (2.0, 1.0)) == ""
    assert stability_note(parse("x**2"), (1.0, 1.0), 0.01, (math.nan, 1.0)) == ""


def test_cli_run_that_walks_into_the_undefined_region_says_why() -> None:
    code, out, _ = _cli("run", "--function", "log(x)", "--start", "1,1")
    assert code == 0
    assert "a value became NaN or infinite; f is undefined at (" in out
    assert "log of a negative number" in out or "log of zero" in out
