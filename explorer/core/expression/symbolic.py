"""The compiled tree as sympy, and its derivatives worked symbolically."""

from __future__ import annotations

import functools
import math
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from explorer.core.expression.evaluation import constant_value
from explorer.core.expression.tree import Chain, Const, Neg, Node, Num, Pow, Var

# sympy and torch are imported inside the functions that need them: importing this module must
# stay cheap.
if TYPE_CHECKING:
    import sympy


# Integer-valued numbers become exact sympy Integers (so derivatives print as `2*x`, not `2.0*x`)
# only below this size. Every exact rational in a sympy expression is kept below it as well:
# sympy raises exact numbers to exact powers eagerly (exp(n*log(c)) -> c**n, (c*x)**n -> c**n*x**n),
# and 9999**9999 takes milliseconds where 999999**999999 takes seconds.
_EXACT_LIMIT: Final = 10_000


@functools.cache
def _symbols() -> tuple[sympy.Symbol, sympy.Symbol]:
    """The real symbols x and y."""
    import sympy

    return sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)


@functools.cache
def _sympy_functions() -> dict[str, Callable[..., sympy.Expr]]:
    """The language's functions as sympy callables taking an `evaluate` flag."""
    # evaluate=False (used when an argument has x or y) keeps a function as written: sympy's own
    # simplification of nested abs(), max(), sigmoid(), ... asks for signs through every level
    # and costs seconds to minutes. But exp of anything holding a log is always evaluated: sympy
    # rewrites exp(k*log(u)) as u**k, and that must happen here, where the numbers are kept
    # small, not later inside diff(), where exp(k*log(exp(k*log(c*x)))) would become an exact
    # c**(k*k). sqrt, a power, is always evaluated too.
    import sympy

    def plain(function: Any) -> Callable[..., sympy.Expr]:
        def build(*args: sympy.Expr, evaluate: bool) -> sympy.Expr:
            return function(*args, evaluate=evaluate)

        return build

    def always(function: Any) -> Callable[..., sympy.Expr]:
        def build(*args: sympy.Expr, evaluate: bool) -> sympy.Expr:
            return function(*args)

        return build

    one = sympy.Integer(1)

    def exp(a: sympy.Expr, evaluate: bool = True) -> sympy.Expr:
        return sympy.exp(a, evaluate=evaluate or _has_log(a))

    def log_base(base: int) -> Callable[..., sympy.Expr]:
        def build(a: sympy.Expr, evaluate: bool) -> sympy.Expr:
            log_a = sympy.log(a, evaluate=evaluate)
            return sympy.Mul(log_a, sympy.Pow(sympy.log(base), -1), evaluate=evaluate)

        return build

    def sigmoid(a: sympy.Expr, evaluate: bool) -> sympy.Expr:
        # Pow(1 + exp(-a), -1) evaluated asks for the sign of its base, level after level.
        minus_a = sympy.Mul(-one, a, evaluate=evaluate)  # -a would distribute into a's terms
        one_plus = sympy.Add(one, exp(minus_a, evaluate), evaluate=evaluate)
        return sympy.Pow(one_plus, -one, evaluate=evaluate)

    def relu(a: sympy.Expr, evaluate: bool) -> sympy.Expr:
        return sympy.Max(sympy.Integer(0), a, evaluate=evaluate)

    def softplus(a: sympy.Expr, evaluate: bool) -> sympy.Expr:
        return sympy.log(sympy.Add(one, exp(a, evaluate), evaluate=evaluate), evaluate=evaluate)

    names = "sin cos tan asin acos atan sinh cosh tanh log sign floor atan2"
    table = {name: plain(getattr(sympy, name)) for name in names.split()}
    table.update(
        exp=exp,
        sqrt=always(sympy.sqrt),
        log2=log_base(2),
        log10=log_base(10),
        abs=plain(sympy.Abs),
        ceil=plain(sympy.ceiling),
        # Unevaluated Min/Max stay binary (evaluated ones compare every pair of flattened
        # arguments: 100 nested max() take minutes) and still differentiate.
        min=plain(sympy.Min),
        max=plain(sympy.Max),
        sigmoid=sigmoid,
        relu=relu,
        softplus=softplus,
    )
    return table


