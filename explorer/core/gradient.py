"""The gradient at a point, worked out twice: symbolically ("by hand") and by torch autograd."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from explorer.core.expression import Expression

if TYPE_CHECKING:
    import sympy


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


def autograd_gradient(expression: Expression, x: float, y: float) -> tuple[float, float, float]:
    """f(x, y) and its gradient from one backward pass, in float64."""
    import torch

    point = torch.tensor([x, y], dtype=torch.float64, requires_grad=True)
    value = expression.evaluate(point[0], point[1])
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


def gradient_report(expression: Expression, x: float, y: float) -> GradientReport:
    """The tutorial's slide: f, df/dx and df/dy by hand with their values, and autograd's."""
    f, gx, gy = autograd_gradient(expression, x, y)
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


def start_note(expression: Expression, start: tuple[float, float]) -> str:
    """Why a run cannot leave its start: 'f is undefined at the start: log of a negative number'.

    '' where f and its gradient are finite at the start.
    """
    return point_note(expression, start, "at the start")


def point_note(expression: Expression, point: tuple[float, float], place: str = "") -> str:
    """Why f or its gradient is not finite at a finite point, in words ('' where both are).

    place names the point ('at the start'); by default its coordinates.
    """
    x, y = point
    if not (math.isfinite(x) and math.isfinite(y)):
        return ""
    place = place or f"at ({x:.6g}, {y:.6g})"
    f, gx, gy = autograd_gradient(expression, x, y)
    if not math.isfinite(f):
        problem = expression.undefined_at(x, y)
        return problem.where(place) if problem else f"f is not a finite number {place}"
    if not (math.isfinite(gx) and math.isfinite(gy)):
        return f"the gradient of f is not finite {place}"
    return ""
