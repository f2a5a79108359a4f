"""The expression language: parsing, plain-language errors, float64 evaluation and sympy."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.core.expression import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    Expression,
    ParseError,
    parse,
)
from explorer.core.expression import parser as parser_module
from explorer.core.expression.evaluation import evaluate_tree, torch_functions
from explorer.core.expression.parser import compile_text
from explorer.core.expression.symbolic import _big_rationals, _parts, partial_derivatives, to_sympy
from explorer.core.expression.tree import Call, Chain, Neg, Node, Num, Pow

ROOT = Path(__file__).resolve().parents[2]
X = sympy.Symbol("x", real=True)
Y = sympy.Symbol("y", real=True)


def f64(values: object) -> torch.Tensor:
    """A float64 tensor of values."""
    return torch.tensor(values, dtype=torch.float64)


def value_at(text: str, x: float, y: float) -> float:
    """f(x, y) for the text, as a Python float."""
    return float(parse(text).evaluate(f64(x), f64(y)))


# --- The tutorial ----------------------------------------------------------------------------


def test_tutorial_value_autograd_gradient_and_symbolic_derivatives() -> None:
    expression = parse("x*y + sin(pi*x)")
    assert (expression.uses_x, expression.uses_y) == (True, True)
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    f = expression.evaluate(x, y)
    assert f.dtype == torch.float64
    assert f.item() == pytest.approx(6.0, abs=1e-12)  # 2*3 + sin(2*pi)
    grad_x, grad_y = torch.autograd.grad(f, (x, y))
    # By hand: df/dx = y + pi*cos(pi*x) = 3 + pi, df/dy = x = 2.
    assert grad_x.item() == pytest.approx(3 + math.pi, rel=1e-12)
    assert grad_y.item() == pytest.approx(2.0, rel=1e-12)

    dfdx, dfdy = expression.derivatives()
    assert sympy.simplify(dfdx - (Y + sympy.pi * sympy.cos(sympy.pi * X))) == 0
    assert sympy.simplify(dfdy - X) == 0
    assert str(dfdx) == "y + pi*cos(pi*x)"
    at = {X: 2, Y: 3}
    assert float(dfdx.subs(at)) == pytest.approx(3 + math.pi, rel=1e-12)
    assert float(dfdy.subs(at)) == pytest.approx(2.0, rel=1e-12)


def test_sympy_expression_uses_real_symbols_and_is_cached() -> None:
    expression = parse("x*y + sin(pi*x)")
    f = expression.sympy_expr()
    assert f == X * Y + sympy.sin(sympy.pi * X)
    assert f.free_symbols == {X, Y}
    assert expression.sympy_expr() is f
    assert expression.derivatives() is expression.derivatives()
    assert parse("x*y + sin(pi*x)").sympy_expr() is f  # equal expressions share the cache


def test_small_integers_stay_exact_in_derivatives() -> None:
    dfdx, dfdy = parse("x^2 + 3*y").derivatives()
    assert str(dfdx) == "2*x"
    assert dfdy == 3
    assert parse("x/3").sympy_expr() == X / 3


# --- Evaluation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "x", "y", "expected"),
    [
        ("-x**2", 3.0, 0.0, -9.0),  # -(x**2), as in Python
        ("-x^2", 3.0, 0.0, -9.0),
        ("2^3^2", 0.0, 0.0, 512.0),  # power is right-associative
        ("2**3**2", 0.0, 0.0, 512.0),
        ("(2^3)^2", 0.0, 0.0, 64.0),
        ("x^2+1", 3.0, 0.0, 10.0),
        ("2*-x", 3.0, 0.0, -6.0),
        ("2^-1", 0.0, 0.0, 0.5),
        ("x - y - 1", 5.0, 2.0, 2.0),  # left to right
        ("x / y / 2", 12.0, 3.0, 2.0),
        ("x - (y - 1)", 5.0, 2.0, 4.0),
        ("+x", 1.5, 0.0, 1.5),
        ("--x", 1.5, 0.0, 1.5),
        ("x ^ -y", 2.0, 1.0, 0.5),
        ("1e-3*x", 2.0, 0.0, 0.002),
        ("2.5E+4", 0.0, 0.0, 25000.0),
        (".5 + 3.", 0.0, 0.0, 3.5),
        ("e", 0.0, 0.0, math.e),
        ("pi", 0.0, 0.0, math.pi),
        ("e*x + pi*y", 2.0, 3.0, 2 * math.e + 3 * math.pi),
        ("\tx +  y ", 1.0, 2.0, 3.0),  # blanks anywhere, tabs included
    ],
)
def test_precedence_and_numbers(text: str, x: float, y: float, expected: float) -> None:
    assert value_at(text, x, y) == pytest.approx(expected, rel=1e-15)


def _sign(v: float) -> float:
    return float((v > 0) - (v < 0))


# Reference implementations written independently of torch, with points inside each domain.
ONE_ARGUMENT: list[tuple[str, Callable[[float], float], list[float]]] = [
    ("sin", math.sin, [-0.7, 0.3, 2.5]),
    ("cos", math.cos, [-0.7, 0.3, 2.5]),
    ("tan", math.tan, [-0.7, 0.3, 2.5]),
    ("asin", math.asin, [-0.7, 0.3, 0.9]),
    ("acos", math.acos, [-0.7, 0.3, 0.9]),
    ("atan", math.atan, [-0.7, 0.3, 2.5]),
    ("sinh", math.sinh, [-0.7, 0.3, 2.5]),
    ("cosh", math.cosh, [-0.7, 0.3, 2.5]),
    ("tanh", math.tanh, [-0.7, 0.3, 2.5]),
    ("exp", math.exp, [-0.7, 0.3, 2.5]),
    ("log", math.log, [0.7, 1.0, 2.5]),
    ("log2", math.log2, [0.7, 8.0, 2.5]),
    ("log10", math.log10, [0.7, 100.0, 2.5]),
    ("sqrt", math.sqrt, [0.0, 0.3, 2.5]),
    ("abs", abs, [-0.7, 0.0, 2.5]),
    ("sign", _sign, [-0.7, 0.0, 2.5]),
    ("floor", lambda v: float(math.floor(v)), [-0.7, 0.3, 2.5]),
    ("ceil", lambda v: float(math.ceil(v)), [-0.7, 0.3, 2.5]),
    ("sigmoid", lambda v: 1 / (1 + math.exp(-v)), [-0.7, 0.3, 2.5]),
    ("relu", lambda v: max(v, 0.0), [-0.7, 0.0, 2.5]),
    ("softplus", lambda v: math.log1p(math.exp(v)), [-0.7, 0.3, 2.5]),
]


@pytest.mark.parametrize(("name", "reference", "points"), ONE_ARGUMENT)
def test_one_argument_functions(
    name: str, reference: Callable[[float], float], points: list[float]
) -> None:
    got = parse(f"{name}(x)").evaluate(f64(points), f64(0.0))
    assert got.dtype == torch.float64
    assert got.tolist() == pytest.approx([reference(p) for p in points], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    ("name", "reference"),
    [("min", min), ("max", max), ("atan2", math.atan2)],
)
def test_two_argument_functions(name: str, reference: Callable[[float, float], float]) -> None:
    xs, ys = [-0.7, 0.3, 2.5, -2.0], [0.4, -1.5, 2.5, -0.1]
    got = parse(f"{name}(x, y)").evaluate(f64(xs), f64(ys))
    expected = [reference(a, b) for a, b in zip(xs, ys, strict=True)]
    assert got.tolist() == pytest.approx(expected, rel=1e-12)


def test_functions_table_lists_every_function_with_its_arity() -> None:
    assert {name for name, _, _ in ONE_ARGUMENT} | {"min", "max", "atan2"} == set(FUNCTIONS)
    assert all(FUNCTIONS[name] == 2 for name in ("min", "max", "atan2"))
    assert sum(FUNCTIONS.values()) == len(FUNCTIONS) + 3
    assert (MAX_LENGTH, MAX_DEPTH) == (1000, 100)


def test_outside_the_domain_gives_nan_or_inf_without_warnings() -> None:
    values = parse("log(x) + sqrt(x) + asin(x)").evaluate(f64([-1.0, 2.0]), f64(0.0))
    assert torch.isnan(values).all()
    assert value_at("1/x", 0.0, 0.0) == math.inf
    assert value_at("1e300*x", 1e300, 0.0) == math.inf


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("1e999", 1, "1e999 is too large for float64"),
        ("9" * 400 + "*x", 1, "is too large for float64"),  # a literal past float range
        ("9**9**9**9", 4, "9**9**9 is too large for float64"),  # right-associative
        ("1/0 + x", 1, "1/0 is undefined: division by zero"),
        ("x + log(-1)", 5, "log(-1) is undefined: log of a negative number"),
        ("y*sqrt(-2)", 3, "sqrt(-2) is undefined: sqrt of a negative number"),
        ("x/(2-2)", 1, "x/(2-2) is undefined: division by zero"),
        ("x^(0^-1)", 4, "0^-1 is undefined: zero to a negative power"),
        ("acos(3)*x", 1, "acos of a number outside [-1, 1]"),
        ("(-8)^(1/3) + y", 1, "a negative number to a non-integer power"),
        ("exp(-1/0)", 5, "-1/0 is undefined"),  # undefined even where a later step heals it
    ],
)
def test_constant_parts_that_are_undefined_are_refused(
    text: str, column: int, message: str
) -> None:
    # f would be undefined (or infinite) everywhere: refused with the part and its column.
    with pytest.raises(ParseError) as error:
        parse(text)
    assert message in error.value.message
    assert error.value.column == column


def test_huge_power_tower_is_inf_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Powers of two numbers are folded in float64: sympy is never asked for an exact power of
    # numbers, which for 9**9**9**9 would have more digits than memory holds.
    exact_pow = sympy.Pow

    def pow_of_symbols_only(base: object, exponent: object, **kwargs: object) -> sympy.Expr:
        assert not (sympy.sympify(base).is_Number and sympy.sympify(exponent).is_Number)
        return exact_pow(base, exponent, **kwargs)

    # The parser refuses 9**9**9**9 (infinite everywhere); the sympy conversion of its tree
    # still must not try the exact power.
    with pytest.raises(ParseError, match="too large for float64"):
        parse("9**9**9**9")
    tree = Pow(Num(9.0), Pow(Num(9.0), Pow(Num(9.0), Num(9.0))))
    assert float(evaluate_tree(tree, f64(0.0), f64(0.0), torch_functions())) == math.inf
    monkeypatch.setattr(sympy, "Pow", pow_of_symbols_only)
    f = to_sympy(tree)
    assert f == sympy.oo
    assert partial_derivatives(f) == (0, 0)


def test_broadcasting_a_column_with_a_row() -> None:
    x = f64([[1.0], [2.0], [3.0]])  # (3, 1)
    y = f64([[10.0, 20.0, 30.0, 40.0]])  # (1, 4)
    got = parse("x + y").evaluate(x, y)
    assert got.shape == (3, 4)
    assert got.dtype == torch.float64
    assert torch.equal(got, x + y)
    only_y = parse("y^2").evaluate(x, y)  # one variable still gets the full shape
    assert only_y.shape == (3, 4)
    assert torch.equal(only_y[2], y[0] ** 2)


def test_grid_with_evaluate_numpy() -> None:
    xs, ys = np.linspace(-2.0, 2.0, 5), np.linspace(-1.0, 1.0, 7)
    xs.flags.writeable = False  # read-only input must not warn
    z = parse("x^2 + 10*y^2").evaluate_numpy(xs[:, None], ys[None, :])
    assert isinstance(z, np.ndarray)
    assert z.shape == (5, 7)
    assert z.dtype == np.float64
    np.testing.assert_allclose(z, xs[:, None] ** 2 + 10 * ys[None, :] ** 2, rtol=1e-15)


def test_other_dtypes_come_back_as_float64() -> None:
    got = parse("x*y").evaluate(torch.tensor([1.5], dtype=torch.float32), f64([2.0]))
    assert got.dtype == torch.float64
    assert got.tolist() == [3.0]


def test_constant_function_has_the_shape_and_a_zero_gradient() -> None:
    expression = parse("2 + pi")
    assert (expression.uses_x, expression.uses_y) == (False, False)
    x = torch.zeros((3, 1), dtype=torch.float64, requires_grad=True)
    y = torch.zeros((1, 4), dtype=torch.float64, requires_grad=True)
    f = expression.evaluate(x, y)
    assert f.shape == (3, 4)
    assert f.dtype == torch.float64
    assert torch.all(f == 2 + math.pi)
    assert not f.requires_grad  # no graph: the caller treats the gradient as zero
    assert expression.derivatives() == (0, 0)
    assert parse("x - x").derivatives() == (0, 0)


def test_a_bare_variable_is_a_new_tensor() -> None:
    x = f64([1.0, 2.0])
    got = parse("x").evaluate(x, f64([0.0, 0.0]))
    assert got is not x
    got[0] = 99.0
    assert x[0] == 1.0


def test_autograd_through_a_batch_of_points() -> None:
    p = torch.tensor([[1.0, 2.0], [-0.5, 0.25]], dtype=torch.float64, requires_grad=True)
    f = parse("x^2*y + exp(y)").evaluate(p[:, 0], p[:, 1])
    torch.autograd.backward(f.sum())
    assert p.grad is not None
    expected = [[2 * 1.0 * 2.0, 1.0 + math.exp(2.0)], [2 * -0.5 * 0.25, 0.25 + math.exp(0.25)]]
    assert p.grad.tolist() == [pytest.approx(row, rel=1e-12) for row in expected]


def test_sympy_forms_of_the_functions() -> None:
    a = X + 1
    expected = {
        "sigmoid(x+1)": 1 / (1 + sympy.exp(-a)),
        "relu(x+1)": sympy.Max(0, a),
        "softplus(x+1)": sympy.log(1 + sympy.exp(a)),
        "log2(x+1)": sympy.log(a) / sympy.log(2),
        "log10(x+1)": sympy.log(a) / sympy.log(10),
        "abs(x+1)": sympy.Abs(a),
        "ceil(x+1)": sympy.ceiling(a),
        "floor(x+1)": sympy.floor(a),
        "min(x+1, y)": sympy.Min(a, Y),
        "atan2(y, x+1)": sympy.atan2(Y, a),
    }
    for text, form in expected.items():
        assert sympy.simplify(parse(text).sympy_expr() - form) == 0, text


def test_constant_powers_are_folded_in_float64() -> None:
    assert parse("2^10").sympy_expr() == 1024
    assert parse("pi^2*x").sympy_expr() == sympy.Float(math.pi**2) * X
    assert parse("x^(9^9)").sympy_expr() == X ** sympy.Float(9.0**9)


# --- Errors ----------------------------------------------------------------------------------

BAD: list[tuple[str, int, str]] = [
    ("", 1, "enter a function of x and y"),
    ("   ", 1, "enter a function of x and y"),
    ("z", 1, "unknown name 'z': use x and y"),
    ("x + y + z", 9, "unknown name 'z'"),
    ("PI*x", 1, "did you mean 'pi'"),
    # Implicit multiplication: the column is that of the second factor, where '*' is missing.
    ("2x", 2, "write 2*x"),
    ("2(x+1)", 2, "write 2*(x+1)"),
    ("x(y)", 2, "write x*(y)"),
    ("(x)(y)", 4, "write (x)*(y)"),
    ("x y", 3, "write x*y"),
    ("2 sin(x)", 3, "write 2*sin(x)"),
    ("sin(x", 4, "missing closing parenthesis"),
    ("(x + (y)", 1, "missing closing parenthesis"),
    ("x)", 2, "unmatched ')'"),
    ("x +", 4, "missing a value after '+'"),
    ("* x", 1, "missing a value before '*'"),
    ("atan2(x)", 1, "atan2 takes 2 arguments"),
    ("sin(x, y)", 1, "sin takes 1 argument"),
    ("sin", 1, "'sin' is a function"),
    ("foo(x)", 1, "unknown function 'foo'"),
    ("ln(x)", 1, "use log"),
    ("x.real", 2, "attribute access"),
    ("'x' + y", 1, "text in quotes"),
    ("x[0]", 2, "square brackets"),
    ("{x}", 1, "curly braces"),
    ("lambda: x", 1, "'lambda'"),
    ("(x for x in y)", 1, "comprehensions"),
    ("sin(x=1)", 5, "keyword arguments"),
    ("sin(*x)", 5, "missing a value before '*'"),
    ("x < y", 3, "comparisons ('<')"),
    ("x == y", 3, "comparisons ('==')"),
    ("x and y", 3, "'and'"),
    ("not x", 1, "'not'"),
    ("x if y else 1", 3, "'if ... else'"),
    ("x // 2", 3, "'//'"),
    ("x % 2", 3, "'%'"),
    ("x @ y", 3, "'@'"),
    ("x & y", 3, "'&'"),
    ("~x", 1, "'~'"),
    ("x = 1", 3, "'=' is not allowed"),
    ("(y := 2)", 4, "':='"),
    ("import os", 1, "'import'"),
    ("x; y", 2, "';'"),
    ("x # note", 3, "comments"),
    ("x\ny", 2, "one line"),
    ("x\x00", 2, "null character"),
    ("x\u00a0+ y", 2, "invisible character"),
    ("x \N{MULTIPLICATION SIGN} y", 3, "use * to multiply"),
    ("1,5", 2, "like 1.5"),
    ("0x1F", 1, "decimal"),
    ("2j", 1, "complex"),
    ("007", 1, "write 7"),
    ("1.2.3", 1, "not a number"),
    ("True", 1, "'True'"),
    ("()", 1, "empty parentheses"),
    # Non-ASCII text: columns count characters, not the UTF-8 bytes ast reports.
    ("\u00e9+z", 1, "unknown name '\u00e9'"),
    ("x + \u00fc", 5, "unknown name '\u00fc'"),
    ("\u00e9.real", 2, "attribute access"),
    ("\u00e9\u00e9 < x", 4, "comparisons"),
    ("(\u00e9, \u00fc)", 3, "comma"),
    ("\uff58 + y", 1, "unknown name '\uff58'"),  # a fullwidth x is not x
    ("\u00e9 + 2x", 1, "unknown name"),
    # '^' is read as '**': columns still count the user's own characters (z is the 7th).
    ("x^2 + z", 7, "unknown name 'z'"),
    ("x^2^2 < y", 7, "comparisons"),
    ("x^^2", 3, "missing a value after '^'"),
    # Size limits: a ParseError, never a RecursionError or a hang.
    ("x" * (2 * MAX_LENGTH + 1), MAX_LENGTH + 1, "too long"),
    ("(" * 300 + "x" + ")" * 300, MAX_DEPTH + 1, "nested too deeply"),
    ("sin(" * 101 + "x" + ")" * 101, 404, "nested too deeply"),
    ("-" * 500 + "x", MAX_DEPTH + 1, "nested too deeply"),
    ("-" * 999 + "x", MAX_DEPTH + 1, "nested too deeply"),
    # x**x**...: the chain's 100th power holds its left x at depth 101, at column 3*99 + 1.
    ("x**" * 333 + "x", 298, "nested too deeply"),
    ("x^" * 499 + "x", 199, "nested too deeply"),
]


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    BAD,
    ids=[f"{i}:{text[:16]!r}" for i, (text, _, _) in enumerate(BAD)],
)
def test_bad_expressions_name_the_problem_and_its_column(
    text: str, column: int, fragment: str
) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    error = caught.value
    assert fragment in error.message
    assert str(error) == error.message
    assert error.column == column, error.message


def test_long_flat_sums_are_not_deep() -> None:
    text = "+".join(["x"] * 499)  # 997 characters, one level of sum
    assert value_at(text, 1.0, 0.0) == 499.0
    assert parse(text).sympy_expr() == 499 * X


def test_caret_marks_the_column() -> None:
    text = "x + y + z"
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.caret(text) == "x + y + z\n" + " " * 8 + "^"
    assert ParseError("past the end", 4).caret("x +") == "x +\n   ^"
    assert ParseError("tab", 3).caret("\tx y") == "\tx y\n\t ^"


def test_errors_and_expressions_pickle() -> None:
    error = ParseError("unknown name 'z': use x and y", 5)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.column, str(copy)) == (error.message, 5, error.message)
    expression = parse("x^2 + max(x, y)")
    clone = pickle.loads(pickle.dumps(expression))
    assert clone == expression
    assert hash(clone) == hash(expression)
    assert clone.evaluate(f64(3.0), f64(10.0)).item() == 19.0


def test_expression_constructor_checks_its_flags() -> None:
    assert Expression("x + 1", True, False) == parse("x + 1")
    with pytest.raises(ValueError, match="do not match"):
        Expression("x + 1", False, False)
    with pytest.raises(ParseError):
        Expression("x +", True, False)


def test_parse_takes_only_text() -> None:
    with pytest.raises(ParseError):
        parse(42)  # type: ignore[arg-type]


def test_presets_like_formulas_parse() -> None:
    for text in [
        "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
        "(1 - x)**2 + 100*(y - x**2)**2",
        "-20*exp(-0.2*sqrt(0.5*(x**2 + y**2))) - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20",
        "sin(x,)",  # Python's trailing comma is harmless
    ]:
        assert parse(text).uses_x


# --- Robustness ------------------------------------------------------------------------------

TOKENS = [
    "x", "y", "(", ")", "+", "-", "*", "/", "^", "**", " ", ",", ".", "2", "0", "1e", "9",
    "e", "pi", "sin", "exp", "log", "sqrt", "abs", "max", "min", "atan2", "sigmoid", "softplus",
    "relu", "log2", "floor", "z", "=", "[", "'", "\u00e9",
]  # fmt: skip
SMALL_X = f64([0.5, -1.25, 3.0])
SMALL_Y = f64([2.0, 0.0, -0.75])


def _tree_size(node: Node) -> int:
    """How many nodes the compiled tree has."""
    if isinstance(node, Neg):
        return 1 + _tree_size(node.operand)
    if isinstance(node, Pow):
        return 1 + _tree_size(node.base) + _tree_size(node.exponent)
    if isinstance(node, Chain):
        return 1 + _tree_size(node.first) + sum(_tree_size(operand) for _, operand in node.rest)
    if isinstance(node, Call):
        return 1 + sum(_tree_size(arg) for arg in node.args)
    return 1  # Num, Var, Const


def _assert_sympy_stays_small(text: str, f: sympy.Expr) -> None:
    """What keeps sympy from blowing up: it holds the function about as written, no bigger,
    and no exact number past the size where sympy's exact powers get slow."""
    assert sum(1 for _ in _parts(f)) <= 8 * _tree_size(compile_text(text)[0])
    assert not _big_rationals(f)