def _sympy_number(value: float) -> sympy.Expr:
    """A float64 value as sympy: small integers exact, others Float, inf as oo, nan as nan."""
    import sympy

    if math.isnan(value):
        return sympy.nan
    if math.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    if value.is_integer() and abs(value) < _EXACT_LIMIT:
        return sympy.Integer(int(value))
    return sympy.Float(value)


def _float_of(value: sympy.Expr) -> float | None:
    """A variable-free sympy value as float64 (nan if not real), or None if sympy cannot say."""
    try:
        number = complex(value)
    except (ArithmeticError, TypeError, ValueError, NotImplementedError):
        # sympy's evalf gives up on some exact values (PrecisionExhausted for floor(exp(700))).
        return None
    return number.real if number.imag == 0 else math.nan


def _numeric(node: Node, value: sympy.Expr, constant: bool) -> float:
    """The float64 value of a variable-free sympy value built from node."""
    if constant:
        return constant_value(node)
    # x and y were written but cancelled (x - x): only sympy knows the value.
    number = _float_of(value)
    return math.nan if number is None else number


class _Sym(NamedTuple):
    """A node converted to sympy."""

    expr: sympy.Expr
    constant: bool  # written without x and y
    symbolic: bool  # still has x or y after sympy's evaluation (x - x has not)


def _parts(value: sympy.Expr) -> Iterator[sympy.Expr]:
    """Every distinct subexpression of value, value included."""
    # An explicit stack: sympy's own traversals nest generators, O(depth) per item.
    seen = {value}
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        for arg in item.args:
            if arg not in seen:
                seen.add(arg)
                stack.append(arg)


def _big_rationals(value: sympy.Expr) -> dict[sympy.Expr, sympy.Expr]:
    """Exact numbers at or past _EXACT_LIMIT in value, each mapped to its Float."""
    # evalf, not Float(item): Float goes through str(), which refuses integers of 4300+ digits.
    return {
        item: item.evalf()
        for item in _parts(value)
        if item.is_Rational and (abs(item.p) >= _EXACT_LIMIT or item.q >= _EXACT_LIMIT)
    }


def _has_log(value: sympy.Expr) -> bool:
    """Whether value contains a logarithm."""
    import sympy

    return any(isinstance(item, sympy.log) for item in _parts(value))


