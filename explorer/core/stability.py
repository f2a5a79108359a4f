"""Why a run diverged: compare the learning rate with the curvature limit at its start."""

from __future__ import annotations

import math

from explorer.core.gradient import Target
from explorer.core.trajectory import number_text


def stable_lr(expression: Target, x: float, y: float) -> float | None:
    """2 / lambda_max of the Hessian at (x, y); None where f curves nowhere upward or is undefined.

    Plain gradient descent on a quadratic with largest curvature lambda_max diverges exactly
    when lr > 2 / lambda_max (each step multiplies that component by 1 - lr * lambda_max).
    """
    from explorer.core.analysis import hessian_report

    try:
        lr_max = hessian_report(expression, x, y).lr_max
    except (ArithmeticError, ValueError, RuntimeError):
        return None
    if lr_max is None or not math.isfinite(lr_max) or lr_max <= 0:
        return None
    return float(lr_max)


def stability_note(
    expression: Target,
    start: tuple[float, float],
    lr: float,
    end: tuple[float, float] | None = None,
) -> str:
    """'lr 0.01 is above 2 / lambda_max = 0.00096 at the start', or '' if it is not above.

    Where f or its gradient is not finite at the start, why instead (core.gradient.start_note).
    With the point where the run stopped, first why f is not finite there, if it is not
    ('f is undefined at (-0.09, 1): log of a negative number').
    """
    from explorer.core.gradient import point_note, start_note

    undefined = start_note(expression, start)
    if undefined:
        return undefined
    notes = [point_note(expression, end)] if end is not None else []
    lr_max = stable_lr(expression, *start)
    if lr_max is not None and lr > lr_max:
        notes.append(
            f"lr {number_text(lr)} is above 2 / lambda_max = {number_text(lr_max, 2)} at the start"
        )
    return "; ".join(note for note in notes if note)