def _parse_quickly(text: str) -> Expression | None:
    """parse, which must answer with an Expression or a ParseError, and build no more than the
    text holds: a tree of at most one node per character (so at most MAX_LENGTH nodes)."""
    try:
        expression = parse(text)
    except ParseError as error:
        assert error.message
        assert 1 <= error.column <= max(len(text), 1) + 1
        return None
    assert _tree_size(compile_text(text)[0]) <= len(text) <= MAX_LENGTH
    return expression


@pytest.mark.parametrize(
    "text",
    ["x" * (2 * MAX_LENGTH + 1), "(" * 300 + "x" + ")" * 300, "sin(" * 101 + "x" + ")" * 101],
    ids=["too long", "deep brackets", "deep calls"],
)
def test_hostile_text_is_refused_before_pythons_parser_sees_it(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("Python's parser was given text past the limits")

    monkeypatch.setattr(parser_module.ast, "parse", no_parse)
    with pytest.raises(ParseError, match=r"too long|nested too deeply"):
        compile_text.__wrapped__(text)  # past the cache: the checks run afresh


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_text_gives_an_expression_or_a_parse_error(text: str) -> None:
    _parse_quickly(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_language_soup_parses_evaluates_and_converts(text: str) -> None:
    expression = _parse_quickly(text)
    if expression is None:
        return
    values = expression.evaluate(SMALL_X, SMALL_Y)
    assert values.dtype == torch.float64
    assert values.shape == (3,)
    assert all(isinstance(v, float) for v in values.tolist())
    f = expression.sympy_expr()
    assert isinstance(f, sympy.Expr)
    assert f.free_symbols <= {X, Y}
    _assert_sympy_stays_small(text, f)


def test_deep_but_valid_nests_convert_to_sympy_quickly() -> None:
    for text in [
        "sigmoid(" * 99 + "x" + ")" * 99,
        "abs(x+" * 49 + "y" + ")" * 49,
        "max(x, " * 49 + "y" + ")" * 49,
        "exp(9999*log(exp(9999*log(9999*x))))",
    ]:
        f = parse(text).sympy_expr()
        assert isinstance(f, sympy.Expr)
        _assert_sympy_stays_small(text, f)


def test_import_and_parse_load_neither_torch_nor_sympy() -> None:
    code = (
        "import sys\n"
        "import explorer.core.expression as m\n"
        "m.parse('x*y + sin(pi*x)')\n"
        "try:\n"
        "    m.parse('2x')\n"
        "except m.ParseError:\n"
        "    pass\n"
        "print(sorted(name for name in ('torch', 'sympy') if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_literal_and_computed_constants_agree() -> None:
    # Literals take torch's scalar fast paths; constant subexpressions stay tensors.
    # Both must give the same values and gradients.
    x = torch.tensor([-1.5, 0.0, 0.3, 2.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0.5, -2.0, 1.0, 3.0], dtype=torch.float64)
    pairs = [
        (
            "(x**2 + y - 11)**2 + (x + y**2 - 7)**2",
            "(x**(1+1) + y - (10+1))**(4-2) + (x + y**(3-1) - 7*1)**(1+1)",
        ),
        ("x/2 - pi*y + e", "x/(1+1) - (pi+0)*y + (e+0)"),
        ("abs(x)**0.5", "abs(x)**(1/2)"),
    ]
    for literal, computed in pairs:
        grads = []
        values = []
        for text in (literal, computed):
            x.grad = None
            value = parse(text).evaluate(x, y)
            value.sum().backward()
            assert x.grad is not None
            values.append(value.detach().clone())
            grads.append(x.grad.clone())
        torch.testing.assert_close(values[0], values[1], rtol=1e-15, atol=0.0)
        torch.testing.assert_close(grads[0], grads[1], rtol=1e-15, atol=0.0, equal_nan=True)
