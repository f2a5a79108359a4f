"""The gradient at a point, worked out twice: symbolically ("by hand") and by torch autograd.

Every point analysis here and in core.analysis takes a Target: a parsed expression, or any
Landscape (a function, a model's full-data loss). Autograd differentiates the objective of
either; the symbolic derivatives exist only where there is a formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from explorer.core.expression import Expression
from explorer.core.landscape import FunctionLandscape, Landscape, Objective

if TYPE_CHECKING:
    import sympy

# What the point analyses differentiate: f typed as a formula, or any landscape's objective.
Target = Expression | Landscape


def objective_of(target: Target) -> Objective:
    """The differentiable f(x, y) of an expression or a landscape."""
    return target.evaluate if isinstance(target, Expression) else target.objective


def expression_of(target: Target) -> Expression | None:
    """The formula behind a target; None for a landscape without one (a model on data)."""
    if isinstance(target, Expression):
        return target
    return target.expression if isinstance(target, FunctionLandscape) else None


@dataclass(frozen=True)
class GradientReport:
    """f, the autograd gradient, and the symbolic partial derivatives with their values."""

    x: float
    y: float
    f: float
    grad: tuple[float, float]
    symbolic: tuple[str, str]
    symbolic_values: tuple[float | None, float | None]
    # Why f is not a finite number here ("f is undefined at (-1, 1): log of a negative
    # number"); then f and both gradients are NaN, so no number looks valid.
    undefined: str | None = None
    # False where there is no formula to differentiate by hand (a model on data): symbolic is
    # then ("", "") and only autograd's numbers exist.
    has_formula: bool = True


def autograd_gradient(target: Target, x: float, y: float) -> tuple[float, float, float]:
    """f(x, y) and its gradient from one backward pass, in float64."""
    import torch

    point = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
    value = objective_of(target)(point[0], point[1])
    if not value.requires_grad:
        return float(value), 0.0, 0.0
    (grad,) = torch.autograd.grad(value, point)
    return float(value.detach()), float(grad[0]), float(grad[1])


def _symbolic_value(expr: sympy.Expr, x: float, y: float) -> float | None:
    import sympy

    symbols = {s.name: s for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    subs = {symbols[name]: value for name, value in (("x", x), ("y", y)) if name in symbols}
    try:
        value = complex(expr.subs(subs).evalf())
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if value.imag != 0 or not math.isfinite(value.real):
        return None
    return value.real


def gradient_report(target: Target, x: float, y: float) -> GradientReport:
    """The tutorial's slide: f, df/dx and df/dy by hand with their values, and autograd's.

    Without a formula (a model on data) only autograd's gradient, with has_formula False.
    """
    f, gx, gy = autograd_gradient(target, x, y)
    expression = expression_of(target)
    if expression is None:
        if not math.isfinite(f):
            nan = math.nan
            message = f"the loss is not a finite number at ({x:.6g}, {y:.6g})"
            return GradientReport(x, y, nan, (nan, nan), ("", ""), (None, None), message, False)
        return GradientReport(x, y, f, (gx, gy), ("", ""), (None, None), None, False)
    dfdx, dfdy = expression.derivatives()
    if not math.isfinite(f):
        problem = expression.undefined_at(x, y)
        # numpy may find f finite where torch did not (a last-bit overflow): say so plainly.
        message = problem.at(x, y) if problem else f"f is not a finite number at ({x:.6g}, {y:.6g})"
        nan = math.nan
        return GradientReport(x, y, nan, (nan, nan), (str(dfdx), str(dfdy)), (None, None), message)
    return GradientReport(
        x=x,
        y=y,
        f=f,
        grad=(gx, gy),
        symbolic=(str(dfdx), str(dfdy)),
        symbolic_values=(_symbolic_value(dfdx, x, y), _symbolic_value(dfdy, x, y)),
    )


def start_note(expression: Target, start: tuple[float, float]) -> str:
    """Why a run cannot leave its start: 'f is undefined at the start: log of a negative number'.

    '' where f and its gradient are finite at the start.
    """
    return point_note(expression, start, "at the start")


def point_note(expression: Target, point: tuple[float, float], place: str = "") -> str:
    """Why f or its gradient is not finite at a finite point, in words ('' where both are).

    place names the point ('at the start'); by default its coordinates.
    """
    x, y = point
    if not (math.isfinite(x) and math.isfinite(y)):
        return ""
    place = place or f"at ({x:.6g}, {y:.6g})"
    f, gx, gy = autograd_gradient(expression, x, y)
    if not math.isfinite(f):
        formula = expression_of(expression)
        problem = formula.undefined_at(x, y) if formula is not None else None
        return problem.where(place) if problem else f"f is not a finite number {place}"
    if not (math.isfinite(gx) and math.isfinite(gy)):
        return f"the gradient of f is not finite {place}"
    return ""