def _finish(value: sympy.Expr, node: Node, constant: bool, symbolic: bool) -> _Sym:
    """Tame what sympy evaluated: small exact numbers, and real finite values without x or y."""
    import sympy

    if symbolic and value.free_symbols:
        big = _big_rationals(value)
        return _Sym(value.xreplace(big) if big else value, constant, True)
    exact = _float_of(value)
    usable = exact is not None and math.isfinite(exact) and not _big_rationals(value)
    if not constant:
        # x and y were written but cancelled (x - x): only sympy knows the value.
        if usable or value in (sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            return _Sym(value, constant, False)
        return _Sym(_sympy_number(math.nan), constant, False)
    # Written without x and y: keep the exact form (pi/4, sqrt(2)) only where it agrees with
    # the float64 value that evaluate computes. Elsewhere float64 wins: atan2(0, 0) is 0, not
    # nan; 1/0 is inf, not zoo; atan2(inf, inf) is pi/4; 2**10000 is inf.
    number = constant_value(node)
    if usable and exact is not None and math.isclose(exact, number, rel_tol=1e-9, abs_tol=1e-12):
        return _Sym(value, constant, False)
    return _Sym(_sympy_number(number), constant, False)


def _to_sympy(node: Node) -> _Sym:
    """One node as sympy (recursion is bounded by MAX_DEPTH)."""
    import sympy

    if isinstance(node, Num):
        return _Sym(_sympy_number(node.value), True, False)
    if isinstance(node, Var):
        x, y = _symbols()
        return _Sym(x if node.name == "x" else y, False, True)
    if isinstance(node, Const):
        return _Sym(sympy.pi if node.name == "pi" else sympy.E, True, False)
    if isinstance(node, Neg):
        inner = _to_sympy(node.operand)
        return _finish(-inner.expr, node, inner.constant, inner.symbolic)
    if isinstance(node, Pow):
        base, exponent = _to_sympy(node.base), _to_sympy(node.exponent)
        constant = base.constant and exponent.constant
        if base.symbolic or exponent.symbolic:
            return _finish(sympy.Pow(base.expr, exponent.expr), node, constant, True)
        # Both sides are numbers: fold in float64 (inf allowed), so 9**9**9**9 never becomes
        # a gigantic exact integer.
        import torch

        folded = torch.pow(
            torch.tensor(_numeric(node.base, base.expr, base.constant), dtype=torch.float64),
            torch.tensor(
                _numeric(node.exponent, exponent.expr, exponent.constant), dtype=torch.float64
            ),
        )
        return _Sym(_sympy_number(float(folded)), constant, False)
    if isinstance(node, Chain):
        parts = [_to_sympy(node.first)]
        terms = [parts[0].expr]
        for op, operand in node.rest:
            part = _to_sympy(operand)
            parts.append(part)
            term = -part.expr if op == "-" else part.expr
            terms.append(sympy.Pow(term, -1) if op == "/" else term)
        # One n-ary Add or Mul: sympy flattens nested binary ones in quadratic time.
        result = sympy.Add(*terms) if node.rest[0][0] in "+-" else sympy.Mul(*terms)
        constant = all(part.constant for part in parts)
        return _finish(result, node, constant, any(part.symbolic for part in parts))
    converted = [_to_sympy(arg) for arg in node.args]
    constant = all(arg.constant for arg in converted)
    function = _sympy_functions()[node.name]
    symbolic = any(arg.symbolic for arg in converted)
    try:
        result = function(*(arg.expr for arg in converted), evaluate=not symbolic)
    except (ValueError, TypeError, ArithmeticError, NotImplementedError):
        # sympy refuses some numbers (min(pi, nan): "nan is not comparable"); use float64.
        number = constant_value(node) if constant else math.nan
        return _Sym(_sympy_number(number), constant, False)
    return _finish(result, node, constant, symbolic)


class _RecursionRoom:
    """Raises the recursion limit while sympy works, and restores it when the last user leaves."""

    # sympy recurses once per level of an expression, several frames each: a 100-deep sigmoid()
    # nest needs more than Python's default 1000 frames. Threads share the limit, hence the count.

    LIMIT: Final = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = 0

    def __enter__(self) -> None:
        with self._lock:
            if self._users == 0:
                self._saved = sys.getrecursionlimit()
                sys.setrecursionlimit(max(self._saved, self.LIMIT))
            self._users += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                sys.setrecursionlimit(self._saved)


_RECURSION_ROOM: Final = _RecursionRoom()


def to_sympy(tree: Node) -> sympy.Expr:
    """The compiled tree as a sympy expression in real symbols x and y."""
    with _RECURSION_ROOM:
        return _to_sympy(tree).expr


def partial_derivatives(f: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """(df/dx, df/dy) of a sympy expression from to_sympy."""
    import sympy

    x, y = _symbols()
    with _RECURSION_ROOM:
        dfdx, dfdy = sympy.diff(f, x), sympy.diff(f, y)
        # diff multiplies exact numbers (the chain rule brings exponents down): keep them small.
        return dfdx.xreplace(_big_rationals(dfdx)), dfdy.xreplace(_big_rationals(dfdy))
