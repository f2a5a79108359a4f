"""What one request may ask for: steps per path, point-steps of work, and memory for rows kept.

The CLI checks every command against these limits before it computes anything, and says which
limit a request passes and what it would need.
"""

from __future__ import annotations

# Most optimiser steps in one path.
MAX_STEPS = 1_000_000
# Most point-steps (starts x steps) one request may compute: a 512 x 512 basin map of 8192
# steps, or 2147 paths of a million steps.
MAX_POINT_STEPS = 1 << 31
# Most memory for the rows a request keeps (every row of every path, for a CSV or a session).
MAX_ROW_BYTES = 1 << 30
# One row of one path: x, y, f and the two gradient components, float64 each.
ROW_BYTES = 5 * 8


class BudgetError(ValueError):
    """A request over a documented limit; the message gives the limit and what it would need."""


_FLOAT_MAX = 1.7976931348623157e308


def size_text(count: float) -> str:
    """A byte count for people: 40 B, 38.1 MiB, 3.7 GiB, 1.5 TiB."""
    # A count past float's range (a whole number typed with hundreds of digits) would
    # overflow the division below: any such count is shown as the largest float.
    count = float(count) if count < _FLOAT_MAX else _FLOAT_MAX
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def check_steps(steps: int) -> None:
    """Refuse a path longer than MAX_STEPS, saying what its rows alone would need."""
    if steps > MAX_STEPS:
        raise BudgetError(
            f"{steps} steps is above the limit of {MAX_STEPS} steps per path "
            f"(one path's rows would need {size_text((steps + 1) * ROW_BYTES)})"
        )


def check_rows(rows: int, request: str) -> None:
    """Refuse a request (named in the message) that would keep more rows than MAX_ROW_BYTES."""
    need = rows * ROW_BYTES
    if need > MAX_ROW_BYTES:
        raise BudgetError(
            f"{request} would keep {size_text(need)} of rows, above the limit of "
            f"{size_text(MAX_ROW_BYTES)} ({MAX_ROW_BYTES // ROW_BYTES} rows of {ROW_BYTES} bytes)"
        )


def check_work(paths: int, steps: int, *, keep_rows: bool, what: str = "") -> None:
    """Refuse paths x steps over MAX_POINT_STEPS, or rows kept over MAX_ROW_BYTES."""
    check_steps(steps)
    request = f"{what or f'{paths} paths'} x {steps} steps"
    if keep_rows:
        check_rows(paths * (steps + 1), request)
    work = paths * steps
    if work > MAX_POINT_STEPS:
        raise BudgetError(
            f"{request} is {work:.3g} point-steps, above the limit of {MAX_POINT_STEPS:.3g}: "
            f"at most {MAX_POINT_STEPS // paths} steps for {paths} paths"
        )
