"""`grad`: f, the symbolic partial derivatives and their values, and the autograd gradient."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from explorer.cli import common

NAME = "grad"


def add_parser(sub: Any) -> None:
    """Register the `grad` subcommand."""
    grad = sub.add_parser(NAME, help="the gradient at a point, symbolically and by autograd")
    common.add_function_options(grad)
    grad.add_argument("--at", metavar="X,Y", type=common.pair, required=True)
    grad.add_argument("--json", action="store_true", help="print one JSON object only")


def command(args: argparse.Namespace, out: TextIO) -> int:
    """Print the gradient at --at both ways, as a table or JSON."""
    from explorer.core.gradient import gradient_report

    expression = common.load_function(args)
    report = gradient_report(expression, *args.at)
    if report.undefined is not None:
        # No numbers that look valid: f and its gradient do not exist there.
        raise common.UsageError(report.undefined)
    if args.json:
        payload = {
            "f": common.finite(report.f),
            "grad": [common.finite(report.grad[0]), common.finite(report.grad[1])],
            "symbolic": list(report.symbolic),
        }
        common.write_json(payload, out)
        return 0
    x, y = args.at
    out.write(f"f(x, y) = {expression.text}\n")
    out.write(f"at (x, y) = ({x:g}, {y:g}):  f = {common.fmt(report.f)}\n\n")
    rows = [("", "by hand (symbolic)", "value", "autograd")]
    for name, formula, value, auto in zip(
        ("df/dx", "df/dy"), report.symbolic, report.symbolic_values, report.grad, strict=True
    ):
        rows.append(
            (
                name,
                formula,
                common.fmt(value) if value is not None else "undefined",
                common.fmt(auto),
            )
        )
    common.write_table(rows, out)
    out.write(f"\ngradient = ({common.fmt(report.grad[0])}, {common.fmt(report.grad[1])})\n")
    return 0
